"""The one use case for changing production: plan once, execute, record the same way.

``R``/``K``/``U`` in the console, ``rollbook rollback | killswitch | restore | traffic |
rollout | pointer | stage``, and runbook action steps all come through here:

1. ``plan(ws, request)`` reads production and decides (``console.actions.*``): a typed
   ``Plan``, computed once and shown to the person.
2. ``execute(ws, plan, …)`` checks who may act, that production still looks as planned (a plan
   made before someone else moved traffic is refused as stale, not applied on top), records
   the request, runs the action's steps with read-backs, and ends in one status.
3. On the model's open incident every change that was applied is recorded the same way
   whichever path ran it (``console.lifecycle.mitigation_applied``): phase ``mitigate``,
   milestone ``mitigation_applied``, the runbook's matching action step settled, and the
   recovery watch started (``console.recovery``) — *mitigated* comes only from observation.
4. A signal (Ctrl+C, SIGTERM, a closed terminal) during the steps ends it like a crash found
   later: ``interrupted``, exit 6, with the finish and undo commands, still listed by
   ``rollbook audit pending``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.plan import Plan, same_routes
from console.actions.policy import guard
from console.actions.recorder import ActionRecorder, incident_for
from console.actions.results import ActionResult
from console.enums import CHANGES_SERVING, ActionKind, ActionStatus
from console.errors import ActionInProgress, ActionRefused, RollbookError
from console.fleet import format_routes
from console.store.locks import LockHolder
from console.workspace import Workspace


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """A signal (SIGTERM, SIGHUP) asked the process to stop; raised in the main thread."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@dataclass(frozen=True)
class Request:
    """What a person (or a runbook step) asked for; ``plan`` turns it into a ``Plan``."""

    action: ActionKind
    model: str
    to: str | None = None  # rollback
    overrides: tuple[str, ...] = ()  # rollback preflight checks overridden
    level: str | None = None  # kill switch
    weights: Mapping[str, float] | None = None  # traffic
    version: str | None = None  # pointer, stage, rollout
    stage: str | None = None
    stages: tuple[float, ...] = ()
    dwell_minutes: float = 10.0
    guardrails: Any = None  # console.actions.rollout.Guardrails
    extra: dict[str, Any] = field(default_factory=dict)


