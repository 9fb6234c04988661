"""Intents the TUI sends: thin calls into the core (the same ones the CLI makes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.incidents import acknowledge  # noqa: F401 - re-exported for the screens
from console.workspace import Workspace

if TYPE_CHECKING:
    from console.actions.plan import Plan
    from console.runbooks.engine import StepView


def run_step(
    ws: Workspace,
    incident_id: str,
    step_id: str | None,
    *,
    answer: str | None = None,
    note: str | None = None,
    confirm: bool = False,
    plan: Plan | None = None,
) -> StepView:
    """One runbook step; ``plan`` (with ``confirm``) executes the plan the person saw."""
    from console.runbooks.engine import Engine

    return Engine(ws, incident_id).run_step(
        step_id, answer=answer, note=note, confirm=confirm, plan=plan
    )
