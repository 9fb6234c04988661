"""Running one step of each kind. The engine records what these return.

A check "passes" when its condition holds (healthy) and "fails" when it found a problem; a
check that cannot run (backend down, timeout, no data) fails with the error as its summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from console.actions.calls import call
from console.errors import InvalidInput, RollbookError
from console.runbooks import templating
from console.runbooks.context import StepContext
from console.runbooks.model import Step

if TYPE_CHECKING:
    from console.runbooks.engine import Engine

AUTO_MANUAL_NOTE = "(auto, drill)"


@dataclass
class StepResult:
    state: str
    summary: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    note: str | None = None


def json_safe(value: Any) -> Any:
    """Evidence goes on the timeline as JSON: NaN/inf become None, numpy scalars plain."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):
        return json_safe(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return json_safe(value.to_dict())
    return str(value)


def run_kind(
    engine: Engine,
    step: Step,
    ctx: StepContext,
    params: dict[str, Any],
    *,
    answer: str | None,
    note: str | None,
    automatic: bool,
    jinja: dict[str, Any],
    plan: Any = None,
) -> StepResult:
    if step.kind == "action":
        return _action(
            engine,
            step,
            ctx,
            params,
            answer=answer,
            note=note,
            automatic=automatic,
            jinja=jinja,
            plan=plan,
        )
    runner = {
        "check": _check,
        "manual": _manual,
        "decision": _decision,
        "note": _note,
    }[step.kind]
    return runner(
        engine, step, ctx, params, answer=answer, note=note, automatic=automatic, jinja=jinja
    )


def _in_thread(fn: Any, timeout: float | None) -> Any:
    return call(fn, timeout=timeout, what="the check", wrap_errors=False)


def _check(
    engine: Engine,
    step: Step,
    ctx: StepContext,
    params: dict[str, Any],
    *,
    answer: str | None,
    note: str | None,
    automatic: bool,
    jinja: dict[str, Any],
) -> StepResult:
    spec = engine.checks[step.name or ""]  # validated: a check step names its check
    timeout = step.timeout_s or spec.timeout_s
    if timeout is not None and step.timeout_s is None:
        timeout = engine.check_timeout_s
    if spec.timeout_s is None and ctx.manual_clock is not None:
        timeout = None  # it advances simulated time itself and keeps its own deadline
    try:
        outcome = _in_thread(lambda: spec.fn(ctx, params), timeout)
    except RollbookError as exc:
        return StepResult(
            "failed",
            f"check could not run: {exc.message}",
            {"error": exc.message, "hint": exc.hint},
            {"error": True},
            note=note,
        )
    except Exception as exc:  # noqa: BLE001 - a broken check is a failed step, not a crash
        return StepResult(
            "failed",
            f"check crashed: {type(exc).__name__}: {exc}",
            {"error": f"{type(exc).__name__}: {exc}"},
            {"error": True},
            note=note,
        )
    values = json_safe(outcome.values)
    evidence = json_safe(outcome.evidence)
    if outcome.no_data:  # nothing was measured: a pass would claim more than was seen
        return StepResult(
            "inconclusive",
            f"{outcome.summary} — no data: INCONCLUSIVE",
            evidence,
            values,
            note=note,
        )
    healthy = outcome.healthy
    if step.pass_if:
        try:
            healthy = bool(
                templating.evaluate(step.pass_if, {**jinja, "result": values, "evidence": evidence})
            )
        except templating.ConditionError as exc:
            return StepResult(
                "failed",
                f"{outcome.summary} [pass_if could not be evaluated: {exc}]",
                evidence,
                values,
                note=note,
            )
    state = "failed" if healthy is False else "passed"
    return StepResult(state, outcome.summary, evidence, values, note=note)


def _action(
    engine: Engine,
    step: Step,
    ctx: StepContext,
    params: dict[str, Any],
    *,
    answer: str | None,
    note: str | None,
    automatic: bool,
    jinja: dict[str, Any],
    plan: Any = None,
) -> StepResult:
    spec = engine.actions[step.name or ""]  # validated: an action step names its action
    if spec.world_only and ctx.backends.world is None:
        return StepResult(
            "failed",
            f"{step.name} only exists in simulated worlds (drills, the demo); "
            f"{ctx.ws.env.name!r} has none",
            note=note,
        )
    try:
        out = spec.fn(ctx, params, dry_run=False, automatic=automatic, plan=plan)
    except RollbookError as exc:
        return StepResult(
            "failed",
            f"{step.name} did not run: {exc.message}",
            {"error": exc.message, "hint": exc.hint},
            {"status": "refused"},
            note=note,
        )
    evidence = json_safe(
        {
            **out.evidence,
            "automatic": automatic,
            "confirmed_by": None if automatic else ctx.ws.actor,
        }
    )
    return StepResult(
        "done" if out.ok else "failed", out.summary, evidence, {"status": out.status}, note=note
    )


def _manual(
    engine: Engine,
    step: Step,
    ctx: StepContext,
    params: dict[str, Any],
    *,
    answer: str | None,
    note: str | None,
    automatic: bool,
    jinja: dict[str, Any],
) -> StepResult:
    text = (note or "").strip()
    items = []
    for item in step.action_items:
        due = (ctx.now() + timedelta(days=item.due_days)).date().isoformat()
        # an owner or link that is not known is left empty (the owner falls back), not a
        # placeholder
        owner = templating.render(item.owner, jinja, placeholders=False) or _owner(ctx)
        record = {
            "what": templating.render(item.what, jinja),
            "owner": owner,
            "due": due,
            "type": item.type,
            "link": templating.render(item.link, jinja, placeholders=False),
            "step": step.id,
        }
        ctx.ws.store.append(
            ctx.incident.id,
            "action_item",
            record["what"],
            actor=ctx.ws.actor,
            at=ctx.now(),
            payload=record,
        )
        items.append(record)
    summary = f"done by {ctx.ws.actor}" + (f": {text}" if text else "")
    if items:
        summary += f" ({len(items)} action items recorded)"
    return StepResult("done", summary, {"action_items": items} if items else {}, note=text or None)


def _owner(ctx: StepContext) -> str:
    try:
        info = ctx.model_info()
    except RollbookError:
        info = None
    return (info.owner if info and info.owner else "") or ctx.ws.actor


def _decision(
    engine: Engine,
    step: Step,
    ctx: StepContext,
    params: dict[str, Any],
    *,
    answer: str | None,
    note: str | None,
    automatic: bool,
    jinja: dict[str, Any],
) -> StepResult:
    opt = step.option(answer or "")
    assert opt is not None  # prepare() checked it
    why = (note or "").strip()
    return StepResult(
        "done",
        f"decided: {opt.label}" + (f" — {why}" if why else "") + (" (auto)" if automatic else ""),
        {"option": opt.to_dict(), "decided_by": "auto" if automatic else ctx.ws.actor},
        {"option": opt.id},
        answer=opt.id,
        note=why or None,
    )


def _note(
    engine: Engine,
    step: Step,
    ctx: StepContext,
    params: dict[str, Any],
    *,
    answer: str | None,
    note: str | None,
    automatic: bool,
    jinja: dict[str, Any],
) -> StepResult:
    text = (note or "").strip()
    if not text:
        return StepResult("skipped", "no note written")
    ctx.ws.store.append(
        ctx.incident.id,
        "note",
        text,
        actor=ctx.ws.actor,
        at=ctx.now(),
        payload={"tag": step.tag, "step": step.id},
    )
    return StepResult("done", text, {"tag": step.tag}, note=text)


def prepare(
    step: Step, *, answer: str | None, note: str | None, automatic: bool, jinja: dict[str, Any]
) -> tuple[str | None, str | None]:
    """Resolve a step's inputs before anything is recorded: a decision's answer (its
    ``auto`` expression when the engine acts alone), a note's text (``auto_text``), a
    manual step's note. Raises InvalidInput naming what is missing."""
    if step.kind == "decision":
        choices = ", ".join(f"{o.id} ({o.label})" for o in step.options)
        if answer is None and automatic and step.auto:
            try:
                answer = str(templating.evaluate(step.auto, jinja))
            except templating.ConditionError as exc:
                raise InvalidInput(
                    f"step {step.id}: its auto expression failed: {exc}",
                    hint=f"answer it yourself: --answer one of {choices}",
                ) from None
        if answer is None:
            raise InvalidInput(
                f"step {step.id} is a decision: {templating.render(step.title, jinja)}",
                hint=f"answer with --answer one of: {choices}",
            )
        if step.option(answer) is None:
            raise InvalidInput(
                f"{answer!r} is not an option of step {step.id}", hint=f"options: {choices}"
            )
    elif step.kind == "note":
        note = (note or answer or "").strip() or None
        if note is None and automatic and step.auto_text:
            note = templating.render(step.auto_text, jinja) or None
        if note is None and step.require_note:
            raise InvalidInput(
                f"step {step.id} asks: {templating.render(step.title, jinja)}",
                hint='write it with --note "…"',
            )
    elif step.kind == "manual":
        note = (note or "").strip() or (AUTO_MANUAL_NOTE if automatic else None)
        if step.require_note and not note:
            raise InvalidInput(f"step {step.id} needs a note", hint='add --note "what you did"')
    return answer, note
