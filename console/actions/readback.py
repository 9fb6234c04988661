"""After an error in the middle of an action, what does production look like?

An action's outcome — and its exit code — is decided by reading production back, not by which
exception happened: a backend that fails *after* the change was made (a socket removed right
after the traffic step, a timed-out write that still landed) leaves an applied change, and a
write that failed before anything moved leaves nothing changed. Each backend is read on its
own: one that cannot be read makes that half "unknown", never the whole answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.actions.calls import call
from console.actions.plan import Plan, same_routes
from console.errors import RollbookError
from console.fleet import format_routes
from console.workspace import Workspace

#: How production compares with the plan: every part it touches is as planned after it
#: (``applied``), as before it (``unchanged``), something else (``partial``), or could not
#: be read (``unknown``).
OUTCOMES = ("applied", "unchanged", "partial", "unknown")


@dataclass(frozen=True)
class Observed:
    routes: dict[str, float] | None
    pointer: str | None
    paused: bool | None
    errors: tuple[str, ...]

    def describe(self) -> str:
        parts = []
        if self.routes is not None:
            parts.append(f"traffic {format_routes(self.routes)}")
        if self.pointer is not None:
            parts.append(f"registry {self.pointer}")
        if self.paused is not None:
            parts.append(f"batch job {'paused' if self.paused else 'running'}")
        parts += [f"({e})" for e in self.errors]
        return ", ".join(parts) or "nothing could be read"


def observe(ws: Workspace, plan: Plan, *, timeout: float) -> Observed:
    """Read the parts of production ``plan`` touches, each with its own deadline."""
    b, errors = ws.backends, []
    routes = pointer = paused = None
    if plan.routes_after is not None:
        try:
            routes = call(b.traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
        except RollbookError as exc:
            errors.append(f"traffic unreadable: {exc.message}")
    if plan.pointer_after is not None and plan.action in ("rollback", "pointer", "rollout"):
        try:
            pointer = call(
                b.registry.production_version,
                plan.model,
                timeout=timeout,
                what="registry.production",
            )
        except RollbookError as exc:
            errors.append(f"registry unreadable: {exc.message}")
    if plan.paused_after is not None:
        try:
            paused = call(
                b.traffic.batch_paused, plan.model, timeout=timeout, what="traffic.batch_paused"
            )
        except RollbookError as exc:
            errors.append(f"batch job unreadable: {exc.message}")
    return Observed(routes, pointer, paused, tuple(errors))


def compare(plan: Plan, seen: Observed) -> str:
    """One of ``OUTCOMES`` for ``seen`` against ``plan``."""
    after: list[bool] = []
    before: list[bool] = []
    unreadable = bool(seen.errors)
    if plan.routes_after is not None and seen.routes is not None:
        after.append(same_routes(seen.routes, plan.routes_after))
        before.append(same_routes(seen.routes, plan.routes_before))
    moves_pointer = plan.action in ("rollback", "pointer", "rollout")
    if plan.pointer_after is not None and moves_pointer and seen.pointer is not None:
        after.append(seen.pointer == plan.pointer_after)
        before.append(seen.pointer == plan.pointer_before)
    if plan.paused_after is not None and seen.paused is not None:
        after.append(seen.paused == plan.paused_after)
        before.append(seen.paused == plan.paused_before)
    if not after:
        return "unknown"
    if all(after) and not unreadable:
        return "applied"
    if all(before) and not unreadable:
        return "unchanged"
    if unreadable and (all(after) or all(before)):
        return "unknown"  # the part that could be read does not tell the whole story
    return "partial"
