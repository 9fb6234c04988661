"""Typed errors raised by the diagnostics library.

All of them are :class:`console.errors.InvalidInput` (exit code 7): the data handed to a check
cannot be judged. Each names what is wrong and carries a ``hint`` saying what to do next.
"""

from __future__ import annotations

from console.errors import InvalidInput


class DiagnosticsInputError(InvalidInput):
    """Base class: the input of a diagnostic check is unusable."""


class EmptyInput(DiagnosticsInputError):
    """A frame, window or sample has no rows (or no usable values) where some are required."""


class ColumnNotFound(DiagnosticsInputError):
    """A column named by the caller is not in the data."""

    def __init__(self, column: str, where: str, available: list[str] | None = None):
        hint = None
        if available:
            shown = ", ".join(available[:12]) + (" …" if len(available) > 12 else "")
            hint = f"available columns: {shown}"
        super().__init__(f"column {column!r} not found in {where}", hint=hint)
        self.column = column
        self.where = where


class DtypeMismatch(DiagnosticsInputError):
    """A column has a type the check cannot use (e.g. text where numbers are required)."""


class UnreadableFile(DiagnosticsInputError):
    """A data file is missing, empty, or not valid CSV/Parquet."""

    def __init__(self, path: object, problem: str, *, hint: str | None = None):
        super().__init__(
            f"{path}: {problem}",
            hint=hint or "pass a readable .csv or .parquet file",
        )
        self.path = path
        self.problem = problem
