"""Emergency rollback: back to the last known-good serving state. Traffic first (it stops the
bleeding), then the registry's production pointer; both read back and the target probed.

The target (``plan_rollback``), in this order:
1. ``--to VERSION``: that version (rule ``explicit``);
2. a rollback that already brought the model here (and nothing moved since): nothing to do;
3. a canary, or any version other than the production pointer's, takes traffic: remove it and
   send all traffic to the production version, which keeps the pointer (rule
   ``remove_canary``; the canary is not promoted);
4. otherwise the version that served production before the current one took over (rule
   ``previous_production``).

When the registry step fails after traffic moved, the traffic stays on the known-good target
(undoing it would restore the harm) and the action ends explicitly *partially applied* with
the exact commands that finish or undo it.
"""

from __future__ import annotations

from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.history import (
    known_bad,
    previous_good,
    production_history,
    recent_mitigations,
    recent_warnings,
    standing_rollback,
)
from console.actions.plan import Check, Plan, PlanWarning, same_routes, traffic_command
from console.actions.recorder import ActionRecorder
from console.actions.results import ActionResult, ReadBack
from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES
from console.enums import ActionKind, ActionStatus
from console.errors import ActionRefused, NotFound, RollbookError
from console.fleet import format_routes
from console.workspace import Workspace

__all__ = [
    "OVERRIDABLE",
    "execute_rollback",
    "plan_rollback",
    "preflight",
    "rollback",
    "same_routes",
    "traffic_command",
]

OVERRIDABLE = ("exists", "artifact", "gates", "health")
#: Actions that undo a mitigation: never offered as one.
UNDOING = ("restore", "resume_batch")
FALLBACK_ROUTES = (FALLBACK_RULES, FALLBACK_MANUAL)


