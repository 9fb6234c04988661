"""An action's plan as lines a person reads (the CLI's `run` and the console's confirmation
show the same thing): no braces, quotes or True/False."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.formatting import plain  # noqa: F401 - one formatter; re-exported

if TYPE_CHECKING:
    from console.actions.plan import Plan
    from console.actions.results import ActionResult


MARKS = {True: "✔ PASS", False: "✖ FAIL"}


def plan_lines(plan: Plan) -> list[str]:
    """The plan for a person, before the key is pressed: warnings first (they are what
    must be read), then what changes and why, then each preflight check. The CLI's plan,
    the console's modals and the runbook's confirmation all print exactly these lines."""
    from console.fleet import format_routes

    out = [f"⚠ {w.message}" for w in plan.warnings]
    if out:
        out.append("")
    if plan.noop:
        out.append(f"✔ NOTHING TO DO: {plan.noop_reason}")
        if plan.routes_before is not None:
            out.append(f"  traffic   {format_routes(plan.routes_before)} (stays)")
        if plan.pointer_before is not None:
            out.append(f"  registry  production pointer {plan.pointer_before} (stays)")
        return out
    out.append(plan.summary)
    if plan.why:
        out.append(f"  why       {plan.why}")
    if plan.pointer_before != plan.pointer_after and plan.pointer_after is not None:
        out.append(f"  registry  production pointer {plan.pointer_before} → {plan.pointer_after}")
    elif plan.pointer_after is not None and plan.action == "rollback":
        out.append(f"  registry  production pointer stays {plan.pointer_after}")
    if plan.routes_after is not None and plan.routes_before is not None:
        before, after = format_routes(plan.routes_before), format_routes(plan.routes_after)
        out.append(f"  traffic   {before}  →  {after}")
    if plan.level:
        out.append(f"  fallback  {plan.level} ({plan.route}) — ladder {' → '.join(plan.ladder)}")
    if plan.stages:
        out.append(
            f"  stages    {' → '.join(f'{s:g}%' for s in plan.stages)}, "
            f"{plan.dwell_minutes:g} min each"
        )
    if plan.stage_after is not None:
        out.append(f"  stage     {plan.version}: {plan.stage_before} → {plan.stage_after}")
    if plan.paused_after is not None:
        word = {True: "paused", False: "running"}
        out.append(
            f"  batch     {word[bool(plan.paused_before)]} → {word[bool(plan.paused_after)]}"
        )
    if plan.checks:
        out.append("  preflight")
    for c in plan.checks:
        mark = "⚑ OVERRIDDEN" if c.overridden else MARKS[c.ok] if c.required or c.ok else "– SKIP"
        out.append(f"    {mark:<8} {c.name:<14} {c.detail}")
    return out


#: The status word for a person, from what was observed.
STATUS_WORDS = {
    "applied": "✔ APPLIED",
    "noop": "✔ NOTHING TO DO",
    "dry-run": "DRY-RUN",
    "refused": "✖ REFUSED",
    "failed": "✖ FAILED (nothing changed)",
    "compensated": "✖ FAILED (undone)",
    "partial": "⚠ PARTIALLY APPLIED",
    "interrupted": "⚠ INTERRUPTED",
}


def result_lines(res: ActionResult) -> list[str]:
    """How an action ended, for a person: the status word (APPLIED only when production was
    read back), the message, the finish/undo commands when it did not complete, and the
    recovery watch when it started one."""
    word = "DRY-RUN" if res.dry_run else STATUS_WORDS.get(res.status.value, res.status.value)
    out = [f"{word}: {res.message}"]
    if res.finish or res.undo:
        if res.status.value in ("partial", "interrupted"):
            out.append(f"  finish: {res.finish}")
            out.append(f"  undo:   {res.undo}")
        elif res.undo:
            out.append(f"  undo:   {res.undo}")
    if res.recovery is not None:
        out.append(res.recovery.line())
    if res.incident_id:
        out.append(f"  recorded on {res.incident_id}")
    return out
