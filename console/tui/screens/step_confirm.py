"""Confirmation for a runbook action step: shows the engine's dry-run plan; y runs it,
n/esc leaves it pending."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _plain(value) -> str:
    """A value as a person reads it: no braces, quotes or True/False."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if value and all(isinstance(v, int | float) and not isinstance(v, bool)
                         for v in value.values()):
            from console.fleet import format_routes

            return format_routes(value)  # routes: v13:100%
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "—"
    return "—" if value is None else str(value)


def plan_lines(plan: dict | None) -> list[str]:
    if not plan:
        return ["(no plan details)"]
    out = []
    if plan.get("summary"):
        out.append(str(plan["summary"]))
    for key in ("from", "to", "level", "route", "traffic_before", "traffic_after", "model",
                "message"):
        if plan.get(key) is not None:
            out.append(f"{key:<15} {_plain(plan[key])}")
    for c in plan.get("checks") or []:
        if isinstance(c, dict):
            mark = "✔ PASS" if c.get("ok") else ("⚑ OVERRIDDEN" if c.get("overridden") else
                                                  "✖ FAIL")
            out.append(f"  {mark:<8} {c.get('name', ''):<18} {c.get('detail', '')}")
    for key in ("before", "after"):
        if isinstance(plan.get(key), dict):
            out.append(f"{key:<15} {_plain(plan[key])}")
    inner = plan.get("plan")
    if isinstance(inner, dict):
        out += [ln for ln in plan_lines(inner) if ln not in out and ln != "(no plan details)"]
    return out or [_plain({k: v for k, v in plan.items() if k != "status"})]


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
            with VerticalScroll(id="dialog-body"):
                yield Static("\n".join(plan_lines(self.plan)), id="dialog-plan")
            yield Static("y EXECUTE   ·   n / esc cancel", id="dialog-hint")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
