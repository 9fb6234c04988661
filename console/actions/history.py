"""Which version served production before: Rollbook's own action history merged with the
registry's stage history. Registries such as MLflow keep no history of their production
alias, so the audit log is the source of truth where both speak."""

from __future__ import annotations

from datetime import datetime

from console.workspace import Workspace

MOVES_PRODUCTION = ("rollback", "promote", "rollout")


def production_history(ws: Workspace, model: str) -> list[tuple[datetime, str, str]]:
    """``(time, version, source)`` for each time ``model``'s production pointer moved, oldest
    first."""
    items: list[tuple[datetime, str, str]] = [
        (c.at, c.version, "registry")
        for c in ws.backends.registry.stage_history(model) if c.to_stage == "Production"
    ]
    for ev in ws.store.events(all_incidents=True, kind_prefix="action.finished"):
        p = ev.payload
        if p.get("model") == model and p.get("action") in MOVES_PRODUCTION and p.get("to"):
            items.append((ev.ts, str(p["to"]), "rollbook"))
    items.sort(key=lambda x: x[0])
    return items


def known_bad(ws: Workspace, model: str) -> set[str]:
    """Versions Rollbook rolled back *from*: never pick them as a rollback target."""
    bad = set()
    for ev in ws.store.events(all_incidents=True, kind_prefix="action.finished"):
        p = ev.payload
        if p.get("model") == model and p.get("action") == "rollback" and p.get("from"):
            bad.add(str(p["from"]))
    return bad


def previous_good(ws: Workspace, model: str, current: str | None) -> str | None:
    """The last version that served production before ``current`` and was not rolled back
    from; else the newest earlier version whose gates passed."""
    bad = known_bad(ws, model) | ({current} if current else set())
    for _, version, _ in reversed(production_history(ws, model)):
        if version not in bad:
            return version
    versions = ws.backends.registry.versions(model)
    names = [v.version for v in versions]
    upto = names.index(current) if current in names else len(names)
    for v in reversed(versions[:upto]):
        if v.version not in bad and v.lineage.gates_passed:
            return v.version
    return None
