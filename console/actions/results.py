"""What an action returns: its plan, its steps, what was read back, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.actions.plan import Check, Plan
from console.enums import ActionStatus

if TYPE_CHECKING:
    from console.actions.recorder import StepRecord
    from console.recovery import RecoveryWatch

__all__ = ["EXIT_CODES", "ActionResult", "Check", "ReadBack"]

# status -> CLI exit code (README: 0 ok · 1 refused · 5 nothing changed · 6 partially applied)
EXIT_CODES: dict[str, int] = {
    ActionStatus.APPLIED: 0,
    ActionStatus.NOOP: 0,
    ActionStatus.DRY_RUN: 0,
    ActionStatus.REFUSED: 1,
    ActionStatus.FAILED: 5,
    ActionStatus.COMPENSATED: 5,
    ActionStatus.PARTIAL: 6,
    ActionStatus.INTERRUPTED: 6,
}


@dataclass(frozen=True)
class ReadBack:
    """Production as read after the change: traffic, the registry's pointer, and whether the
    target answered its health probe (None: not probed)."""

    routes: dict[str, float] | None = None
    production: str | None = None
    healthy: bool | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "routes": self.routes,
            "production": self.production,
            "healthy": self.healthy,
            "detail": self.detail,
        }


@dataclass
class ActionResult:
    plan: Plan
    status: ActionStatus
    message: str
    steps: list[StepRecord] = field(default_factory=list)
    read_back: ReadBack | None = None
    incident_id: str | None = None
    action_id: str | None = None
    finish: str | None = None  # exact command that completes a partially applied action
    undo: str | None = None  # exact command that reverts it
    dry_run: bool = False  # a plan only: status says how the real run would end
    recovery: RecoveryWatch | None = None  # the watch a mitigation started on its incident

    @property
    def action(self) -> str:
        return self.plan.action

    @property
    def model(self) -> str:
        return self.plan.model

    @property
    def checks(self) -> list[Check]:
        return list(self.plan.checks)

    @property
    def applied(self) -> bool:
        """Changed, and the change read back (traffic and registry agree)."""
        return self.status is ActionStatus.APPLIED

    @property
    def verified(self) -> bool:
        """Applied (or nothing to do) and the target answered healthy where it was probed."""
        ok = self.status in (ActionStatus.APPLIED, ActionStatus.NOOP)
        return ok and (self.read_back is None or self.read_back.healthy is not False)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "model": self.model,
            "status": self.status.value,
            "message": self.message,
            "plan": self.plan.to_dict(),
            "checks": [c.to_dict() for c in self.plan.checks],
            "warnings": [w.to_dict() for w in self.plan.warnings],
            "steps": [s.to_dict() for s in self.steps],
            "read_back": self.read_back.to_dict() if self.read_back else None,
            "verified": self.verified,
            "incident_id": self.incident_id,
            "action_id": self.action_id,
            "finish": self.finish,
            "undo": self.undo,
            "dry_run": self.dry_run,
            "recovery": self.recovery.to_dict() if self.recovery else None,
        }
