"""What an action returns: its plan, its steps, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# status -> CLI exit code
EXIT_CODES = {
    "applied": 0,
    "noop": 0,
    "dry-run": 0,
    "refused": 1,
    "failed": 5,
    "compensated": 5,
    "partial": 6,
}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    overridden: bool = False

    @property
    def blocking(self) -> bool:
        return not self.ok and not self.overridden

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "overridden": self.overridden,
        }


@dataclass
class ActionResult:
    action: str
    model: str
    status: str  # applied | noop | dry-run | refused | failed | compensated | partial
    message: str
    plan: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    steps: list[Any] = field(default_factory=list)
    verified: bool = False
    incident_id: str | None = None
    action_id: str | None = None
    finish: str | None = None  # exact command that completes a partially applied action
    undo: str | None = None  # exact command that reverts it
    dry_run: bool = False  # a plan only: status says how the real run would end

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "model": self.model,
            "status": self.status,
            "message": self.message,
            "plan": self.plan,
            "checks": [c.to_dict() for c in self.checks],
            "steps": [s.to_dict() for s in self.steps],
            "verified": self.verified,
            "incident_id": self.incident_id,
            "action_id": self.action_id,
            "finish": self.finish,
            "undo": self.undo,
            "dry_run": self.dry_run,
        }
