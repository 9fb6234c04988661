"""`rollbook store migrate`: move a team onto a shared PostgreSQL store."""

from __future__ import annotations

from pathlib import Path

import click

from console.cli.common import console_out, json_option, print_json


@click.group()
def store() -> None:
    """The incident store: SQLite (embedded, the default) or PostgreSQL (a team's)."""


@store.command("migrate")
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The SQLite store to copy (default: this home's incidents.db).",
)
@click.option(
    "--dsn-env",
    default=None,
    metavar="NAME",
    help="The environment variable holding the PostgreSQL DSN (default: [store] dsn_env, "
    "ROLLBOOK_STORE_DSN).",
)
@json_option
@click.pass_context
def migrate_cmd(
    ctx: click.Context, source: Path | None, dsn_env: str | None, as_json: bool
) -> None:
    """Copy a SQLite store into an empty PostgreSQL database: every incident and event as
    it is, each chain's head equal on both sides, the copy verified. Then set
    `[store] backend = "postgres"` in everyone's config.toml."""
    import os

    from console.config import load
    from console.errors import ConfigError, NotFound
    from console.store.migrate import migrate
    from console.store.postgres import PostgresStore
    from console.store.sqlite import SqliteStore

    cfg = load()
    path = source or cfg.data_dir / "incidents.db"
    if not path.exists():
        raise NotFound(f"no SQLite store at {path}", hint="name one with --from PATH")
    name = dsn_env or cfg.store.dsn_env
    dsn = os.environ.get(name)
    if not dsn:
        raise ConfigError(
            cfg.path,
            "store.dsn_env",
            f"the environment variable {name} is not set",
            hint=f"export {name}='postgresql://user@host/db'",
        )
    with SqliteStore(path) as src, PostgresStore(dsn) as dst:
        report = migrate(src, dst)
    if as_json:
        print_json(report)
    else:
        console_out().print(
            f"copied {report.incidents} incidents and {report.events} events in "
            f"{report.chains} chains from {path}; verified, heads digest {report.head[:16]}…",
            markup=False,
        )
