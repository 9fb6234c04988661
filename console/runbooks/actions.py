"""The actions a runbook step may take. Each wraps a core action (``console.actions``) or
a small audited operation of its own (pausing a batch job, clearing a drill's fault), runs
as a dry run when asked, and reports an ``ActionOutcome``.

Confirmation is the engine's job: by the time an action function runs, a person confirmed
it or the runbook marked it automatic in an environment that allows automatic actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.actions.plan import Plan
from console.enums import ActionKind
from console.errors import ActionRefused
from console.runbooks.context import StepContext
from console.runbooks.registry import Param, action

OK_STATUSES = ("applied", "noop")


@dataclass
class ActionOutcome:
    status: str  # an ActionStatus
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    plan: Plan | None = None  # what a production action does (dry runs and confirmations)

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES


def _step_reason(ctx: StepContext) -> str:
    return f"runbook step {ctx.step.id}" if ctx.step else "runbook"


def _through_use_case(
    ctx: StepContext,
    request: Any,
    *,
    dry_run: bool,
    automatic: bool,
    plan: Plan | None = None,
    reason: str = "",
) -> ActionOutcome:
    """A production action from a runbook step goes through the same use case as R, K and
    the CLI: the plan shown for confirmation is the one executed (when the console passes
    it back), and the incident records it the same way."""
    from console import mitigation

    p = plan or mitigation.plan(ctx.ws, request, incident_id=ctx.incident.id)
    if dry_run:
        res = mitigation.preview(p)
    else:
        res = mitigation.execute(
            ctx.ws,
            p,
            incident_id=ctx.incident.id,
            automatic=automatic,
            reason=reason or _step_reason(ctx),
            step_id=ctx.step.id if ctx.step else None,
        )
    d = res.to_dict()
    evidence = {
        k: d[k]
        for k in ("action", "warnings", "read_back", "action_id", "finish", "undo", "recovery")
        if d.get(k) not in (None, [], {})
    }
    evidence["before"] = p.routes_before if p.routes_before is not None else _state(p, "before")
    evidence["after"] = p.routes_after if p.routes_after is not None else _state(p, "after")
    return ActionOutcome(res.status.value, res.message, evidence, p)


def _state(p: Plan, when: str) -> Any:
    if p.paused_before is not None:
        return {"paused": p.paused_before if when == "before" else p.paused_after}
    if p.stage_before is not None:
        return p.stage_before if when == "before" else p.stage_after
    return p.pointer_before if when == "before" else p.pointer_after


@action("acknowledge", dangerous=False, help="Mark the incident acknowledged.")
def acknowledge(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.incidents import acknowledge as ack

    if dry_run:
        return ActionOutcome("dry-run", f"would acknowledge {ctx.incident.id}")
    inc = ack(ctx.ws, ctx.incident.id)
    return ActionOutcome(
        "applied",
        f"acknowledged by {ctx.ws.actor}",
        {"acknowledged_at": inc.acknowledged_at.isoformat() if inc.acknowledged_at else None},
    )


@action("resolve", dangerous=False, help="Mark the incident resolved.")
def resolve(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    if dry_run:
        return ActionOutcome("dry-run", f"would resolve {ctx.incident.id}")
    from console.lifecycle import mark

    ctx.incident = mark(
        ctx.ws.store,
        ctx.incident.id,
        "resolved",
        actor=ctx.ws.actor,
        at=ctx.now(),
        message=f"resolved by {ctx.ws.actor}",
    )
    return ActionOutcome("applied", f"{ctx.incident.id} resolved")


@action(
    "rollback",
    params={
        "to": Param("string", False, "target version (default: the last known-good state)"),
        "reason": Param("string", False, "why, for the audit log"),
        "overrides": Param("list", False, "preflight checks to override"),
    },
    help="Emergency rollback: traffic first, then the registry pointer.",
)
def rollback(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.mitigation import Request

    request = Request(
        ActionKind.ROLLBACK,
        ctx.model,
        to=params.get("to") or None,
        overrides=tuple(params.get("overrides") or ()),
    )
    return _through_use_case(
        ctx,
        request,
        dry_run=dry_run,
        automatic=automatic,
        plan=plan,
        reason=params.get("reason") or "",
    )


@action(
    "killswitch",
    params={"level": Param("string", False, "previous | rules | manual")},
    help="Route the model down its fallback ladder.",
)
def killswitch(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.mitigation import Request

    request = Request(ActionKind.KILLSWITCH, ctx.model, level=params.get("level"))
    return _through_use_case(ctx, request, dry_run=dry_run, automatic=automatic, plan=plan)


@action("restore", help="Undo the model's last kill switch.")
def restore(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.mitigation import Request

    request = Request(ActionKind.RESTORE, ctx.model)
    return _through_use_case(ctx, request, dry_run=dry_run, automatic=automatic, plan=plan)


@action(
    "set_traffic",
    params={"weights": Param("mapping", True, "route = percent")},
    help="Set the model's traffic weights (they sum to 100).",
)
def set_traffic(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.actions.traffic import parse_weights
    from console.mitigation import Request

    weights = parse_weights([f"{k}={v}" for k, v in dict(params["weights"]).items()])
    request = Request(ActionKind.TRAFFIC, ctx.model, weights=weights)
    return _through_use_case(ctx, request, dry_run=dry_run, automatic=automatic, plan=plan)


@action("pause_batch", help="Pause the model's batch job (the circuit breaker).")
def pause_batch(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.mitigation import Request

    request = Request(ActionKind.PAUSE_BATCH, ctx.model)
    return _through_use_case(ctx, request, dry_run=dry_run, automatic=automatic, plan=plan)


@action("resume_batch", help="Resume the model's batch job.")
def resume_batch(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.mitigation import Request

    request = Request(ActionKind.RESUME_BATCH, ctx.model)
    return _through_use_case(ctx, request, dry_run=dry_run, automatic=automatic, plan=plan)


def _stage(
    ctx: StepContext,
    version: str,
    stage: str,
    *,
    dry_run: bool,
    automatic: bool,
    reason: str,
    plan: Plan | None,
) -> ActionOutcome:
    from console.mitigation import Request

    request = Request(ActionKind.STAGE, ctx.model, version=version, stage=stage)
    return _through_use_case(
        ctx, request, dry_run=dry_run, automatic=automatic, plan=plan, reason=reason
    )


@action(
    "promote",
    params={
        "version": Param("string", True, "version to promote"),
        "stage": Param("string", False, "target stage (default Production)"),
        "reason": Param("string", False, "why"),
    },
    help="Promote a version to the next stage.",
)
def promote(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    return _stage(
        ctx,
        params["version"],
        params.get("stage", "Production"),
        dry_run=dry_run,
        automatic=automatic,
        reason=params.get("reason", "promoted by runbook"),
        plan=plan,
    )


@action(
    "stage",
    params={
        "version": Param("string", True, "version"),
        "stage": Param("string", True, "stage"),
        "reason": Param("string", False, "why"),
    },
    help="Transition a version's registry stage.",
)
def stage(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    return _stage(
        ctx,
        params["version"],
        params["stage"],
        dry_run=dry_run,
        automatic=automatic,
        reason=params.get("reason", "runbook step"),
        plan=plan,
    )


@action(
    "clear_fault",
    params={"scenario": Param("string", False, "default: the drill's")},
    world_only=True,
    help="Simulated worlds only (drills, the demo): deploy the fix (the fault is cleared).",
)
def clear_fault(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool, plan: Plan | None = None
) -> ActionOutcome:
    from console.actions.policy import guard
    from console.actions.recorder import ActionRecorder

    world = ctx.backends.world
    scenario = params.get("scenario") or ctx.incident.data.get("scenario")
    if world is None:
        raise ActionRefused(
            f"environment {ctx.ws.env.name!r} has no simulated world: "
            "clear_fault only exists in drills",
            hint="deploy the real fix, then mark the step done by hand",
        )
    if not scenario:
        raise ActionRefused(
            "no scenario to clear: this incident was not opened by a drill",
            hint="pass params scenario: NAME",
        )
    active = [f.get("scenario") for f in world.active_faults()]
    if dry_run:
        return ActionOutcome(
            "dry-run",
            f"would deploy the fix for {scenario}"
            + ("" if scenario in active else f" ({scenario} is not active: nothing to do)"),
        )
    guard(ctx.ws, "clear_fault", automatic=automatic)
    rec = ActionRecorder(ctx.ws, "clear_fault", ctx.model, ctx.incident.id)
    if scenario not in active:
        rec.event("noop", f"{scenario} is not active")
        return ActionOutcome("noop", f"{scenario} is not active")
    rec.event("requested", f"deploy the fix for {scenario}", plan={"scenario": scenario})
    with rec.step("world", before={"active": True}) as s:
        world.clear(scenario)
        s.after = {"active": scenario in [f.get("scenario") for f in world.active_faults()]}
    rec.event("finished", f"fix for {scenario} deployed", before={"active": True}, after=s.after)
    return ActionOutcome(
        "applied",
        f"fix for {scenario} deployed (simulated)",
        {"before": {"active": True}, "after": s.after, "action_id": rec.action_id},
    )
