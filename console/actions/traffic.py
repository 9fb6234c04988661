"""Audited traffic changes, the registry pointer, and stage transitions with validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.plan import Plan, same_routes, traffic_command
from console.actions.recorder import ActionRecorder
from console.actions.results import ActionResult, ReadBack
from console.backends.types import STAGES
from console.enums import ActionKind, ActionStatus
from console.errors import (
    ActionRefused,
    BackendError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RollbookError,
)
from console.fleet import format_routes
from console.workspace import Workspace

# Normal promotions and demotions. Archived → Production is not among them: that is an
# emergency rollback, its own audited operation (`rollbook rollback`).
ALLOWED_STAGES: dict[str, frozenset[str]] = {
    "None": frozenset({"Staging", "Archived"}),
    "Staging": frozenset({"Shadow", "Canary", "Archived", "None"}),
    "Shadow": frozenset({"Canary", "Staging", "Archived"}),
    "Canary": frozenset({"Production", "Shadow", "Staging", "Archived"}),
    "Production": frozenset({"Archived"}),
    "Archived": frozenset(),
}


def check_transition(current: str, target: str) -> None:
    if target not in STAGES:
        raise InvalidTransition(f"unknown stage {target!r}", hint=f"stages: {' → '.join(STAGES)}")
    if target == current:
        return
    if target not in ALLOWED_STAGES.get(current, frozenset()):
        hint = (
            "to bring an archived version back into production use: rollbook rollback "
            "MODEL --to VERSION"
            if current == "Archived"
            else f"from {current} a version may go to: "
            f"{', '.join(sorted(ALLOWED_STAGES.get(current, ()))) or 'nowhere'}"
        )
        raise InvalidTransition(f"{current} → {target} is not a valid stage transition", hint=hint)


def parse_weights(pairs: list[str] | tuple[str, ...]) -> dict[str, float]:
    """``["v4=90", "v5=10"]`` → ``{"v4": 90.0, "v5": 10.0}``; must sum to 100."""
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"bad weight {pair!r}", hint="write VERSION=WEIGHT, e.g. v4=90")
        try:
            w = float(value)
        except ValueError:
            raise InvalidInput(f"weight of {key} is not a number: {value!r}") from None
        if not 0 <= w <= 100:
            raise InvalidInput(f"weight of {key} must be between 0 and 100, got {w:g}")
        out[key] = w
    if abs(sum(out.values()) - 100) > 0.01:
        raise InvalidInput(f"weights sum to {sum(out.values()):g}, not 100")
    return out


def plan_traffic(
    ws: Workspace, model: str, weights: Mapping[str, float], *, timeout: float = DEFAULT_TIMEOUT_S
) -> Plan:
    """Set ``model``'s weights to ``weights`` (an unknown route is refused before anything
    changes: NotFound, exit 4)."""
    t = ws.backends.traffic
    before = call(t.routes, model, timeout=timeout, what="traffic.routes")
    _require_routes(ws, model, weights, before, timeout)
    after = {str(k): float(v) for k, v in weights.items()}
    return Plan(
        action=ActionKind.TRAFFIC,
        model=model,
        summary=f"traffic {model}: {format_routes(before)} → {format_routes(after)}",
        rule="explicit",
        why="the weights given",
        routes_before=before,
        routes_after=after,
        noop_reason=f"{model} traffic already {format_routes(after)}"
        if same_routes(before, after)
        else "",
        finish=traffic_command(model, after),
        undo=traffic_command(model, before),
    )


def execute_traffic(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    timeout: float,
    **_: Any,
) -> None:
    """Set the plan's routes and read them back (traffic changes and ``restore``)."""
    t = ws.backends.traffic
    before, after = plan.routes_before or {}, plan.routes_after or {}
    try:
        with rec.step("traffic", before=before) as s:
            call(
                t.set_routes,
                plan.model,
                after,
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes",
            )
            s.after = call(t.routes, plan.model, timeout=timeout, what="traffic.routes")
            if not same_routes(s.after, after):
                raise RollbookError(
                    f"traffic read back {format_routes(s.after)}, expected {format_routes(after)}"
                )
    except RollbookError as exc:
        try:
            now = call(t.routes, plan.model, timeout=timeout, what="traffic.routes")
        except RollbookError:
            now = None
        if now is not None and same_routes(now, before):
            rec.event(
                "failed",
                f"traffic change failed, nothing changed: {exc.message}",
                error=exc.message,
            )
            res.status = ActionStatus.FAILED
            res.message = f"traffic change failed, nothing changed: {exc.message}"
            return
        shown = format_routes(now) if now is not None else "unreadable"
        rec.event(
            "partial",
            f"PARTIALLY APPLIED: traffic is {shown}: {exc.message}",
            error=exc.message,
            finish=plan.finish,
            undo=plan.undo,
        )
        res.status = ActionStatus.PARTIAL
        res.message = f"traffic change partially applied (traffic now {shown}): {exc.message}"
        res.finish, res.undo = plan.finish, plan.undo
        return
    res.read_back = ReadBack(routes=s.after)
    rec.event(
        "finished",
        f"{plan.model} traffic now {format_routes(s.after)}",
        before=before,
        after=s.after,
        **{"from": format_routes(before), "to": format_routes(s.after)},
    )
    res.status = ActionStatus.APPLIED
    res.message = f"{plan.model} traffic now {format_routes(s.after)} (read back)"


