"""Where a rollback goes, and what a person should know first.

The target (``choose_target``), in this order:
1. ``--to VERSION``: that version (rule ``explicit``);
2. a rollback that already brought the model here (and nothing moved since): nothing to do;
3. a canary, or any version other than the production pointer's, takes traffic beside the
   production version: remove it and send all traffic to the production version, which keeps
   the pointer (rule ``remove_canary``; the canary is not promoted). When the production
   version takes no traffic at all (a SPLIT: the registry moved without traffic, or traffic
   without the registry), the next rule applies;
4. otherwise the version that served production before the current one took over (rule
   ``previous_production``).
"""

from __future__ import annotations

from console.actions.calls import call
from console.actions.history import (
    known_bad,
    previous_good,
    production_history,
    standing_rollback,
)
from console.actions.plan import PlanWarning, same_routes
from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES
from console.enums import ActionKind
from console.errors import ActionRefused, RollbookError
from console.workspace import Workspace

FALLBACK_ROUTES = (FALLBACK_RULES, FALLBACK_MANUAL)
#: Actions that undo a mitigation: never offered as one.
UNDOING = ("restore", "resume_batch")


def choose_target(
    ws: Workspace,
    model: str,
    current: str | None,
    routes: dict[str, float],
    to: str | None = None,
) -> tuple[str, str, str, dict | None, str | None]:
    """The rollback's target and the rule that chose it: ``(target, rule, why, already,
    further)`` — see the module's docstring. The runbook's ``versions.previous`` is this
    target too, so a step's title and the plan never name two different versions.
    Raises ActionRefused when there is no earlier good version."""
    serving = {k: w for k, w in routes.items() if w > 0 and k not in FALLBACK_ROUTES}
    extra = {k: w for k, w in serving.items() if k != current}
    already = None
    if current and (to is None or to == current) and same_routes(routes, {current: 100.0}):
        # Idempotent: when the last production move was a rollback to the current version and
        # traffic is still all on it, rolling back again without naming a version changes
        # nothing. Going further back takes an explicit --to.
        already = standing_rollback(ws, model, current)
    further = None
    if to is not None:
        target, rule, why = to, "explicit", f"the version named with --to ({to})"
    elif already and current:
        target, rule = current, "already_rolled_back"
        why = f"{current} is where the last rollback brought {model}"
        further = previous_good(ws, model, current)
    elif current and current in serving and extra and current not in known_bad(ws, model):
        target, rule = current, "remove_canary"
        share = sum(extra.values())
        names = ", ".join(f"{k} ({w:g}%)" for k, w in extra.items())
        why = (
            f"{names} take{'s' if len(extra) == 1 else ''} {share:g}% of traffic beside the "
            f"production version {current}: the rollback removes "
            f"{'it' if len(extra) == 1 else 'them'} and sends all traffic to {current}, "
            "which keeps the production pointer (the canary is not promoted)"
        )
    else:
        prev = previous_good(ws, model, current)
        if prev is None:
            raise ActionRefused(
                f"no earlier good version of {model} to roll back to",
                hint="name one with --to VERSION, or use the kill switch",
            )
        target, rule, why = prev, "previous_production", _previous_why(ws, model, current, prev)
    return target, rule, why, already, further


def _previous_why(ws: Workspace, model: str, current: str | None, prev: str) -> str:
    took = [at for at, version, _ in production_history(ws, model) if version == current]
    if current and took:
        days = (ws.now() - max(took)).total_seconds() / 86400.0
        when = f"{days:.1f} days ago" if days >= 1 else f"{days * 24:.1f} h ago"
        return f"{prev} served production before {current} took over {when}"
    return f"{prev} is the newest earlier version whose gates passed"


def noop_message(model: str, target: str, already: dict | None, further: str | None) -> str:
    if not already:
        return f"{model} already on {target}; nothing changed"
    go = (
        f"to go further back name the version: --to {further}"
        if further
        else "there is no earlier good version to go further back to"
    )
    return (
        f"{model} was already rolled back {already['from']} → {already['to']} "
        f"{already['minutes_ago']:g} min ago by {already['actor']}; nothing changed — {go}"
    )


def no_change_warning(
    ws: Workspace, model: str, incident_id: str | None
) -> tuple[PlanWarning, tuple[str, ...]] | None:
    """When the model's open incident has a known onset and nothing moved in the lookback
    before it, a rollback cannot undo the cause: say so, with the runbook's alternatives."""
    from console.actions.recorder import incident_for
    from console.changes import changes_before
    from console.runbooks.context import incident_onset

    iid = incident_for(ws, model, incident_id)
    if iid is None:
        return None
    inc = ws.store.get(iid)
    onset = incident_onset(inc) or inc.detected_at
    if onset is None or changes_before(ws, model, onset):
        return None
    hours = ws.config.thresholds["change_lookback_hours"]
    alternatives = tuple(runbook_alternatives(ws, inc.id, exclude=ActionKind.ROLLBACK))
    text = (
        f"nothing moved in the {hours:g} h before the onset ({onset:%H:%M} UTC) — no deploy, "
        "promotion, canary or traffic change — so the cause is likely upstream data and a "
        "rollback may not help"
    )
    if alternatives:
        text += ". The runbook offers: " + "; ".join(alternatives)
    return PlanWarning("no_change_before_onset", text), alternatives


def runbook_alternatives(ws: Workspace, incident_id: str, *, exclude: str) -> list[str]:
    """The other mitigations the incident's runbook offers (pending action steps of the
    mitigate and fix phases that change production), and the kill switch when the model has
    a fallback ladder — named for a person: "Pause the churn batch job (step pause_batch)"."""
    from console.enums import CHANGES_SERVING

    out: list[str] = []
    inc = ws.store.get(incident_id)
    if inc.runbook:
        try:
            from console.runbooks.engine import Engine

            for s in Engine(ws, inc.id).steps():
                if s.kind != "action" or s.phase not in ("mitigate", "fix") or s.settled:
                    continue
                name = {"set_traffic": "traffic"}.get(s.name or "", s.name or "")
                if name in CHANGES_SERVING and name != exclude and name not in UNDOING:
                    out.append(f"{s.title} — runbook step {s.id}")
        except RollbookError:
            pass
    if exclude != ActionKind.KILLSWITCH:
        try:
            if ws.backends.traffic.fallbacks(inc.model):
                # the console's key as the user's [keys] bound it (the registry is headless)
                from console.keymap import effective, key_of

                key = key_of(effective(ws.config.keys), "killswitch")
                via = f"{key}, or " if key else ""
                out.append(f"the kill switch ({via}rollbook killswitch {inc.model})")
        except RollbookError:
            pass
    return out


def version_name(ws: Workspace, model: str, to: str, timeout: float) -> str:
    """``--to 13`` means ``v13`` when the registry's versions are v-prefixed and 13 is not a
    version itself."""
    names = {
        v.version
        for v in call(
            ws.backends.registry.versions, model, timeout=timeout, what="registry.versions"
        )
    }
    if to not in names and f"v{to}" in names:
        return f"v{to}"
    return to
