"""Silences of the embedded world, with Alertmanager's semantics: a silence holds label
matchers (all must match), a start and an end, its author and comment; while it is active
the alerts it matches are left out of ``active_alerts`` (as Alertmanager leaves silenced
alerts out of its active list), so they open no incident. Expiring ends it now.

Kept in the world's SQLite file, so the TUI, a CLI call and a drill see the same silences.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import timedelta

from console.backends.types import Alert
from console.errors import ActionRefused, InvalidInput, NotFound
from console.silences import Matcher, Silence, parse_matchers
from plugins.embedded.db import create_table
from plugins.embedded.engine import SimulationEngine, from_ts


def ensure_table(world: SimulationEngine) -> None:
    # Created on first use, so a world file from before silences keeps working.
    if getattr(world, "_silences_table", False):
        return
    with world.lock:
        create_table(
            world.db,
            "silences",
            {
                "id": str,
                "matchers": str,  # JSON list of "label=value" texts as given
                "starts_at": float,
                "ends_at": float,
                "created_by": str,
                "comment": str,
            },
            pk="id",
        )
        world._silences_table = True  # type: ignore[attr-defined]


def create(
    world: SimulationEngine,
    matchers: list[str] | tuple[str, ...],
    *,
    author: str,
    comment: str,
    duration: timedelta,
) -> str:
    parsed = parse_matchers(matchers)
    if duration.total_seconds() <= 0:
        raise InvalidInput("a silence needs a positive duration")
    if not comment.strip() or not author.strip():
        raise InvalidInput("a silence needs an author and a comment")
    ensure_table(world)
    start = world.now_ts()
    sid = str(uuid.uuid4())
    with world.tx() as conn:
        conn.execute(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment)"
            " VALUES (?,?,?,?,?,?)",
            (
                sid,
                json.dumps([str(m) for m in parsed]),
                start,
                start + duration.total_seconds(),
                author,
                comment,
            ),
        )
    return sid


def expire(world: SimulationEngine, silence_id: str) -> None:
    ensure_table(world)
    now = world.now_ts()
    with world.tx() as conn:
        row = conn.execute(
            "SELECT starts_at, ends_at FROM silences WHERE id = ?", (silence_id,)
        ).fetchone()
        if row is None:
            raise NotFound(
                f"no silence {silence_id!r}", hint="see them with: rollbook silence list"
            )
        if row[1] <= now:
            raise ActionRefused(f"silence {silence_id} has already expired")
        # A pending silence ends before it starts, like Alertmanager's.
        conn.execute(
            "UPDATE silences SET ends_at = ?, starts_at = MIN(starts_at, ?) WHERE id = ?",
            (now, now, silence_id),
        )


def _state(starts: float, ends: float, now: float) -> str:
    if ends <= now:
        return "expired"
    return "pending" if starts > now else "active"


def all_silences(world: SimulationEngine) -> list[Silence]:
    ensure_table(world)
    now = world.now_ts()
    rows = world.q(
        "SELECT id, matchers, starts_at, ends_at, created_by, comment FROM silences"
        " ORDER BY starts_at, id"
    )
    return [
        Silence(sid, tuple(json.loads(m)), from_ts(s), from_ts(e), by, c, _state(s, e, now))
        for sid, m, s, e, by, c in rows
    ]


def active_matchers(world: SimulationEngine) -> list[list[Matcher]]:
    """The matcher sets of the silences active now."""
    ensure_table(world)
    now = world.now_ts()
    rows = world.q("SELECT matchers FROM silences WHERE starts_at <= ? AND ends_at > ?", (now, now))
    return [parse_matchers(json.loads(r[0])) for r in rows]


def unsilenced(alerts: Iterable[Alert], silences: list[list[Matcher]]) -> list[Alert]:
    """The alerts no active silence matches (a silence matches when all its matchers do)."""
    if not silences:
        return list(alerts)
    return [a for a in alerts if not any(all(m.matches(_labels(a)) for m in ms) for ms in silences)]


def _labels(a: Alert) -> dict[str, str]:
    # ``name`` as an alias of ``alertname`` for people who write the field's name.
    return {
        "name": a.name,
        **a.labels,
        "alertname": a.name,
        "model": a.model,
        "severity": a.severity,
    }
