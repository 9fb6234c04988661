"""What moved before an incident: deploys, promotions, canaries, traffic and pointer changes.

"Nobody deployed anything" does not mean nothing changed (DOMAIN.md) — but when nothing that
Rollbook can see moved before the onset, rolling back cannot undo the cause, and a plan must
say so before the key is pressed. The lineage check and the rollback plan both read this.

Sources, each optional: the registry's stage history (capability ``stage_history``), the
traffic backend's weight history (capability ``route_history``) and Rollbook's own audit log
(every action that changed production through Rollbook).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.enums import CHANGES_SERVING, EventKind
from console.errors import RollbookError
from console.workspace import Workspace

SERVING_STAGES = ("Canary", "Shadow", "Production")


@dataclass(frozen=True)
class Change:
    """One thing that moved: ``kind`` is ``stage`` (a version moved to Canary, Shadow or
    Production), ``traffic`` (weights changed), or ``action`` (an action Rollbook applied)."""

    at: datetime
    kind: str
    what: str
    source: str
    actor: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "what": self.what,
            "source": self.source,
            "actor": self.actor,
        }


def changes_between(ws: Workspace, model: str, start: datetime, end: datetime) -> list[Change]:
    """Changes to ``model`` recorded in ``[start, end]``, oldest first. A source that cannot
    be read is skipped (the answer is then "nothing that could be read moved")."""
    from console.fleet import format_routes

    out: list[Change] = []
    b = ws.backends
    try:
        for c in b.registry.stage_history(model):
            if start <= c.at <= end and c.to_stage in SERVING_STAGES:
                out.append(
                    Change(c.at, "stage", f"{c.version} → {c.to_stage}", "registry", c.actor)
                )
    except RollbookError:
        pass
    try:
        for r in b.traffic.route_history(model, start):
            if r.at <= end:
                out.append(Change(r.at, "traffic", format_routes(r.routes), "traffic", r.actor))
    except RollbookError:
        pass
    for ev in ws.store.events(all_incidents=True, kind_prefix=EventKind.ACTION_FINISHED):
        p = ev.payload
        if p.get("model") != model or p.get("action") not in CHANGES_SERVING:
            continue
        if start <= ev.ts <= end:
            moved = f" {p.get('from')} → {p.get('to')}" if p.get("from") or p.get("to") else ""
            out.append(Change(ev.ts, "action", f"{p.get('action')}{moved}", "rollbook", ev.actor))
    out.sort(key=lambda c: c.at)
    return out


def changes_before(
    ws: Workspace, model: str, onset: datetime, *, hours: float | None = None
) -> list[Change]:
    """Changes in the ``hours`` (default: the ``change_lookback_hours`` threshold, 24) up to
    and including the onset."""
    lookback = hours if hours is not None else ws.config.thresholds["change_lookback_hours"]
    return changes_between(ws, model, onset - timedelta(hours=lookback), onset)