def preflight(
    ws: Workspace,
    model: str,
    target: str,
    overrides: tuple[str, ...] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[Check]:
    """Exists, artifact hash matches lineage, gates passed, healthy — each a Check."""
    unknown = set(overrides) - set(OVERRIDABLE)
    if unknown:
        raise ActionRefused(
            f"cannot override {', '.join(sorted(unknown))}",
            hint=f"overridable checks: {', '.join(OVERRIDABLE)}",
        )
    reg, traffic = ws.backends.registry, ws.backends.traffic

    def check(name: str, ok: bool, detail: str) -> Check:
        return Check(name, ok, detail, overridden=(not ok and name in overrides))

    try:
        mv = call(reg.version, model, target, timeout=timeout, what="registry.version")
    except NotFound:
        names = [v.version for v in call(reg.versions, model, timeout=timeout)]
        return [
            check(
                "exists",
                False,
                f"{model} has no version {target} (versions: {', '.join(names[-8:]) or 'none'})",
            )
        ]
    checks = [check("exists", True, f"{model} {target} is in the registry (stage {mv.stage})")]
    checks.append(_artifact_check(reg, model, target, mv.lineage.artifact_hash, check, timeout))
    failed = [g for g, ok in mv.lineage.gates.items() if not ok]
    checks.append(
        check(
            "gates",
            bool(mv.lineage.gates) and not failed,
            "all gates passed"
            if mv.lineage.gates and not failed
            else f"gates failed: {', '.join(failed)}"
            if failed
            else "no gate results",
        )
    )
    try:
        h = call(traffic.probe, model, target, timeout=timeout, what="traffic.probe")
        checks.append(
            check("health", h.healthy, h.detail or ("healthy" if h.healthy else "unhealthy"))
        )
    except RollbookError as exc:
        checks.append(check("health", False, f"probe failed: {exc.message}"))
    return checks


def _artifact_check(
    reg: Any, model: str, target: str, recorded: str, check: Any, timeout: float
) -> Check:
    """The stored artifact's hash against the lineage record. A hash that cannot be had
    (none recorded, the registry cannot compute one, or computing it failed or ran out of
    time) passes as "not available", with the reason: it proves nothing either way."""
    unavailable = "artifact hash not available to compare"
    if not recorded:
        # Nothing to compare with: do not make the registry fetch the artifact for nothing.
        return check("artifact", True, f"{unavailable}: the lineage records none")
    try:
        stored = call(reg.artifact_check, model, target, timeout=timeout, what="registry.artifact")
    except RollbookError as exc:
        return check("artifact", True, f"{unavailable}: {exc.message}")
    if stored.value is None:
        return check(
            "artifact", True, unavailable + (f": {stored.reason}" if stored.reason else "")
        )
    if stored.value == recorded:
        return check("artifact", True, "artifact hash matches lineage")
    return check("artifact", False, f"artifact hash {stored.value[:12]} ≠ lineage {recorded[:12]}")


def plan_rollback(
    ws: Workspace,
    model: str,
    to: str | None = None,
    overrides: tuple[str, ...] = (),
    *,
    incident_id: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Plan:
    """The rollback's plan: target, rule and reason, preflight checks, warnings."""
    reg, traffic = ws.backends.registry, ws.backends.traffic
    current = call(reg.production_version, model, timeout=timeout, what="registry.production")
    routes = call(traffic.routes, model, timeout=timeout, what="traffic.routes")
    if to is not None:
        to = _version_name(ws, model, to, timeout)
    target, rule, why, already, further = choose_target(ws, model, current, routes, to)
    after = {target: 100.0}
    checks = tuple(preflight(ws, model, target, overrides, timeout=timeout))
    recent = tuple(recent_mitigations(ws, model))
    warnings = recent_warnings(list(recent), rollback_from=current, rollback_to=target)
    alternatives: tuple[str, ...] = ()
    change_warning = _no_change_warning(ws, model, incident_id)
    if change_warning is not None:
        warning, alternatives = change_warning
        warnings.insert(0, warning)
    finish = f"rollbook rollback {model} --to {target} --yes"
    undo = traffic_command(model, routes)
    if current and current != target:
        undo += f" && rollbook pointer {model} {current} --yes"
    noop = ""
    if same_routes(routes, after) and current == target:
        noop = _noop_message(model, target, already, further)
    plan = Plan(
        action=ActionKind.ROLLBACK,
        model=model,
        summary=f"rollback {model} {current} → {target}"
        if current != target
        else f"rollback {model}: {format_routes(routes)} → {target}:100%",
        rule=rule,
        why=why,
        routes_before=routes,
        routes_after=after,
        pointer_before=current,
        pointer_after=target,
        checks=checks,
        warnings=tuple(warnings),
        alternatives=alternatives,
        recent=recent,
        noop_reason=noop,
        further=further,
        finish=finish,
        undo=undo,
    )
    if plan.blocked and not plan.noop:
        plan = plan.with_(refusal=refusal(plan))
    return plan


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
    elif current and extra and current not in known_bad(ws, model):
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


def _noop_message(model: str, target: str, already: dict | None, further: str | None) -> str:
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


def _no_change_warning(
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
                out.append(f"the kill switch (K, or rollbook killswitch {inc.model})")
        except RollbookError:
            pass
    return out


def _version_name(ws: Workspace, model: str, to: str, timeout: float) -> str:
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


def refusal(plan: Plan) -> str:
    """Why the plan's preflight refuses it, naming every check that can be overridden."""
    bad = [c for c in plan.checks if c.blocking]
    flags = " ".join(f"--override {c.name}" for c in bad if c.name in OVERRIDABLE)
    return (
        "preflight failed: "
        + "; ".join(f"{c.name}: {c.detail}" for c in bad)
        + (f" (override with {flags} if you are sure)" if flags else "")
    )


# ---- execution -----------------------------------------------------------------------------
def execute_rollback(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    timeout: float,
    reason: str = "",
    **_: Any,
) -> None:
    """Traffic, then the pointer, then read everything back (``mitigation.execute`` has
    recorded the request and checked the plan is still current)."""
    if not _shift_traffic(ws, rec, plan, res, timeout):
        return
    if not _move_pointer(ws, rec, plan, res, timeout, reason):
        return
    _verify(ws, rec, plan, res, timeout)


def _shift_traffic(
    ws: Workspace, rec: ActionRecorder, plan: Plan, res: ActionResult, timeout: float
) -> bool:
    traffic = ws.backends.traffic
    before, after = plan.routes_before or {}, plan.routes_after or {}
    if same_routes(before, after):
        rec.event(
            "step",
            "traffic already on target",
            step={
                "name": "traffic",
                "ok": True,
                "skipped": True,
                "before": before,
                "after": before,
            },
        )
        return True
    try:
        with rec.step("traffic", before=before) as s:
            call(
                traffic.set_routes,
                plan.model,
                after,
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes",
            )
            s.after = call(traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
            if not same_routes(s.after, after):
                raise RollbookError(
                    f"traffic read back {format_routes(s.after)}, expected {format_routes(after)}"
                )
        return True
    except RollbookError as exc:
        failure = exc.message
    # The write failed or did not stick. Where is traffic now?
    try:
        now = call(traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
    except RollbookError:
        now = None
    if now is not None and same_routes(now, before):
        rec.event(
            "failed",
            f"traffic change failed; nothing changed: {failure}",
            error=failure,
            state="unchanged",
        )
        res.status = ActionStatus.FAILED
        res.message = f"traffic change failed, nothing changed: {failure}"
        return False
    try:
        call(
            traffic.set_routes,
            plan.model,
            before,
            actor=ws.actor,
            timeout=timeout,
            what="traffic.set_routes (compensate)",
        )
        back = call(traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
        if not same_routes(back, before):
            raise RollbookError(f"traffic read back {format_routes(back)} after restoring")
        rec.event(
            "failed",
            f"traffic change failed; restored the previous routes: {failure}",
            error=failure,
            state="compensated",
            after=back,
        )
        res.status = ActionStatus.COMPENSATED
        res.message = f"traffic change failed and was undone (routes restored): {failure}"
    except RollbookError as exc2:
        shown = format_routes(now) if now is not None else "unreadable"
        _partial(
            rec,
            res,
            plan,
            f"traffic is in an unknown state ({shown}); restoring failed: "
            f"{exc2.message}; first error: {failure}",
        )
    return False


def _move_pointer(
    ws: Workspace, rec: ActionRecorder, plan: Plan, res: ActionResult, timeout: float, reason: str
) -> bool:
    reg = ws.backends.registry
    target = plan.pointer_after
    try:
        with rec.step("registry", before=plan.pointer_before) as s:
            if target is not None and plan.pointer_before != target:
                call(
                    reg.set_production,
                    plan.model,
                    target,
                    actor=ws.actor,
                    reason=reason or "emergency rollback",
                    timeout=timeout,
                    what="registry.set_production",
                )
            s.after = call(
                reg.production_version, plan.model, timeout=timeout, what="registry.production"
            )
            if s.after != target:
                raise RollbookError(f"registry reads back {s.after}, expected {target}")
        return True
    except RollbookError as exc:
        _partial(
            rec,
            res,
            plan,
            f"traffic is on {target} but the registry still names "
            f"{plan.pointer_before} as production: {exc.message}",
        )
        return False


def _partial(rec: ActionRecorder, res: ActionResult, plan: Plan, why: str) -> None:
    rec.event(
        "partial",
        f"PARTIALLY APPLIED: {why}",
        finish=plan.finish,
        undo=plan.undo,
        **{"from": plan.pointer_before, "to": plan.pointer_after},
    )
    res.status, res.message = ActionStatus.PARTIAL, f"partially applied: {why}"
    res.finish, res.undo = plan.finish, plan.undo


def _tag_versions(ws: Workspace, rec: ActionRecorder, plan: Plan, timeout: float) -> None:
    """Mark both versions in the registry as involved in the incident (registries with the
    ``tags`` capability). Best effort: the rollback is done; a failure here is noted."""
    reg = ws.backends.registry
    if rec.incident_id is None or "tags" not in reg.capabilities:
        return
    tags = [(plan.pointer_before, "rolled back from"), (plan.pointer_after, "rolled back to")]
    try:
        for version, role in tags:
            if version and plan.pointer_before != plan.pointer_after:
                call(
                    reg.tag_version,
                    plan.model,
                    version,
                    f"rollbook.incident.{rec.incident_id}",
                    role,
                    timeout=timeout,
                    what="registry.tag_version",
                )
    except RollbookError as exc:
        ws.store.append(
            rec.incident_id,
            "note",
            f"could not tag the versions in the registry: {exc.message}",
            actor="rollbook",
            at=ws.now(),
        )


def _verify(
    ws: Workspace, rec: ActionRecorder, plan: Plan, res: ActionResult, timeout: float
) -> None:
    b = ws.backends
    target = plan.pointer_after or ""
    with rec.step("verify") as s:
        routes = call(b.traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
        prod = call(
            b.registry.production_version, plan.model, timeout=timeout, what="registry.production"
        )
        try:
            health = call(
                b.traffic.probe, plan.model, target, timeout=timeout, what="traffic.probe"
            )
            healthy, detail = health.healthy, health.detail
        except RollbookError as exc:
            healthy, detail = False, exc.message
        s.after = {"routes": routes, "production": prod, "healthy": healthy}
    agree = same_routes(routes, plan.routes_after) and prod == target
    res.read_back = ReadBack(routes, prod, healthy, detail)
    read = f"{plan.model}: traffic {format_routes(routes)}, registry {prod}"
    rec.event(
        "verified" if agree and healthy else "failed",
        f"{read}, target {'healthy' if healthy else 'UNHEALTHY: ' + detail}",
        routes=routes,
        production=prod,
        healthy=healthy,
    )
    moved = (
        f"{plan.pointer_before} → {plan.pointer_after}"
        if plan.pointer_before != plan.pointer_after
        else f"{format_routes(plan.routes_before or {})} → {format_routes(routes)}"
    )
    if not agree:  # read back something else than planned: not applied
        _partial(
            rec,
            res,
            plan,
            f"read back {format_routes(routes)} and registry {prod}, "
            f"expected {format_routes(plan.routes_after or {})} and {target}",
        )
        return
    rec.event(
        "finished",
        f"rolled back {plan.model} {moved}",
        **{
            "from": plan.pointer_before,
            "to": plan.pointer_after,
            "before": {"routes": plan.routes_before, "production": plan.pointer_before},
            "after": {"routes": routes, "production": prod},
            "duration_ms": round(sum(st.duration_ms for st in rec.steps), 2),
            "healthy": healthy,
            "rule": plan.rule,
        },
    )
    _tag_versions(ws, rec, plan, timeout)
    res.status = ActionStatus.APPLIED
    res.message = f"rolled back {plan.model} {moved}: traffic and registry read back and agree" + (
        "" if healthy else f"; the target is UNHEALTHY: {detail}"
    )


def rollback(
    ws: Workspace,
    model: str,
    *,
    to: str | None = None,
    dry_run: bool = False,
    overrides: tuple[str, ...] = (),
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    reason: str = "",
) -> ActionResult:
    """Plan and (unless ``dry_run``) execute a rollback through the mitigation use case."""
    from console import mitigation

    return mitigation.run(
        ws,
        mitigation.Request(ActionKind.ROLLBACK, model, to=to, overrides=overrides),
        dry_run=dry_run,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        automatic=automatic,
        timeout=timeout,
        reason=reason,
    )
