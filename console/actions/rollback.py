"""Emergency rollback: back to the last known-good serving state (``console.actions.targets``
says which). Traffic first (it stops the bleeding), then the registry's production pointer;
both read back and the target probed (``console.actions.preflight`` before anything moves).

When the registry step fails after traffic moved, the traffic stays on the known-good target
(undoing it would restore the harm) and the action ends explicitly *partially applied* with
the exact commands that finish or undo it. A target that stops answering its health probe
after traffic moved is reverted (``unhealthy_target = "revert"``, the default) or kept with a
warning (``"keep"``).
"""

from __future__ import annotations

from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.history import recent_mitigations, recent_warnings
from console.actions.plan import Plan, same_routes, traffic_command
from console.actions.preflight import OVERRIDABLE, preflight, refusal
from console.actions.recorder import ActionRecorder
from console.actions.results import ActionResult, ReadBack
from console.actions.targets import (
    choose_target,
    no_change_warning,
    noop_message,
    runbook_alternatives,
    version_name,
)
from console.enums import ActionKind, ActionStatus
from console.errors import RollbookError
from console.fleet import format_routes
from console.workspace import Workspace

__all__ = [
    "OVERRIDABLE",
    "choose_target",
    "execute_rollback",
    "plan_rollback",
    "preflight",
    "rollback",
    "runbook_alternatives",
    "same_routes",
    "traffic_command",
]


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
        to = version_name(ws, model, to, timeout)
    target, rule, why, already, further = choose_target(ws, model, current, routes, to)
    after = {target: 100.0}
    checks = tuple(preflight(ws, model, target, overrides, timeout=timeout))
    recent = tuple(recent_mitigations(ws, model))
    warnings = recent_warnings(list(recent), rollback_from=current, rollback_to=target)
    alternatives: tuple[str, ...] = ()
    change_warning = no_change_warning(ws, model, incident_id)
    if change_warning is not None:
        warning, alternatives = change_warning
        warnings.insert(0, warning)
    finish = f"rollbook rollback {model} --to {target} --yes"
    undo = traffic_command(model, routes)
    if current and current != target:
        undo += f" && rollbook pointer {model} {current} --yes"
    noop = ""
    if same_routes(routes, after) and current == target:
        noop = noop_message(model, target, already, further)
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


def _revert_unhealthy(
    ws: Workspace,
    rec: ActionRecorder,
    plan: Plan,
    res: ActionResult,
    timeout: float,
    detail: str,
) -> None:
    """The target stopped answering after traffic moved to it: it answered before (preflight
    probed it), so send traffic — and the pointer — back where they were."""
    b = ws.backends
    before = plan.routes_before or {}
    try:
        with rec.step("revert", before=plan.routes_after) as s:
            call(
                b.traffic.set_routes,
                plan.model,
                before,
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes (revert)",
            )
            if plan.pointer_before and plan.pointer_before != plan.pointer_after:
                call(
                    b.registry.set_production,
                    plan.model,
                    plan.pointer_before,
                    actor=ws.actor,
                    reason="rollback target unhealthy: reverted",
                    timeout=timeout,
                    what="registry.set_production (revert)",
                )
            routes = call(b.traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
            prod = call(
                b.registry.production_version,
                plan.model,
                timeout=timeout,
                what="registry.production",
            )
            s.after = {"routes": routes, "production": prod}
            if not same_routes(routes, before) or prod != plan.pointer_before:
                raise RollbookError(
                    f"read back traffic {format_routes(routes)} and registry {prod} after reverting"
                )
    except RollbookError as exc:
        _partial(
            rec,
            res,
            plan,
            f"the target {plan.pointer_after} is UNHEALTHY ({detail}) and "
            f"reverting failed: {exc.message}",
        )
        return
    rec.event(
        "failed",
        f"rollback reverted: {plan.pointer_after} did not answer its health "
        f"probe after traffic moved ({detail}); traffic and registry back on "
        f"{plan.pointer_before}",
        error=detail,
        state="compensated",
        **{"from": plan.pointer_before, "to": plan.pointer_after},
    )
    res.read_back = ReadBack(routes, prod, False, detail)
    res.status = ActionStatus.COMPENSATED
    res.message = (
        f"{plan.pointer_after} did not answer its health probe after traffic moved to it "
        f"({detail}): traffic ({format_routes(routes)}) and the registry ({prod}) are back "
        "where they were"
    )


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
    if not healthy and ws.env.unhealthy_target == "revert":
        _revert_unhealthy(ws, rec, plan, res, timeout, detail)
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
    if not healthy:  # unhealthy_target = "keep": traffic stays, and the undo is named
        _tag_versions(ws, rec, plan, timeout)
        res.status, res.finish, res.undo = ActionStatus.PARTIAL, None, plan.undo
        res.message = (
            f"rolled back {plan.model} {moved}, but the target is UNHEALTHY ({detail}); kept "
            "as configured (unhealthy_target = keep): undo it if it does not answer"
        )
        return
    _tag_versions(ws, rec, plan, timeout)
    res.status = ActionStatus.APPLIED
    res.message = f"rolled back {plan.model} {moved}: traffic and registry read back and agree"


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
