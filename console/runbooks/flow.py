"""How a runbook flows from step to step, and which steps can be reached at all.

Each step goes on to the next step in phase order (across phases) unless it names a
``goto`` or is a decision, which goes where the chosen option's ``goto`` says. ``goto: end``
ends the runbook. A step whose ``when`` condition is false is skipped: the flow goes on to
the next step in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from console.runbooks.model import END, Runbook, Step


def linear_next(runbook: Runbook, step: Step) -> str | None:
    i = runbook.index(step.id)
    return runbook.steps[i + 1].id if i + 1 < len(runbook.steps) else None


def after(
    runbook: Runbook, step: Step, *, answer: str | None = None, skipped: bool = False
) -> str | None:
    """The step that follows ``step`` once it is finished (None: the runbook is over).

    ``answer`` picks a decision's option; a skipped step never follows its own ``goto``."""
    if skipped:
        return linear_next(runbook, step)
    if step.kind == "decision":
        opt = step.option(answer or "")
        if opt is None:
            return None
        return None if opt.goto == END else opt.goto
    if step.goto:
        return None if step.goto == END else step.goto
    return linear_next(runbook, step)


def edges(steps: list[dict], order: list[str]) -> dict[str, set[str]]:
    """Successors of each step id, from raw step mappings (used before a Runbook exists)."""
    out: dict[str, set[str]] = {}
    for i, raw in enumerate(steps):
        sid = raw["id"]
        nxt = order[i + 1] if i + 1 < len(order) else None
        targets: set[str] = set()
        if raw.get("kind") == "decision":
            for opt in raw.get("options") or []:
                if isinstance(opt, dict) and isinstance(opt.get("goto"), str):
                    targets.add(opt["goto"])
        elif isinstance(raw.get("goto"), str):
            targets.add(raw["goto"])
        elif nxt:
            targets.add(nxt)
        if raw.get("when") and nxt:  # a skipped step falls through to the next one
            targets.add(nxt)
        out[sid] = {t for t in targets if t != END}
    return out


def reachable(start: str, graph: dict[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen and nxt in graph:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def unreachable(order: Iterable[str], graph: dict[str, set[str]]) -> list[str]:
    ids = list(order)
    if not ids:
        return []
    seen = reachable(ids[0], graph)
    return [s for s in ids if s not in seen]
