"""Audited traffic changes, the registry pointer, and stage transitions with validation."""

from __future__ import annotations

from collections.abc import Mapping

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.policy import guard
from console.actions.recorder import ActionRecorder, incident_for
from console.actions.results import ActionResult
from console.actions.rollback import same_routes, traffic_command
from console.backends.types import STAGES
from console.errors import (
    ActionRefused,
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


def set_traffic(
    ws: Workspace,
    model: str,
    weights: Mapping[str, float],
    *,
    dry_run: bool = False,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    action: str = "traffic",
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ActionResult:
    t = ws.backends.traffic
    before = call(t.routes, model, timeout=timeout, what="traffic.routes")
    if action == "traffic":
        _require_routes(ws, model, weights, before, timeout)
    plan = {"model": model, "traffic_before": before, "traffic_after": dict(weights)}
    res = ActionResult(
        action, model, "dry-run", f"would set {model} traffic to {dict(weights)}", plan=plan
    )
    if dry_run:
        return res
    guard(ws, action, confirmed_by=confirmed_by, automatic=automatic)
    rec = ActionRecorder(ws, action, model, incident_for(ws, model, incident_id))
    res.incident_id, res.action_id, res.steps = rec.incident_id, rec.action_id, rec.steps
    if same_routes(before, dict(weights)):
        rec.event("noop", f"{model} traffic already {dict(weights)}")
        res.status, res.message, res.verified = "noop", "traffic already as asked", True
        return res
    rec.event(
        "requested",
        f"set {model} traffic {format_routes(before)} → {format_routes(dict(weights))}",
        plan=plan,
        finish=traffic_command(model, dict(weights)),
        undo=traffic_command(model, before),
    )
    try:
        with rec.step("traffic", before=before) as s:
            call(
                t.set_routes,
                model,
                dict(weights),
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes",
            )
            s.after = call(t.routes, model, timeout=timeout, what="traffic.routes")
            if not same_routes(s.after, dict(weights)):
                raise RollbookError(f"traffic read back {s.after}, expected {dict(weights)}")
    except RollbookError as exc:
        rec.event("failed", f"traffic change failed: {exc.message}", error=exc.message)
        res.status, res.message = "failed", f"traffic change failed: {exc.message}"
        return res
    rec.event("finished", f"{model} traffic now {s.after}", before=before, after=s.after)
    res.status, res.verified, res.message = "applied", True, f"{model} traffic now {s.after}"
    return res


def _require_routes(
    ws: Workspace,
    model: str,
    weights: Mapping[str, float],
    before: Mapping[str, float],
    timeout: float,
) -> None:
    """Refuse, before anything changes, a route that is neither a registry version, a
    fallback route nor one already serving (NotFound, exit 4)."""
    known = {
        v.version
        for v in call(
            ws.backends.registry.versions, model, timeout=timeout, what="registry.versions"
        )
    }
    known |= {f.route for f in ws.backends.traffic.fallbacks(model)} | set(before)
    unknown = [k for k, w in weights.items() if w and k not in known]
    if unknown:
        raise NotFound(
            f"{model} has no version {', '.join(unknown)}",
            hint=f"versions: {', '.join(sorted(known))}",
        )


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
    """Move only the registry's production pointer (audited); used to finish or undo a
    partially applied rollback."""
    reg = ws.backends.registry
    guard(ws, "pointer", confirmed_by=confirmed_by)
    reg.version(model, version)  # NotFound if absent
    rec = ActionRecorder(ws, "pointer", model, incident_for(ws, model, incident_id))
    before = call(reg.production_version, model, timeout=timeout, what="registry.production")
    res = ActionResult(
        "pointer",
        model,
        "noop",
        "",
        incident_id=rec.incident_id,
        action_id=rec.action_id,
        steps=rec.steps,
    )
    if before == version:
        rec.event("noop", f"{model} production pointer already {version}")
        res.message, res.verified = f"production pointer already {version}", True
        return res
    try:
        with rec.step("registry", before=before) as s:
            call(
                reg.set_production,
                model,
                version,
                actor=ws.actor,
                reason=reason or "pointer moved by hand",
                timeout=timeout,
                what="registry.set_production",
            )
            s.after = call(
                reg.production_version, model, timeout=timeout, what="registry.production"
            )
            if s.after != version:
                raise RollbookError(f"registry reads back {s.after}, expected {version}")
    except RollbookError as exc:
        rec.event("failed", f"pointer move failed: {exc.message}", error=exc.message)
        res.status, res.message = "failed", f"pointer move failed: {exc.message}"
        return res
    rec.event(
        "finished",
        f"{model} production pointer {before} → {version}",
        **{"from": before, "to": version},
    )
    res.status, res.verified, res.message = (
        "applied",
        True,
        f"production pointer {before} → {version}",
    )
    return res


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
    reg, traffic = ws.backends.registry, ws.backends.traffic
    current = reg.version(model, version).stage
    check_transition(current, stage)
    production = call(reg.production_version, model, what="registry.production")
    routes = call(traffic.routes, model, what="traffic.routes")
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
    guard(ws, "stage", confirmed_by=confirmed_by)
    rec = ActionRecorder(ws, "stage", model, incident_for(ws, model, incident_id))
    res = ActionResult(
        "stage",
        model,
        "noop",
        f"{model} {version} already {stage}",
        incident_id=rec.incident_id,
        action_id=rec.action_id,
        steps=rec.steps,
    )
    if current == stage:
        rec.event("noop", res.message)
        return res
    with rec.step("registry", before=current) as s:
        reg.transition_stage(model, version, stage, actor=ws.actor, reason=reason)
        s.after = reg.version(model, version).stage
    rec.event(
        "finished",
        f"{model} {version}: {current} → {stage}",
        version=version,
        before=current,
        after=s.after,
    )
    res.status, res.verified = "applied", s.after == stage
    res.message = f"{model} {version}: {current} → {stage}"
    if stage == "Production":
        res.message += _label_only(ws, model, version)
    return res


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
