"""Intents the TUI sends: thin calls into the core (the same ones the CLI makes)."""

from __future__ import annotations

from console.incidents import acknowledge  # noqa: F401 - re-exported for the screens
from console.workspace import Workspace


def run_step(
    ws: Workspace,
    incident_id: str,
    step_id: str | None,
    *,
    answer: str | None = None,
    note: str | None = None,
    confirm: bool = False,
):
    from console.runbooks.engine import Engine

    return Engine(ws, incident_id).run_step(step_id, answer=answer, note=note, confirm=confirm)
