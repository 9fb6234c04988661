"""Confirmation for a runbook action step: shows the engine's dry-run plan; y runs it,
n/esc leaves it pending."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.actions.plan import Plan
from console.plans import plan_lines


class StepConfirmModal(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "yes", "Execute", id="step_yes"),
        Binding("n", "no", "Cancel", id="step_no"),
        Binding("escape", "no", "Cancel", show=False, id="step_esc"),
    ]

    def __init__(self, title: str, plan: Plan | None) -> None:
        super().__init__()
        self.title_text, self.plan = title, plan

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"⚠ {self.title_text}?", id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                lines = plan_lines(self.plan) if self.plan else ["(no plan details)"]
                yield Static("\n".join(lines), id="dialog-plan")
            blocked = self.plan is not None and self.plan.blocked
            yield Static(
                "✖ refused — esc close" if blocked else "y EXECUTE   ·   n / esc cancel",
                id="dialog-hint",
            )

    def action_yes(self) -> None:
        if self.plan is not None and self.plan.blocked:
            return  # a refused plan offers no y
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