def set_traffic(
    ws: Workspace,
    model: str,
    weights: Mapping[str, float],
    *,
    dry_run: bool = False,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ActionResult:
    from console import mitigation

    return mitigation.run(
        ws,
        mitigation.Request(ActionKind.TRAFFIC, model, weights=dict(weights)),
        dry_run=dry_run,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        automatic=automatic,
        timeout=timeout,
    )


def _require_routes(
    ws: Workspace,
    model: str,
    weights: Mapping[str, float],
    before: Mapping[str, float],
    timeout: float,
) -> None:
    """Refuse, before anything changes, a route that is neither a registry version, a
    fallback route nor one already serving (NotFound, exit 4). Moving traffic needs only
    the traffic backend: when the registry cannot be read, the traffic backend's own check
    (it refuses a route it does not know, before any write) is the one that applies."""
    try:
        versions = call(
            ws.backends.registry.versions, model, timeout=timeout, what="registry.versions"
        )
    except BackendError:
        return  # the registry is down: an undo of the traffic half must still work
    known = {v.version for v in versions}
    known |= {f.route for f in ws.backends.traffic.fallbacks(model)} | set(before)
    unknown = [k for k, w in weights.items() if w and k not in known]
    if unknown:
        raise NotFound(
            f"{model} has no version {', '.join(unknown)}",
            hint=f"versions: {', '.join(sorted(known))}",
        )


def plan_pointer(
    ws: Workspace, model: str, version: str, *, timeout: float = DEFAULT_TIMEOUT_S
) -> Plan:
    """Move only the registry's production pointer (to finish or undo a partially applied
    rollback). NotFound for an unknown version."""
    reg = ws.backends.registry
    call(reg.version, model, version, timeout=timeout, what="registry.version")
    before = call(reg.production_version, model, timeout=timeout, what="registry.production")
    return Plan(
        action=ActionKind.POINTER,
        model=model,
        summary=f"production pointer {model} {before} → {version}",
        rule="explicit",
        why="the version given",
        pointer_before=before,
        pointer_after=version,
        version=version,
        noop_reason=f"{model} production pointer already {version}" if before == version else "",
        finish=f"rollbook pointer {model} {version} --yes",
        undo=f"rollbook pointer {model} {before} --yes" if before else None,
    )


def execute_pointer(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    timeout: float,
    reason: str = "",
    **_: Any,
) -> None:
    reg = ws.backends.registry
    version = plan.pointer_after or ""
    try:
        with rec.step("registry", before=plan.pointer_before) as s:
            call(
                reg.set_production,
                plan.model,
                version,
                actor=ws.actor,
                reason=reason or "pointer moved by hand",
                timeout=timeout,
                what="registry.set_production",
            )
            s.after = call(
                reg.production_version, plan.model, timeout=timeout, what="registry.production"
            )
            if s.after != version:
                raise RollbookError(f"registry reads back {s.after}, expected {version}")
    except RollbookError as exc:
        rec.event("failed", f"pointer move failed: {exc.message}", error=exc.message)
        res.status, res.message = ActionStatus.FAILED, f"pointer move failed: {exc.message}"
        return
    res.read_back = ReadBack(production=s.after)
    rec.event(
        "finished",
        f"{plan.model} production pointer {plan.pointer_before} → {version}",
        **{"from": plan.pointer_before, "to": version},
    )
    res.status = ActionStatus.APPLIED
    res.message = f"production pointer {plan.pointer_before} → {version} (read back)"


def set_pointer(
    ws: Workspace,
    model: str,
    version: str,
    *,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    reason: str = "",
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ActionResult:
    from console import mitigation

    return mitigation.run(
        ws,
        mitigation.Request(ActionKind.POINTER, model, version=version),
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        reason=reason,
        timeout=timeout,
    )


def plan_stage(
    ws: Workspace, model: str, version: str, stage: str, *, timeout: float = DEFAULT_TIMEOUT_S
) -> Plan:
    """A stage label for ``version``: validated against the allowed transitions; archiving
    the version that holds the pointer or takes traffic is refused."""
    reg, traffic = ws.backends.registry, ws.backends.traffic
    current = call(reg.version, model, version, timeout=timeout, what="registry.version").stage
    check_transition(current, stage)
    production = call(reg.production_version, model, timeout=timeout, what="registry.production")
    routes = call(traffic.routes, model, timeout=timeout, what="traffic.routes")
    serving = (routes.get(version) or 0) > 0
    if stage == "Archived" and current != stage and (version == production or serving):
        holds = " and ".join(
            x
            for x in (
                "holds the production pointer" if version == production else "",
                f"receives {routes[version]:g}% of traffic" if serving else "",
            )
            if x
        )
        raise ActionRefused(
            f"{model} {version} {holds}: archiving it is refused",
            hint=f"move production off it first (rollbook rollback {model} "
            f"--to VERSION, or rollbook rollout {model} VERSION), then "
            "archive it",
        )
    return Plan(
        action=ActionKind.STAGE,
        model=model,
        summary=f"stage {model} {version}: {current} → {stage}",
        rule="explicit",
        why="the stage given",
        version=version,
        stage_before=current,
        stage_after=stage,
        noop_reason=f"{model} {version} already {stage}" if current == stage else "",
        # for `audit pending`, should the change be cut short; a label with no way back
        # (Production → Canary is not a transition) has no undo
        finish=f"rollbook stage {model} {version} {stage}",
        undo=f"rollbook stage {model} {version} {current}"
        if current in ALLOWED_STAGES.get(stage, frozenset())
        else None,
    )


def execute_stage(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    timeout: float,
    reason: str = "",
    **_: Any,
) -> None:
    reg = ws.backends.registry
    version, stage = plan.version or "", plan.stage_after or ""
    with rec.step("registry", before=plan.stage_before) as s:
        call(
            reg.transition_stage,
            plan.model,
            version,
            stage,
            actor=ws.actor,
            reason=reason,
            timeout=timeout,
            what="registry.transition_stage",
        )
        s.after = call(reg.version, plan.model, version, timeout=timeout).stage
    rec.event(
        "finished",
        f"{plan.model} {version}: {plan.stage_before} → {stage}",
        version=version,
        before=plan.stage_before,
        after=s.after,
    )
    res.status = ActionStatus.APPLIED if s.after == stage else ActionStatus.PARTIAL
    res.message = f"{plan.model} {version}: {plan.stage_before} → {s.after}"
    if stage == "Production":
        res.message += _label_only(ws, plan.model, version)


def transition_stage(
    ws: Workspace,
    model: str,
    version: str,
    stage: str,
    *,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    reason: str = "",
) -> ActionResult:
    from console import mitigation

    return mitigation.run(
        ws,
        mitigation.Request(ActionKind.STAGE, model, version=version, stage=stage),
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        reason=reason,
    )


def _label_only(ws: Workspace, model: str, version: str) -> str:
    """A Production *label* does not serve: say where the pointer and traffic still are and
    which command serves ``version`` (empty when both are already on it)."""
    production = call(ws.backends.registry.production_version, model, what="registry.production")
    routes = call(ws.backends.traffic.routes, model, what="traffic.routes")
    if production == version and same_routes(routes, {version: 100.0}):
        return ""
    return (
        f" (label only: the production pointer stays on {production} and traffic on "
        f"{format_routes(routes)}; to serve it: rollbook rollout {model} {version}, or "
        f"rollbook pointer {model} {version} and rollbook traffic {model} {version}=100)"
    )
