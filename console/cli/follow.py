"""`rollbook incident follow ID`: an incident's timeline as it happens."""

from __future__ import annotations

import contextlib
import json

import click

from console.cli.common import console_out, env_option, json_option, to_jsonable


@click.command("follow")
@click.argument("incident_id")
@click.option(
    "--since",
    "after_position",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Start after the incident's N-th event (default: from its first).",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Stop after N events (scripts, tests).",
)
@json_option
@env_option
@click.pass_context
def follow_cmd(
    ctx: click.Context, incident_id: str, after_position: int, count: int | None, as_json: bool
) -> None:
    """Print INCIDENT_ID's events, then each new one within a second of another person
    writing it (LISTEN/NOTIFY on PostgreSQL, a cheap change poll on SQLite). With --json,
    one event object per line. A lost store connection is reported (with the time of the
    last event) and retried; nothing is lost or repeated when it is back. Ctrl+C stops."""
    from console.config import load
    from console.live import follow
    from console.store import open_store

    cfg = load()
    with open_store(cfg) as store:
        inc = store.get(incident_id.upper())
    out = console_out()
    seen = 0

    def on_event(ev) -> None:
        nonlocal seen
        seen += 1
        if as_json:
            click.echo(json.dumps(to_jsonable(ev)), nl=True)
        else:
            out.print(
                f"{ev.ts:%H:%M:%S} #{ev.position:<4} {ev.actor:<10} {ev.kind:<24} {ev.message}",
                markup=False,
                soft_wrap=True,
            )
        out.file.flush()

    def on_status(text: str) -> None:
        click.echo(text, err=True)

    with contextlib.suppress(KeyboardInterrupt):
        follow(
            lambda: open_store(cfg),
            inc.id,
            on_event=on_event,
            on_status=on_status,
            stop=lambda: count is not None and seen >= count,
            after_position=after_position,
        )
