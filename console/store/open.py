"""Which store a workspace opens: ``[store]`` in config.toml.

``backend = "sqlite"`` (the default: ``incidents.db`` in the data dir) or ``backend =
"postgres"`` with ``dsn_env = "ROLLBOOK_STORE_DSN"`` — the *name* of the environment variable
holding the DSN, never the DSN itself (it carries a password)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from console.errors import ConfigError

BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class StoreConfig:
    backend: str = "sqlite"
    dsn_env: str = "ROLLBOOK_STORE_DSN"


if TYPE_CHECKING:
    from console.config import Config
    from console.store.base import Store


def open_store(where: Config | Path | str, *, clock: Callable[[], datetime] | None = None) -> Store:
    """The store for a config (its ``[store]`` table), or the SQLite store in a data dir."""
    from console.store.sqlite import SqliteStore

    if isinstance(where, Path | str):
        return SqliteStore(Path(where) / "incidents.db", clock=clock)
    cfg: StoreConfig = getattr(where, "store", None) or StoreConfig()
    if cfg.backend == "sqlite":
        return SqliteStore(where.data_dir / "incidents.db", clock=clock)
    dsn = os.environ.get(cfg.dsn_env)
    if not dsn:
        raise ConfigError(
            where.path,
            "store.dsn_env",
            f"the environment variable {cfg.dsn_env} is not set",
            hint=f"export {cfg.dsn_env}='postgresql://user@host/db' (never in config.toml)",
        )
    from console.store.postgres import PostgresStore

    return PostgresStore(dsn, clock=clock)