def plan(
    ws: Workspace,
    request: Request,
    *,
    incident_id: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Plan:
    """Read production and decide what the request changes (nothing is changed). The plan
    is refused up front when another person's action holds the model, or when an action a
    crash or an interrupt left unfinished must be finished or undone first."""
    p = _plan_for(ws, request, incident_id=incident_id, timeout=timeout)
    if p.blocked:
        return p
    if p.noop:
        if not finishes_unfinished(ws, p):
            return p
        # the finish of an action cut short after its writes landed: production already
        # reads as planned, but nothing recorded the action as done (no finished event, no
        # mitigation on the incident, no standing kill switch). Run it again — its steps
        # are idempotent — so it ends recorded, read back, like any other.
        p = p.with_(noop_reason="")
    holder = ws.store.lock_holder(p.model)
    if holder is not None:
        return p.with_(refusal=holder.describe(p.model) + ": wait for it to end, then look again")
    unfinished = blocking_unfinished(ws, p)
    if unfinished:
        return p.with_(refusal=unfinished)
    return p


def _same_target(p: Plan, entry: dict[str, Any]) -> bool:
    pending = Plan.from_dict(entry.get("plan") or {})
    return p.action == entry.get("action") and (
        (p.pointer_after, p.level, p.version)
        == (pending.pointer_after, pending.level, pending.version)
    )


def finishes_unfinished(ws: Workspace, p: Plan) -> bool:
    """Whether ``p`` is the same action to the same target as an unfinished action on its
    model (its finish). A rollout is never run again this way: its stages are not
    idempotent."""
    from console.actions.pending import incomplete_actions

    if p.action == ActionKind.ROLLOUT:
        return False
    return any(_same_target(p, e) for e in incomplete_actions(ws, p.model))


def blocking_unfinished(ws: Workspace, p: Plan) -> str:
    """Why ``p`` must wait for an unfinished action on its model ("" when it need not): a
    fresh mitigation on top of a half-done one would bury it. Its finish and undo commands
    themselves pass (the same action to the same target, or a traffic or pointer move)."""
    from console.actions.pending import incomplete_actions

    for entry in incomplete_actions(ws, p.model):
        if p.action in (ActionKind.TRAFFIC, ActionKind.POINTER):
            return ""
        if _same_target(p, entry):
            return ""
        return (
            f"an unfinished {entry.get('action')} of {p.model} (started {entry['started_at']} "
            f"by its actor, {entry['state']}) must be finished or undone first — finish: "
            f"{entry.get('finish')} · undo: {entry.get('undo')} (rollbook audit pending)"
        )
    return ""


def _plan_for(
    ws: Workspace,
    request: Request,
    *,
    incident_id: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Plan:
    kind, model = ActionKind(request.action), request.model
    if kind is ActionKind.ROLLBACK:
        from console.actions.rollback import plan_rollback

        return plan_rollback(
            ws, model, request.to, request.overrides, incident_id=incident_id, timeout=timeout
        )
    if kind is ActionKind.KILLSWITCH:
        from console.actions.killswitch import plan_killswitch

        return plan_killswitch(ws, model, request.level, timeout=timeout)
    if kind is ActionKind.RESTORE:
        from console.actions.killswitch import plan_restore

        return plan_restore(ws, model, timeout=timeout)
    if kind is ActionKind.TRAFFIC:
        from console.actions.traffic import plan_traffic

        return plan_traffic(ws, model, dict(request.weights or {}), timeout=timeout)
    if kind is ActionKind.POINTER:
        from console.actions.traffic import plan_pointer

        return plan_pointer(ws, model, str(request.version), timeout=timeout)
    if kind is ActionKind.STAGE:
        from console.actions.traffic import plan_stage

        return plan_stage(ws, model, str(request.version), str(request.stage), timeout=timeout)
    if kind is ActionKind.ROLLOUT:
        from console.actions.rollout import DEFAULT_STAGES, plan_rollout

        return plan_rollout(
            ws,
            model,
            str(request.version),
            stages=request.stages or DEFAULT_STAGES,
            dwell_minutes=request.dwell_minutes,
            guardrails=request.guardrails,
            timeout=timeout,
        )
    if kind in (ActionKind.PAUSE_BATCH, ActionKind.RESUME_BATCH):
        from console.actions.batch import plan_batch

        return plan_batch(ws, model, pause=kind is ActionKind.PAUSE_BATCH, timeout=timeout)
    raise ActionRefused(f"{kind.value} is not an action on production")


def _executor(kind: str) -> Callable[..., None]:
    if kind == ActionKind.ROLLBACK:
        from console.actions.rollback import execute_rollback

        return execute_rollback
    if kind == ActionKind.KILLSWITCH:
        from console.actions.killswitch import execute_killswitch

        return execute_killswitch
    if kind in (ActionKind.RESTORE, ActionKind.TRAFFIC):
        from console.actions.traffic import execute_traffic

        return execute_traffic
    if kind == ActionKind.POINTER:
        from console.actions.traffic import execute_pointer

        return execute_pointer
    if kind == ActionKind.STAGE:
        from console.actions.traffic import execute_stage

        return execute_stage
    if kind == ActionKind.ROLLOUT:
        from console.actions.rollout import execute_rollout

        return execute_rollout
    from console.actions.batch import execute_batch

    return execute_batch


def preview(plan: Plan) -> ActionResult:
    """The plan as a result that changes nothing; its status says how the real run would
    end (refused, nothing to do, or applied)."""
    if plan.noop:
        return ActionResult(
            plan, ActionStatus.DRY_RUN, f"would do nothing: {plan.noop_reason}", dry_run=True
        )
    if plan.blocked:
        names = ", ".join(c.name for c in plan.checks if c.blocking)
        why = f" (preflight: {names})" if names else ""
        message = f"would be REFUSED{why}: {plan.refusal}"
        return ActionResult(plan, ActionStatus.REFUSED, message, dry_run=True)
    return ActionResult(plan, ActionStatus.DRY_RUN, f"would {plan.summary}", dry_run=True)


def stale(ws: Workspace, plan: Plan, *, timeout: float = DEFAULT_TIMEOUT_S) -> str | None:
    """How production moved since ``plan`` was made (None: as planned). A plan is executed
    only against the state it was made from: someone else's change in between is never
    overwritten by a decision taken before it."""
    b, model = ws.backends, plan.model
    if plan.routes_before is not None:
        now = call(b.traffic.routes, model, timeout=timeout, what="traffic.routes")
        if not same_routes(now, plan.routes_before):
            return (
                f"traffic is now {format_routes(now)}, the plan was made for "
                f"{format_routes(plan.routes_before)}"
            )
    if plan.pointer_before is not None or plan.action in (ActionKind.ROLLBACK, ActionKind.POINTER):
        prod = call(
            b.registry.production_version, model, timeout=timeout, what="registry.production"
        )
        if prod != plan.pointer_before:
            return f"production is now {prod}, the plan was made for {plan.pointer_before}"
    if plan.paused_before is not None:
        paused = call(b.traffic.batch_paused, model, timeout=timeout, what="traffic.batch_paused")
        if paused != plan.paused_before:
            return f"the batch job is now {'paused' if paused else 'running'}"
    return None


def execute(
    ws: Workspace,
    plan: Plan,
    *,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    reason: str = "",
    step_id: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    wait: Callable[[float], None] | None = None,
) -> ActionResult:
    """Execute ``plan`` (see the module's docstring). ``step_id`` names the runbook step
    running it (the engine records that step itself); ``wait`` paces a rollout's dwells."""
    guard(ws, plan.action, confirmed_by=confirmed_by, automatic=automatic)
    rec = ActionRecorder(ws, plan.action, plan.model, incident_for(ws, plan.model, incident_id))
    res = ActionResult(
        plan,
        ActionStatus.NOOP,
        "",
        steps=rec.steps,
        incident_id=rec.incident_id,
        action_id=rec.action_id,
    )
    moved = {"from": plan.pointer_before, "to": plan.pointer_after}
    if plan.noop:
        # ``command``: what asks for exactly this; run as an unfinished action's finish or
        # undo, its no-op settles that action (``console.actions.pending``)
        rec.event("noop", plan.noop_reason, further=plan.further, command=plan.finish, **moved)
        res.message = plan.noop_reason
        return res
    if plan.blocked:
        rec.event("refused", plan.refusal, plan=plan.to_dict())
        res.status, res.message = ActionStatus.REFUSED, plan.refusal
        return res
    holder = LockHolder(ws.actor, str(plan.action), ws.now())
    try:
        with ws.store.model_lock(plan.model, holder):
            return _execute_locked(
                ws,
                plan,
                rec,
                res,
                confirmed_by=confirmed_by,
                automatic=automatic,
                reason=reason,
                step_id=step_id,
                timeout=timeout,
                wait=wait,
            )
    except ActionInProgress as exc:
        rec.event("refused", exc.message, plan=plan.to_dict(), in_progress=True)
        res.status, res.message = ActionStatus.REFUSED, exc.message
        return res


def _execute_locked(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    confirmed_by: str | None,
    automatic: bool,
    reason: str,
    step_id: str | None,
    timeout: float,
    wait: Callable[[float], None] | None,
) -> ActionResult:
    moved = {"from": plan.pointer_before, "to": plan.pointer_after}
    changed = stale(ws, plan, timeout=timeout)
    if changed:
        # someone changed production between this plan and now (the lock's last holder,
        # most often): if the same request is now a no-op, that is the answer
        again = replan(ws, plan, timeout=timeout)
        if again is not None and again.noop:
            rec.event(
                "noop", again.noop_reason, further=again.further, command=again.finish, **moved
            )
            res.plan, res.message = again, again.noop_reason
            return res
        why = (
            f"production changed since the plan was made ({changed}): nothing was done; "
            "look again and re-plan"
        )
        rec.event("refused", why, plan=plan.to_dict(), stale=True)
        res.status, res.message = ActionStatus.REFUSED, why
        return res
    rec.event(
        "requested",
        plan.summary,
        plan=plan.to_dict(),
        reason=reason,
        overrides=plan.overrides,
        finish=plan.finish,
        undo=plan.undo,
    )
    confirmer = (confirmed_by or "").strip() or ws.actor
    rec.event(
        "confirmed",
        f"confirmed by {confirmer}" + (" (automatic)" if automatic else ""),
        confirmed_by=confirmer,
        automatic=automatic,
    )
    try:
        _executor(plan.action)(ws, plan, rec, res, timeout=timeout, reason=reason, wait=wait)
    except (KeyboardInterrupt, Interrupted) as exc:
        what = exc.signal_name if isinstance(exc, Interrupted) else "Ctrl+C"
        done = [s.name for s in rec.steps if s.ok]
        rec.event(
            "interrupted",
            f"INTERRUPTED by {what} after "
            f"{', '.join(done) or 'no confirmed step'}: finish or undo it",
            finish=plan.finish,
            undo=plan.undo,
            completed_steps=done,
        )
        res.status = ActionStatus.INTERRUPTED
        res.message = (
            f"interrupted by {what} after {', '.join(done) or 'no confirmed step'}; "
            "production may be partly changed"
        )
        res.finish, res.undo = plan.finish, plan.undo
        return res
    except RollbookError as exc:
        settle_after_error(ws, plan, rec, res, exc, timeout=timeout)
    record_on_incident(ws, res, step_id=step_id)
    return res


def replan(ws: Workspace, plan: Plan, *, timeout: float = DEFAULT_TIMEOUT_S) -> Plan | None:
    """The request ``plan`` was made for, planned again now (None when it cannot be
    rebuilt from the plan)."""
    kind = ActionKind(plan.action)
    req = {
        ActionKind.ROLLBACK: lambda: Request(
            kind,
            plan.model,
            to=plan.pointer_after if plan.rule == "explicit" else None,
            overrides=tuple(plan.overrides),
        ),
        ActionKind.KILLSWITCH: lambda: Request(
            kind, plan.model, level=plan.ladder[0] if plan.ladder else None
        ),
        ActionKind.RESTORE: lambda: Request(kind, plan.model),
        ActionKind.TRAFFIC: lambda: Request(kind, plan.model, weights=plan.routes_after),
        ActionKind.POINTER: lambda: Request(kind, plan.model, version=plan.version),
        ActionKind.PAUSE_BATCH: lambda: Request(kind, plan.model),
        ActionKind.RESUME_BATCH: lambda: Request(kind, plan.model),
    }.get(kind)
    if req is None:
        return None
    try:
        return _plan_for(ws, req(), timeout=timeout)
    except RollbookError:
        return None


def settle_after_error(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    exc: RollbookError,
    *,
    timeout: float,
) -> None:
    """An error escaped an action's steps: read production back and end the action by what
    was read — applied (0), nothing changed (5), or partially applied / unknown (6, with the
    finish and undo commands) — never by which exception it was."""
    from console.actions import readback

    seen = readback.observe(ws, plan, timeout=timeout)
    outcome = readback.compare(plan, seen)
    moved = {"from": plan.pointer_before, "to": plan.pointer_after}
    if outcome == "applied":
        rec.event(
            "finished",
            f"{plan.summary}: read back as planned after an error ({exc.message})",
            error=exc.message,
            read_back=seen.describe(),
            **moved,
        )
        res.status = ActionStatus.APPLIED
        res.message = (
            f"{plan.summary}: applied — production reads back as planned "
            f"({seen.describe()}), though a later step failed: {exc.message}"
        )
        res.undo = plan.undo
    elif outcome == "unchanged":
        rec.event(
            "failed",
            f"{plan.summary} failed; nothing changed: {exc.message}",
            error=exc.message,
            state="unchanged",
        )
        res.status = ActionStatus.FAILED
        res.message = f"failed, nothing changed ({seen.describe()}): {exc.message}"
    else:
        state = "unknown" if outcome == "unknown" else "partially applied"
        rec.event(
            "partial",
            f"PARTIALLY APPLIED ({state}): {seen.describe()}: {exc.message}",
            error=exc.message,
            state=outcome,
            finish=plan.finish,
            undo=plan.undo,
            **moved,
        )
        res.status = ActionStatus.PARTIAL
        res.message = f"{state}: {seen.describe()} — {exc.message}"
        res.finish, res.undo = plan.finish, plan.undo


def record_on_incident(ws: Workspace, res: ActionResult, *, step_id: str | None = None) -> None:
    """An applied change to production, on the model's open incident: the lifecycle's
    ``mitigation_applied``, the runbook's matching action step settled (unless a step ran
    it), and the recovery watch started."""
    if res.incident_id is None or res.status is not ActionStatus.APPLIED:
        return
    if res.action not in CHANGES_SERVING:
        return
    from console import lifecycle, recovery

    inc = ws.store.get(res.incident_id)
    if not inc.is_open:
        return
    lifecycle.mitigation_applied(
        ws.store,
        inc.id,
        actor=ws.actor,
        at=ws.now(),
        action=res.action,
        summary=res.plan.summary,
        action_id=res.action_id,
    )
    if step_id is None and inc.runbook:
        _settle_step(ws, inc.id, res)
    res.recovery = recovery.start(ws, inc.id, action=res.action, action_id=res.action_id)


#: Runbook action names per action kind (a runbook's ``set_traffic`` is ``rollbook traffic``).
RUNBOOK_ACTIONS = {
    # a rollback that leaves exactly a set_traffic step's routes (a canary removed) is it
    ActionKind.ROLLBACK: ("rollback", "set_traffic"),
    ActionKind.KILLSWITCH: ("killswitch",),
    ActionKind.RESTORE: ("restore",),
    ActionKind.TRAFFIC: ("set_traffic",),
    ActionKind.PAUSE_BATCH: ("pause_batch",),
    ActionKind.RESUME_BATCH: ("resume_batch",),
}


def _settle_step(ws: Workspace, incident_id: str, res: ActionResult) -> None:
    names = RUNBOOK_ACTIONS.get(ActionKind(res.action), ())
    if not names:
        return
    try:
        from console.runbooks.engine import Engine

        Engine(ws, incident_id).settle_by_action(names, res)
    except RollbookError:
        pass  # the action is recorded; a runbook that cannot load must not undo that


def run(
    ws: Workspace,
    request: Request,
    *,
    dry_run: bool = False,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    reason: str = "",
    step_id: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    wait: Callable[[float], None] | None = None,
) -> ActionResult:
    """``plan`` then (unless ``dry_run``) ``execute`` — for scripts, runbook steps and
    tests; the CLI and the console show the plan in between."""
    p = plan(ws, request, incident_id=incident_id, timeout=timeout)
    if dry_run:
        return preview(p)
    return execute(
        ws,
        p,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        automatic=automatic,
        reason=reason,
        step_id=step_id,
        timeout=timeout,
        wait=wait,
    )


__all__ = ["Interrupted", "Request", "execute", "plan", "preview", "run", "stale"]
