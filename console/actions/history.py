"""Which version served production before: Rollbook's own action history merged with the
registry's stage history. Registries such as MLflow keep no history of their production
alias, so the audit log is the source of truth where both speak."""

from __future__ import annotations

from datetime import datetime, timedelta

from console.actions.plan import PlanWarning, RecentMitigation
from console.enums import EventKind
from console.workspace import Workspace

MOVES_PRODUCTION = ("rollback", "promote", "rollout")


def production_history(ws: Workspace, model: str) -> list[tuple[datetime, str, str]]:
    """``(time, version, source)`` for each time ``model``'s production pointer moved, oldest
    first."""
    items: list[tuple[datetime, str, str]] = [
        (c.at, c.version, "registry")
        for c in ws.backends.registry.stage_history(model)
        if c.to_stage == "Production"
    ]
    for ev in ws.store.events(all_incidents=True, kind_prefix="action.finished"):
        p = ev.payload
        if p.get("model") == model and p.get("action") in MOVES_PRODUCTION and p.get("to"):
            items.append((ev.ts, str(p["to"]), "rollbook"))
    items.sort(key=lambda x: x[0])
    return items


def known_bad(ws: Workspace, model: str) -> set[str]:
    """Versions Rollbook rolled back *from* — also by a rollback that ended partially applied
    (traffic moved off the version, the pointer did not): never pick them as a rollback
    target, and never send traffic back to one when removing a canary."""
    bad = set()
    for ev in ws.store.events(all_incidents=True, kind_prefix="action."):
        if ev.kind not in (EventKind.ACTION_FINISHED, EventKind.ACTION_PARTIAL):
            continue
        p = ev.payload
        moved = p.get("from") and p.get("from") != p.get("to")
        if p.get("model") == model and p.get("action") == "rollback" and moved:
            bad.add(str(p["from"]))
    return bad


def previous_good(ws: Workspace, model: str, current: str | None) -> str | None:
    """The last version that served production before ``current`` took over and was not
    rolled back from (Rollbook's audit log and the registry's own history — stages, or the
    ``rollbook.promoted`` tags Rollbook writes); else, for a registry with no such history,
    the newest earlier version whose gates did not fail (no gate results is "not recorded",
    not a failure).

    Only entries older than ``current``'s latest entry in the production history count: a
    version labelled Production after that (a canary promoted by stage label while pointer
    and traffic stayed put) never served, and is no rollback target."""
    bad = known_bad(ws, model) | ({current} if current else set())
    history = production_history(ws, model)
    took_over = max((at for at, version, _ in history if version == current), default=None)
    for at, version, _ in reversed(history):
        if took_over is not None and at >= took_over:
            continue
        if version not in bad:
            return version
    versions = ws.backends.registry.versions(model)
    names = [v.version for v in versions]
    upto = names.index(current) if current in names else len(names)
    for v in reversed(versions[:upto]):
        if v.version not in bad and not v.lineage.gates_failed:
            return v.version
    return None


RECENT = timedelta(hours=6)
MITIGATIONS = ("rollback", "killswitch", "restore", "rollout")


def recent_mitigations(
    ws: Workspace, model: str, *, within: timedelta = RECENT
) -> list[RecentMitigation]:
    """The mitigations Rollbook applied to ``model`` in the last ``within``, newest first —
    so a second R at 3 AM says that the first one already happened."""
    now = ws.now()
    out = []
    for ev in ws.store.events(all_incidents=True, kind_prefix="action.finished"):
        p = ev.payload
        if p.get("model") != model or p.get("action") not in MITIGATIONS:
            continue
        if now - ev.ts > within:
            continue
        out.append(
            RecentMitigation(
                str(p.get("action")),
                p.get("from"),
                p.get("to"),
                ev.ts.isoformat(),
                ev.actor,
                round((now - ev.ts).total_seconds() / 60.0, 1),
            )
        )
    out.sort(key=lambda r: r.at, reverse=True)
    return out


def standing_rollback(
    ws: Workspace, model: str, current: str | None, *, within: timedelta = RECENT
) -> dict | None:
    """The Rollbook rollback that brought ``model`` to ``current`` in the last ``within`` and
    is still its last production move (no promotion, rollout or pointer move since), as
    ``{"from", "to", "at", "actor", "minutes_ago"}``; else None. Rolling back again without
    naming a version is then a no-op: a repeated rollback must not walk further back."""
    if current is None:
        return None
    last = None
    for ev in ws.store.events(all_incidents=True, kind_prefix="action.finished"):
        p = ev.payload
        if p.get("model") == model and p.get("action") in (*MOVES_PRODUCTION, "pointer"):
            last = ev
    if (
        last is None
        or last.payload.get("action") != "rollback"
        or str(last.payload.get("to")) != current
    ):
        return None
    now = ws.now()
    if now - last.ts > within:
        return None
    return {
        "from": last.payload.get("from"),
        "to": current,
        "at": last.ts,
        "actor": last.actor,
        "minutes_ago": round((now - last.ts).total_seconds() / 60.0, 1),
    }


VERBS = {
    "rollback": "rolled back",
    "killswitch": "kill switch",
    "restore": "restored",
    "rollout": "rolled out",
}


def recent_warnings(
    recent: list[RecentMitigation],
    *,
    rollback_from: str | None = None,
    rollback_to: str | None = None,
) -> list[PlanWarning]:
    """One warning per recent mitigation, for the plan. For a rollback, a recent rollback
    that brought the model to the version this one now leaves is said to be gone further
    back from — only when that is true."""
    out = []
    for r in recent:
        move = f" {r.from_} → {r.to}" if r.from_ or r.to else ""
        text = f"{VERBS.get(r.action, r.action)}{move} {r.minutes_ago:g} min ago by {r.actor}"
        further = (
            r.action == "rollback"
            and rollback_from is not None
            and r.to == rollback_from
            and rollback_to not in (None, rollback_from)
        )
        if further:
            out.append(
                PlanWarning("further_back", f"{text} — this rolls back further, to {rollback_to}")
            )
        else:
            out.append(PlanWarning("recent_mitigation", text))
    return out
