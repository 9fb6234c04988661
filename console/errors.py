"""Typed errors. Each carries what the user should do next (``hint``) and an exit code.

Exit codes (documented in the README):
  0 ok · 1 check/verification failed or action refused · 2 usage error (click) ·
  3 configuration error · 4 not found · 5 backend unreachable or misbehaving ·
  6 action partially applied (state needs a finish/undo command) · 7 invalid input data
"""

from __future__ import annotations


class RollbookError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(RollbookError):
    """The config file is malformed; names the file, the key and what is wrong."""

    exit_code = 3

    def __init__(self, path: object, key: str | None, problem: str, *, hint: str | None = None):
        where = f"{path}" + (f": {key}" if key else "")
        super().__init__(f"{where}: {problem}", hint=hint)
        self.path = path
        self.key = key
        self.problem = problem


class NotFound(RollbookError):
    exit_code = 4


class BackendError(RollbookError):
    """A backend was unreachable, timed out, or answered something we cannot use."""

    exit_code = 5


class InvalidTransition(RollbookError):
    """A stage or phase transition that the rules forbid."""

    exit_code = 1


class ActionRefused(RollbookError):
    exit_code = 1


class ActionInProgress(ActionRefused):
    """Another person's action holds the model: one mitigation at a time, team-wide."""

    def __init__(self, message: str, *, holder: object = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.holder = holder


class PartiallyApplied(RollbookError):
    """An action changed some state and could not finish or undo it; ``finish``/``undo``
    hold the exact commands that complete or revert it."""

    exit_code = 6

    def __init__(self, message: str, *, finish: str, undo: str, hint: str | None = None):
        super().__init__(message, hint=hint or f"finish with: {finish}  |  undo with: {undo}")
        self.finish = finish
        self.undo = undo


class InvalidInput(RollbookError):
    exit_code = 7
