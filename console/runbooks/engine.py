"""The incident engine: walks an incident through its runbook, step by step.

Headless and small: ``Engine(ws, incident_id)`` reads where the incident stands from the
store, ``run_step`` runs one step (a check in a worker thread with a timeout, an action once
confirmed, a manual tick, a decision, a note) and records it on the timeline, ``run_auto``
takes every step itself (drills). The CLI and the TUI call exactly these.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from console.actions.plan import Plan
from console.errors import InvalidInput, InvalidTransition, RollbookError
from console.runbooks import flow, templating
from console.runbooks.context import StepContext
from console.runbooks.model import Runbook, Step
from console.runbooks.registry import load_registries
from console.runbooks.state import FINISHED, Fold, Replay
from console.runbooks.steps import StepResult, prepare, run_kind
from console.store import Incident
from console.workspace import Workspace

#: Step events folded so far, per store (dropped with it), incident and runbook: a refresh
#: reads only the step events after the last one seen (a long incident has tens of
#: thousands: reading them all again took ~0.9 s per refresh at 100,000 events).
_FOLDS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], Fold]] = weakref.WeakKeyDictionary()
_FOLDS_LOCK = threading.Lock()

DEFAULT_CHECK_TIMEOUT_S = 30.0
ALERT_SYNC = timedelta(seconds=60)
SKIP = "skip"
YES = ("yes", "y")


VERIFICATIONS = ("recovery", "alert_cleared")  # checks whose failure means "not fixed yet"


@dataclass
class StepView:
    """One step as the TUI and the CLI show it."""

    id: str
    phase: str
    kind: str
    title: str
    text: str
    state: str
    summary: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    options: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = None  # the check or action
    marks: str | None = None
    answer: str | None = None
    note: str | None = None
    current: bool = False
    needs_confirmation: bool = False  # an action waiting for a person's yes
    needs: str | None = None  # what run_step still wants: "confirm" | "answer" | "note"
    plan: Plan | None = None  # a dry run's or a pending confirmation's plan
    next: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        plan = self.plan.to_dict() if self.plan is not None else None
        return {**asdict(self), "plan": plan, "settled": self.settled}

    @property
    def settled(self) -> bool:
        """Nothing left to do here: done, passed, skipped, or a check that found the problem
        it looks for. A verification (``recovery``, ``alert_cleared``) or an action that
        failed, and a step not run yet, are not settled."""
        if self.state in ("done", "passed", "skipped"):
            return True
        return self.state == "failed" and self.kind == "check" and self.name not in VERIFICATIONS


class Engine:
    def __init__(
        self,
        ws: Workspace,
        incident_id: str,
        *,
        runbook: Runbook | None = None,
        check_timeout_s: float = DEFAULT_CHECK_TIMEOUT_S,
    ) -> None:
        self.ws = ws
        self.incident_id = ws.store.get(incident_id.upper()).id
        self.check_timeout_s = check_timeout_s
        self._alerts_synced_at: datetime | None = None
        self.checks, self.actions = load_registries()
        self.runbook = runbook or self._attached_runbook()

    # ---- reading -------------------------------------------------------------------------
    @property
    def incident(self) -> Incident:
        return self.ws.store.get(self.incident_id)

    def _attached_runbook(self) -> Runbook:
        from console.runbooks.selection import attach_runbook

        return attach_runbook(self.ws, self.incident_id)

    def _replay(self) -> Replay:
        first = self.runbook.steps[0].id if self.runbook.steps else None
        store = self.ws.store
        with _FOLDS_LOCK:
            folds = _FOLDS.setdefault(store, {})
            fold = folds.setdefault((self.incident_id, self.runbook.id), Fold(self.runbook.id))
            fold.add(store.events(self.incident_id, kind_prefix="step.", after_seq=fold.last_seq))
            return fold.replay(first)

    def context(self, step: Step | None = None, state: Replay | None = None) -> StepContext:
        state = state or self._replay()
        return StepContext(self.ws, self.incident, step, state.result_map())

    def steps(self) -> list[StepView]:
        state = self._replay()
        ctx = self.context(state=state)
        return [self._view(s, state, ctx) for s in self.runbook.steps]

    def step(self, step_id: str) -> StepView:
        state = self._replay()
        return self._view(self.runbook.step(step_id), state, self.context(state=state))

    def current(self) -> StepView | None:
        """The next step to run, or None when the runbook has ended."""
        state = self._replay()
        if state.cursor is None or not self.runbook.has_step(state.cursor):
            return None
        return self._view(self.runbook.step(state.cursor), state, self.context(state=state))

    def _view(self, step: Step, state: Replay, ctx: StepContext) -> StepView:
        rec = state.records.get(step.id)
        jinja = ctx.jinja(self.runbook, self._params(step, ctx, render=False))
        return StepView(
            id=step.id,
            phase=step.phase,
            kind=step.kind,
            title=templating.render(step.title, jinja),
            text=templating.render(step.text, jinja),
            state=rec.state if rec else "pending",
            summary=rec.summary if rec else "",
            evidence=rec.evidence if rec else {},
            values=rec.values if rec else {},
            options=[o.to_dict() for o in step.options],
            name=step.name,
            marks=step.marks,
            answer=rec.answer if rec else None,
            note=rec.note if rec else None,
            current=state.cursor == step.id,
            started_at=rec.started_at.isoformat() if rec and rec.started_at else None,
            finished_at=rec.finished_at.isoformat() if rec and rec.finished_at else None,
        )

    def _params(self, step: Step, ctx: StepContext, *, render: bool = True) -> dict[str, Any]:
        if not render:
            return dict(step.params)
        jinja = ctx.jinja(self.runbook)
        try:
            return {k: templating.render_value(v, jinja) for k, v in step.params.items()}
        except templating.ConditionError as exc:
            raise InvalidInput(
                f"step {step.id}: a parameter could not be filled in: {exc}",
                hint="check the runbook's params templates",
            ) from None

    # ---- running -------------------------------------------------------------------------
    def run_step(
        self,
        step_id: str | None = None,
        *,
        answer: str | None = None,
        note: str | None = None,
        confirm: bool = False,
        dry_run: bool = False,
        automatic: bool = False,
        plan: Plan | None = None,
    ) -> StepView:
        """Run ``step_id`` (default: the current step) and record it.

        ``answer`` picks a decision's option (or ``"skip"`` skips any step); ``note`` is
        the text of a note step or a manual step's note; ``confirm`` is a person's yes to
        an action; ``dry_run`` shows an action's plan and changes nothing; ``automatic``
        means the engine acts on its own (drills, automatic steps): decisions follow their
        ``auto`` expression and notes their ``auto_text``. An action that needs a
        confirmation it did not get comes back ``needs_confirmation`` with its plan; passing
        that ``plan`` back with ``confirm`` executes exactly it (refused if production moved
        since)."""
        state = self._replay()
        if step_id is None:
            if state.cursor is None or not self.runbook.has_step(state.cursor):
                raise InvalidTransition(
                    f"{self.incident_id}: the runbook {self.runbook.id!r} has ended",
                    hint=f"see it with: rollbook incident show {self.incident_id}",
                )
            step_id = state.cursor
        step = self.runbook.step(step_id)
        ctx = self.context(step, state)
        jinja = ctx.jinja(self.runbook)
        if step.kind == "action" and answer is not None and answer.strip().lower() in YES:
            confirm, answer = True, None  # `--answer yes` confirms an action
        if answer is not None and answer.strip().lower() == SKIP and step.option(SKIP) is None:
            return self._finish(
                step, state, StepResult("skipped", f"skipped by {self.ws.actor}", answer=SKIP)
            )
        if step.when and not dry_run and not self._wanted(step, jinja):
            return self._finish(
                step, state, StepResult("skipped", f"does not apply here (only when {step.when})")
            )
        params = self._params(step, ctx)
        if step.kind == "action" and not dry_run:
            spec = self.actions[step.name or ""]
            auto_ok = (automatic or step.automatic) and self.ws.env.allow_auto_actions
            if spec.dangerous and not confirm and not auto_ok:
                view = self._view(step, state, ctx)
                view.needs_confirmation, view.needs = True, "confirm"
                view.plan = self._plan(step, ctx, params)
                return view
            automatic = automatic or (step.automatic and not confirm)
        if dry_run:
            view = self._view(step, state, ctx)
            view.plan = self._plan(step, ctx, params) if step.kind == "action" else None
            return view
        answer, note = prepare(step, answer=answer, note=note, automatic=automatic, jinja=jinja)
        if step.id == state.cursor or step.kind == "action":
            # following the flow, or acting on the world, moves the incident into the step's
            # phase; a note or check taken ahead of the flow (a why written early) does not
            self._enter_phase(step.phase)
        self._event(
            "step.started",
            f"{step.phase} · {self._title(step)}",
            step,
            {"name": step.name, "params": params},
        )
        ctx = self.context(step)
        result = run_kind(
            self,
            step,
            ctx,
            params,
            answer=answer,
            note=note,
            automatic=automatic,
            jinja=ctx.jinja(self.runbook, params),
            plan=plan,
        )
        return self._finish(step, self._replay(), result, ctx=ctx)

    @staticmethod
    def _wanted(step: Step, jinja: dict[str, Any]) -> bool:
        """A step's ``when``; a condition that cannot be evaluated runs the step (safer)."""
        try:
            return bool(templating.evaluate(step.when or "true", jinja))
        except templating.ConditionError:
            return True

    async def arun_step(self, step_id: str | None = None, **kwargs: Any) -> StepView:
        """``run_step`` off the event loop (for the TUI's workers)."""
        return await asyncio.to_thread(self.run_step, step_id, **kwargs)

    def _plan(self, step: Step, ctx: StepContext, params: dict[str, Any]) -> Plan:
        """The action's plan (production actions), or a one-line plan for the others."""
        name = step.name or ""
        try:
            out = self.actions[name].fn(ctx, params, dry_run=True, automatic=False)
        except RollbookError as exc:
            why = exc.message + (f" ({exc.hint})" if exc.hint else "")
            return Plan(name, ctx.model, exc.message, refusal=why)
        return out.plan or Plan(name, ctx.model, out.summary)

    # ---- what the recovery watch and the mitigation use case need -----------------------
    def mitigation_check(self) -> tuple[str, str, dict[str, Any]] | None:
        """``(step id, check name, rendered params)`` of the check that marks the incident
        mitigated (the runbook's recovery check), or None."""
        for step in self.runbook.steps:
            if step.kind == "check" and step.marks == "mitigated" and step.name:
                state = self._replay()
                return step.id, step.name, self._params(step, self.context(step, state))
        return None

    def settle_by_action(self, names: tuple[str, ...], res: Any) -> StepView | None:
        """An action taken outside the runbook (R in the console, the CLI) settles the
        runbook's matching action step: the current step when it matches, else the first
        unsettled one, recorded as done with the action's outcome. None when none matches."""
        state = self._replay()
        candidates = [
            s
            for s in self.runbook.steps
            if s.kind == "action"
            and s.name in names
            and (state.records.get(s.id) is None or state.records[s.id].state not in FINISHED)
            and (s.name != "set_traffic" or self._same_routes(s, state, res))
        ]
        if not candidates:
            return None
        step = next((s for s in candidates if s.id == state.cursor), candidates[0])
        # the phase is the lifecycle's (the mitigation moved it to mitigate); a step settled
        # ahead of the flow is remembered, and the flow passes over it when it gets there
        how = f"done outside the runbook ({res.action} by {self.ws.actor})"
        self._event(
            "step.started",
            f"{step.phase} · {self._title(step)}",
            step,
            {"name": step.name, "params": {}, "external": True},
        )
        evidence = {
            "action": res.action,
            "action_id": res.action_id,
            "before": res.plan.routes_before,
            "after": res.plan.routes_after,
            "external": True,
        }
        result = StepResult(
            "done", f"{res.message} — {how}", evidence, {"status": res.status.value}
        )
        return self._finish(step, self._replay(), result)

    def _same_routes(self, step: Step, state: Replay, res: Any) -> bool:
        """Whether a ``set_traffic`` step asks for exactly the routes the action left (a
        rollback that removed a canary is the runbook's "route 100% back" step, done)."""
        from console.actions.traffic import parse_weights

        try:
            params = self._params(step, self.context(step, state))
            weights = dict(params.get("weights") or {})
            wanted = parse_weights([f"{k}={v}" for k, v in weights.items()])
        except (RollbookError, TypeError, ValueError):
            return False
        after = {k: float(v) for k, v in (res.plan.routes_after or {}).items() if float(v) > 0}
        return bool(after) and {k: float(v) for k, v in wanted.items() if v > 0} == after

    def _enter_phase(self, phase: str) -> None:
        from console.lifecycle import enter_phase

        enter_phase(self.ws.store, self.incident_id, phase, actor=self.ws.actor, at=self.ws.now())

    def _title(self, step: Step) -> str:
        return templating.render(step.title, self.context(step).jinja(self.runbook))

    def _event(self, kind: str, message: str, step: Step, payload: dict[str, Any]) -> None:
        self.ws.store.append(
            self.incident_id,
            kind,
            message,
            actor=self.ws.actor,
            at=self.ws.now(),
            payload={
                "step": step.id,
                "phase": step.phase,
                "kind": step.kind,
                "runbook": self.runbook.id,
                **payload,
            },
        )

    def _finish(
        self, step: Step, state: Replay, result: StepResult, *, ctx: StepContext | None = None
    ) -> StepView:
        from console.lifecycle import mark

        ctx = ctx or self.context(step, state)
        if result.state in ("passed", "done") and step.marks:
            ctx.incident = mark(
                self.ws.store,
                self.incident_id,
                step.marks,
                actor=self.ws.actor,
                at=ctx.now(),
                message=f"{step.marks}: {self._title(step)}",
                payload={"step": step.id},
            )
        # a verification with no data holds the flow like a failed one: nothing was seen
        blocked = (result.state == "failed" and (step.stop_on_fail or step.kind == "action")) or (
            result.state == "inconclusive" and step.stop_on_fail
        )
        nxt = (
            step.id
            if blocked
            else flow.after(
                self.runbook, step, answer=result.answer, skipped=result.state == "skipped"
            )
        )
        if step.kind == "decision" and result.state == "skipped":
            nxt = flow.linear_next(self.runbook, step)
        self._event(
            "step.finished",
            f"{self._title(step)}: {result.state}"
            + (f" — {result.summary}" if result.summary else ""),
            step,
            {
                "state": result.state,
                "summary": result.summary,
                "evidence": result.evidence,
                "values": result.values,
                "answer": result.answer,
                "note": result.note,
                "next": nxt,
                "name": step.name,
                **({step.kind: step.name} if step.kind in ("check", "action") else {}),
                "passed": {"passed": True, "failed": False}.get(result.state)
                if step.kind == "check"
                else None,
            },
        )
        self._skip_jumped(step, nxt)
        self._sync_alerts()
        state = self._replay()
        return self._view(step, state, self.context(state=state))

    def _skip_jumped(self, step: Step, nxt: str | None) -> None:
        """Steps a forward jump passes over are recorded as skipped (in order)."""
        order = [s.id for s in self.runbook.steps]
        start = order.index(step.id) + 1
        stop = order.index(nxt) if nxt in order else len(order)
        if stop <= start:
            return
        records = self._replay().records
        for sid in order[start:stop]:
            if records.get(sid) is not None and records[sid].state in FINISHED:
                continue
            s = self.runbook.step(sid)
            self._event(
                "step.finished",
                f"{self._title(s)}: skipped",
                s,
                {
                    "state": "skipped",
                    "summary": f"not on this path (after {step.id})",
                    "auxiliary": True,
                    "next": None,
                },
            )

    def _sync_alerts(self) -> None:
        from console.runbooks.selection import sync_alerts

        now = self.ws.now()
        if self._alerts_synced_at is not None and (now - self._alerts_synced_at) < ALERT_SYNC:
            return  # alerts are evaluated on a one-minute grid: no news within a minute
        self._alerts_synced_at = now
        # the alert feed being down must not stop the runbook
        with contextlib.suppress(RollbookError):
            sync_alerts(self.ws, self.incident_id)

    def run_auto(
        self,
        *,
        pace_s: float = 30.0,
        max_steps: int | None = None,
        on_step: Callable[[StepView], None] | None = None,
    ) -> list[StepView]:
        """Take every step: automatic confirmations, decisions by their ``auto`` expression,
        notes by their ``auto_text``. On a manual clock, ``pace_s`` simulated seconds pass
        before each step (a person reading and acting). Stops at the end, or at a step that
        failed and blocks the flow."""
        from console.clock import ManualClock

        clock = self.ws.clock
        done: list[StepView] = []
        limit = max_steps or 4 * len(self.runbook.steps)
        for _ in range(limit):
            cur = self.current()
            if cur is None:
                break
            if isinstance(clock, ManualClock) and pace_s > 0:
                clock.advance(seconds=pace_s)
            view = self.run_step(cur.id, automatic=True, confirm=True)
            done.append(view)
            if on_step is not None:
                on_step(view)
            if view.state == "failed" and self._replay().cursor == view.id:
                break
        return done

    def timeline(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.ws.store.events(self.incident_id)]

    def metrics(self) -> dict[str, Any]:
        """Time to detect/acknowledge/mitigate/resolve (minutes) and their definitions."""
        from console.reports.metrics import METRIC_DEFINITIONS, incident_metrics
        from console.runbooks.context import incident_onset

        inc = self.incident
        if inc.onset_at is None and incident_onset(inc) is not None:
            from dataclasses import replace

            inc = replace(inc, onset_at=incident_onset(inc))
        return {"values": incident_metrics(inc), "definitions": dict(METRIC_DEFINITIONS)}
