"""Who may act: read-only environments refuse every action; the two-person rule needs a
second, different person to confirm."""

from __future__ import annotations

from console.errors import ActionRefused
from console.workspace import Workspace


def guard(
    ws: Workspace, action: str, *, confirmed_by: str | None = None, automatic: bool = False
) -> None:
    env = ws.env
    if env.read_only:
        raise ActionRefused(
            f"environment {env.name!r} is read-only: {action} refused",
            hint="set read_only = false for this environment in config.toml",
        )
    if automatic and not env.allow_auto_actions:
        raise ActionRefused(
            f"environment {env.name!r} does not allow automatic actions",
            hint="confirm the action by hand, or set allow_auto_actions = true",
        )
    if env.two_person:
        # A blank name ("", " ") is no person: refuse it like a missing one. Names compare
        # without case or surrounding whitespace, so " Ana " cannot confirm ana's action.
        confirmer = _person(confirmed_by)
        if not confirmer:
            raise ActionRefused(
                f"environment {env.name!r} needs a second person to confirm {action}",
                hint="pass --confirmed-by NAME (a different person than the one acting)",
            )
        if confirmer == _person(ws.actor):
            raise ActionRefused(
                "the second confirmation must come from a different person",
                hint=f"{ws.actor!r} is acting; ask someone else to confirm",
            )


def _person(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()
