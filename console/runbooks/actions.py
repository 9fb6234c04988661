"""The actions a runbook step may take. Each wraps a core action (``console.actions``) or
a small audited operation of its own (pausing a batch job, clearing a drill's fault), runs
as a dry run when asked, and reports an ``ActionOutcome``.

Confirmation is the engine's job: by the time an action function runs, a person confirmed
it or the runbook marked it automatic in an environment that allows automatic actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.errors import ActionRefused, RollbookError
from console.runbooks.context import StepContext
from console.runbooks.registry import Param, action

OK_STATUSES = ("applied", "noop")


@dataclass
class ActionOutcome:
    status: str  # applied | noop | dry-run | refused | failed | compensated | partial
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES


def _step_reason(ctx: StepContext) -> str:
    return f"runbook step {ctx.step.id}" if ctx.step else "runbook"


def _from_result(res: Any) -> ActionOutcome:
    d = res.to_dict()
    evidence = {
        k: d[k]
        for k in ("action", "plan", "checks", "verified", "action_id", "finish", "undo")
        if d.get(k) not in (None, [], {})
    }
    evidence["before"] = d.get("plan", {}).get("traffic_before")
    evidence["after"] = d.get("plan", {}).get("traffic_after")
    return ActionOutcome(res.status, res.message, evidence)


@action("acknowledge", dangerous=False, help="Mark the incident acknowledged.")
def acknowledge(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
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
def resolve(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
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
        "to": Param("string", False, "target version (default: the previous good one)"),
        "reason": Param("string", False, "why, for the audit log"),
        "overrides": Param("list", False, "preflight checks to override"),
    },
    help="Emergency rollback: traffic first, then the registry pointer.",
)
def rollback(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    from console.actions.rollback import rollback as do_rollback

    res = do_rollback(
        ctx.ws,
        ctx.model,
        to=params.get("to") or None,
        dry_run=dry_run,
        overrides=tuple(params.get("overrides") or ()),
        incident_id=ctx.incident.id,
        automatic=automatic,
        reason=params.get("reason") or _step_reason(ctx),
    )
    return _from_result(res)


@action(
    "killswitch",
    params={"level": Param("string", False, "previous | rules | manual")},
    help="Route the model down its fallback ladder.",
)
def killswitch(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    from console.actions.killswitch import killswitch as do_killswitch

    return _from_result(
        do_killswitch(
            ctx.ws,
            ctx.model,
            level=params.get("level"),
            dry_run=dry_run,
            incident_id=ctx.incident.id,
            automatic=automatic,
        )
    )


@action("restore", help="Undo the model's last kill switch.")
def restore(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    from console.actions.killswitch import restore as do_restore
    from console.actions.policy import guard

    if not dry_run:
        guard(ctx.ws, "restore", automatic=automatic)
    return _from_result(do_restore(ctx.ws, ctx.model, dry_run=dry_run, incident_id=ctx.incident.id))


@action(
    "set_traffic",
    params={"weights": Param("mapping", True, "route = percent")},
    help="Set the model's traffic weights (they sum to 100).",
)
def set_traffic(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    from console.actions.traffic import parse_weights
    from console.actions.traffic import set_traffic as do_set

    weights = parse_weights([f"{k}={v}" for k, v in dict(params["weights"]).items()])
    return _from_result(
        do_set(
            ctx.ws,
            ctx.model,
            weights,
            dry_run=dry_run,
            incident_id=ctx.incident.id,
            automatic=automatic,
        )
    )


def _batch(ctx: StepContext, pause: bool, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    from console.actions.calls import call
    from console.actions.policy import guard
    from console.actions.recorder import ActionRecorder

    name = "pause_batch" if pause else "resume_batch"
    t = ctx.backends.traffic
    before = call(t.batch_paused, ctx.model, what="traffic.batch_paused")
    verb = "pause" if pause else "resume"
    if dry_run:
        return ActionOutcome(
            "dry-run",
            f"would {verb} {ctx.model}'s batch job",
            {"before": {"paused": before}, "after": {"paused": pause}},
        )
    guard(ctx.ws, name, automatic=automatic)
    rec = ActionRecorder(ctx.ws, name, ctx.model, ctx.incident.id)
    if before == pause:
        rec.event("noop", f"{ctx.model} batch job already {'paused' if pause else 'running'}")
        return ActionOutcome(
            "noop",
            f"batch job already {'paused' if pause else 'running'}",
            {"before": {"paused": before}, "after": {"paused": before}},
        )
    rec.event(
        "requested",
        f"{verb} {ctx.model} batch job",
        plan={"model": ctx.model, "paused_before": before, "paused_after": pause},
    )
    rec.event(
        "confirmed",
        f"confirmed by {ctx.ws.actor}" + (" (automatic)" if automatic else ""),
        confirmed_by=ctx.ws.actor,
        automatic=automatic,
    )
    try:
        with rec.step("batch", before={"paused": before}) as s:
            call(
                t.pause_batch if pause else t.resume_batch,
                ctx.model,
                actor=ctx.ws.actor,
                what=f"traffic.{name}",
            )
            s.after = {"paused": call(t.batch_paused, ctx.model, what="traffic.batch_paused")}
            if s.after["paused"] != pause:
                raise RollbookError(f"batch job reads back paused={s.after['paused']}")
    except RollbookError as exc:
        rec.event("failed", f"{verb} failed: {exc.message}", error=exc.message)
        return ActionOutcome("failed", f"{verb} failed: {exc.message}")
    rec.event("verified", f"{ctx.model} batch job {'paused' if pause else 'running'}", paused=pause)
    rec.event(
        "finished",
        f"{ctx.model} batch job {'paused' if pause else 'resumed'}",
        before={"paused": before},
        after={"paused": pause},
    )
    what = "paused: consumers keep the last good scores" if pause else "resumed"
    return ActionOutcome(
        "applied",
        f"{ctx.model} batch job {what}",
        {"action_id": rec.action_id, "before": {"paused": before}, "after": {"paused": pause}},
    )


@action("pause_batch", help="Pause the model's batch job (the circuit breaker).")
def pause_batch(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    return _batch(ctx, True, dry_run=dry_run, automatic=automatic)


@action("resume_batch", help="Resume the model's batch job.")
def resume_batch(
    ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool
) -> ActionOutcome:
    return _batch(ctx, False, dry_run=dry_run, automatic=automatic)


def _stage(
    ctx: StepContext, version: str, stage: str, *, dry_run: bool, automatic: bool, reason: str
) -> ActionOutcome:
    from console.actions.policy import guard
    from console.actions.traffic import check_transition, transition_stage

    current = ctx.backends.registry.version(ctx.model, version).stage
    check_transition(current, stage)
    if dry_run:
        return ActionOutcome(
            "dry-run",
            f"would move {ctx.model} {version} {current} → {stage}",
            {"before": current, "after": stage},
        )
    guard(ctx.ws, "stage", automatic=automatic)
    res = transition_stage(
        ctx.ws, ctx.model, version, stage, incident_id=ctx.incident.id, reason=reason
    )
    out = _from_result(res)
    out.evidence.update({"before": current, "after": stage})
    return out


@action(
    "promote",
    params={
        "version": Param("string", True, "version to promote"),
        "stage": Param("string", False, "target stage (default Production)"),
        "reason": Param("string", False, "why"),
    },
    help="Promote a version to the next stage.",
)
def promote(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    return _stage(
        ctx,
        params["version"],
        params.get("stage", "Production"),
        dry_run=dry_run,
        automatic=automatic,
        reason=params.get("reason", "promoted by runbook"),
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
def stage(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
    return _stage(
        ctx,
        params["version"],
        params["stage"],
        dry_run=dry_run,
        automatic=automatic,
        reason=params.get("reason", "runbook step"),
    )


@action(
    "clear_fault",
    params={"scenario": Param("string", False, "default: the drill's")},
    world_only=True,
    help="Simulated worlds only (drills, the demo): deploy the fix (the fault is cleared).",
)
def clear_fault(ctx: StepContext, params: dict, *, dry_run: bool, automatic: bool) -> ActionOutcome:
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
        return ActionOutcome("dry-run", f"would clear {scenario} (active: {scenario in active})")
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
