"""Confirmation for a runbook action step: shows the engine's dry-run plan; y runs it,
n/esc leaves it pending."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


def plan_lines(plan: dict | None) -> list[str]:
    if not plan:
        return ["(no plan details)"]
    out = []
    for key in ("from", "to", "level", "route", "traffic_before", "traffic_after", "model",
                "message"):
        if plan.get(key) is not None:
            out.append(f"{key:<15} {plan[key]}")
    for c in plan.get("checks") or []:
        if isinstance(c, dict):
            mark = "✔ PASS" if c.get("ok") else ("⚑ OVERRIDDEN" if c.get("overridden") else
                                                  "✖ FAIL")
            out.append(f"  {mark:<8} {c.get('name', ''):<18} {c.get('detail', '')}")
    inner = plan.get("plan")
    if isinstance(inner, dict) and not out:
        return plan_lines(inner)
    return out or [str(plan)[:400]]


class StepConfirmModal(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "yes", "Execute", id="step_yes"),
        Binding("n", "no", "Cancel", id="step_no"),
        Binding("escape", "no", "Cancel", show=False, id="step_esc"),
    ]

    def __init__(self, title: str, plan: dict | None) -> None:
        super().__init__()
        self.title_text, self.plan = title, plan

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"⚠ {self.title_text}?", id="dialog-title")
            yield Static("\n".join(plan_lines(self.plan)), id="dialog-plan")
            yield Static("y EXECUTE   ·   n / esc cancel", id="dialog-hint")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
