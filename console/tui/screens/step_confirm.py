"""Confirmation for a runbook action step: shows the engine's dry-run plan; y runs it,
n/esc leaves it pending."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.actions.plan import Plan
from console.plans import plan_lines
from console.tui.screens.base import bind_confirm_keys, close_hint, confirm_hint


class StepConfirmModal(ModalScreen[bool]):
    """Keys from the registry (scope ``confirm``): y executes, n / esc cancel."""

    def __init__(self, title: str, plan: Plan | None) -> None:
        super().__init__()
        self.title_text, self.plan = title, plan

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"⚠ {self.title_text}?", id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                lines = plan_lines(self.plan) if self.plan else ["(no plan details)"]
                yield Static("\n".join(lines), id="dialog-plan")
            yield Static("", id="dialog-hint")

    def on_mount(self) -> None:
        bind_confirm_keys(self)
        blocked = self.plan is not None and self.plan.blocked
        warned = self.plan is not None and bool(self.plan.warnings)
        self.query_one("#dialog-hint", Static).update(
            "✖ refused — " + close_hint(self) if blocked else confirm_hint(self, warned=warned)
        )

    def action_confirm(self) -> None:
        if self.plan is not None and self.plan.blocked:
            return  # a refused plan offers no y
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_close_done(self) -> None:
        if self.plan is not None and self.plan.blocked:
            self.dismiss(False)
