"""Vocabulary shared by the checks: severities, statuses and JSON-safe number handling.

Results never carry a silent NaN: a statistic that cannot be computed is ``None`` and the
result says why (a ``reasons`` or ``notes`` entry).
"""

from __future__ import annotations

import math
from typing import Any, Literal

Severity = Literal["stable", "moderate", "significant"]
Status = Literal["healthy", "warning", "critical"]

SEVERITY_RANK: dict[str, int] = {"stable": 0, "moderate": 1, "significant": 2}
STATUS_RANK: dict[str, int] = {"healthy": 0, "warning": 1, "critical": 2}
STATUS_OF_SEVERITY: dict[str, Status] = {
    "stable": "healthy",
    "moderate": "warning",
    "significant": "critical",
}


def finite(value: Any) -> float | None:
    """``value`` as a Python float, or ``None`` when it is missing, NaN or ±inf."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def worst_severity(*severities: Severity) -> Severity:
    """The most severe of ``severities`` (``"stable"`` when none are given)."""
    best: Severity = "stable"
    for s in severities:
        if SEVERITY_RANK[s] > SEVERITY_RANK[best]:
            best = s
    return best


def worst_status(*statuses: Status) -> Status:
    """The most severe of ``statuses`` (``"healthy"`` when none are given)."""
    best: Status = "healthy"
    for s in statuses:
        if STATUS_RANK[s] > STATUS_RANK[best]:
            best = s
    return best


def percent(rate: float | None, digits: int = 1) -> str:
    """A rate in [0, 1] shown as a percentage, ``"n/a"`` for ``None``."""
    return "n/a" if rate is None else f"{rate * 100:.{digits}f}%"
