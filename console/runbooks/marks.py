"""Setting an incident's milestones from runbook steps.

Milestones happen in order (acknowledged → mitigated → resolved → reviewed). A step that
marks a later one while an earlier one is still unset marks the earlier one too, at the
same moment ("implied"): stopping the impact is also acknowledging the incident.
"""

from __future__ import annotations

from console.runbooks.context import StepContext
from console.store.models import MILESTONES


def mark(ctx: StepContext, milestone: str, message: str = "") -> None:
    store, inc = ctx.ws.store, ctx.ws.store.get(ctx.incident.id)
    if inc.milestone(milestone) is not None:
        return
    at = ctx.now()
    for m in MILESTONES:
        prev = inc.milestone(m)
        if prev is not None and prev > at:
            at = prev
    for m in MILESTONES[1 : MILESTONES.index(milestone)]:
        if inc.milestone(m) is None:
            inc = store.mark(
                inc.id, m, actor=ctx.ws.actor, at=at, message=f"{m} (implied by {milestone})"
            )
    ctx.incident = store.mark(
        inc.id, milestone, actor=ctx.ws.actor, at=at, message=message or milestone
    )
