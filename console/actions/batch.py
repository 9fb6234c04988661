"""Pausing and resuming a model's batch job — the circuit breaker of a batch model: while it is
paused, consumers keep reading the last good run and nothing new is published."""

from __future__ import annotations

from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.plan import Plan
from console.actions.recorder import ActionRecorder
from console.actions.results import ActionResult
from console.enums import ActionKind, ActionStatus
from console.errors import RollbookError
from console.workspace import Workspace


def _state(paused: bool) -> str:
    return "paused" if paused else "running"


def plan_batch(
    ws: Workspace, model: str, *, pause: bool, timeout: float = DEFAULT_TIMEOUT_S
) -> Plan:
    before = call(
        ws.backends.traffic.batch_paused, model, timeout=timeout, what="traffic.batch_paused"
    )
    verb = "pause" if pause else "resume"
    kind = ActionKind.PAUSE_BATCH if pause else ActionKind.RESUME_BATCH
    return Plan(
        action=kind,
        model=model,
        summary=f"{verb} {model} batch job",
        rule="explicit",
        why="consumers keep the last good scores while it is paused"
        if pause
        else "the next run publishes new scores",
        paused_before=before,
        paused_after=pause,
        noop_reason=f"{model} batch job already {_state(before)}" if before == pause else "",
    )


def execute_batch(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    timeout: float,
    **_: Any,
) -> None:
    t = ws.backends.traffic
    pause = bool(plan.paused_after)
    verb = "pause" if pause else "resume"
    try:
        with rec.step("batch", before={"paused": plan.paused_before}) as s:
            call(
                t.pause_batch if pause else t.resume_batch,
                plan.model,
                actor=ws.actor,
                timeout=timeout,
                what=f"traffic.{plan.action}",
            )
            s.after = {
                "paused": call(
                    t.batch_paused, plan.model, timeout=timeout, what="traffic.batch_paused"
                )
            }
            if s.after["paused"] != pause:
                raise RollbookError(f"batch job reads back {_state(s.after['paused'])}")
    except RollbookError as exc:
        rec.event("failed", f"{verb} failed: {exc.message}", error=exc.message)
        res.status, res.message = ActionStatus.FAILED, f"{verb} failed: {exc.message}"
        return
    rec.event("verified", f"{plan.model} batch job {_state(pause)}", paused=pause)
    rec.event(
        "finished",
        f"{plan.model} batch job {'paused' if pause else 'resumed'}",
        before={"paused": plan.paused_before},
        after={"paused": pause},
        **{"from": _state(bool(plan.paused_before)), "to": _state(pause)},
    )
    res.status = ActionStatus.APPLIED
    res.message = (
        f"{plan.model} batch job paused (read back): consumers keep the last good scores"
        if pause
        else f"{plan.model} batch job resumed (read back)"
    )
