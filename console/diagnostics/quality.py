"""Data quality: null rates and value ranges checked against thresholds.

Defaults follow practice: a null rate above 2% warns, above 5% is critical (and is the level
at which the batch circuit breaker pauses scoring).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from console.diagnostics.errors import ColumnNotFound, DtypeMismatch
from console.diagnostics.profile import is_numeric_series, numeric_values
from console.diagnostics.results import Status, finite, percent, worst_status


@dataclass(frozen=True)
class ColumnQuality:
    """Quality of one column. Rates are fractions of all rows (``None`` for an empty
    frame). ``expected_range`` is the inclusive [low, high] the values were checked against
    (``None`` when no range applies); NaN is counted as null, ±inf as out of range."""

    name: str
    dtype: str
    rows: int
    null_rate: float | None
    out_of_range_rate: float | None
    below: int
    above: int
    expected_range: tuple[float, float] | None
    status: Status
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "rows": self.rows,
            "null_rate": finite(self.null_rate),
            "out_of_range_rate": finite(self.out_of_range_rate),
            "below": self.below,
            "above": self.above,
            "expected_range": None
            if self.expected_range is None
            else [finite(self.expected_range[0]), finite(self.expected_range[1])],
            "status": self.status,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class QualityReport:
    """Quality of every checked column, worst first. ``breaker_tripped`` is true when any
    column's null rate exceeds ``null_rate_critical`` (the batch job should pause)."""

    status: Status
    rows: int
    columns: tuple[ColumnQuality, ...]
    breaker_tripped: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rows": self.rows,
            "breaker_tripped": self.breaker_tripped,
            "columns": [c.to_dict() for c in self.columns],
        }


def _range_from(reference: pd.Series) -> tuple[float, float] | None:
    values = numeric_values(reference)
    values = values[np.isfinite(values)]
    if values.shape[0] == 0:
        return None
    return float(values.min()), float(values.max())


def judge_column(
    name: str,
    dtype: str,
    rows: int,
    nulls: int,
    *,
    null_warning: float,
    null_critical: float,
    bounds: tuple[float, float] | None = None,
    below: int = 0,
    above: int = 0,
    out_of_range_warning: float = 0.0,
    out_of_range_critical: float = 0.01,
) -> ColumnQuality:
    """A column's verdict from its counts, however they were counted (a frame here, a
    log's aggregates in ``console.diagnostics.logchecks``): the null rate against its
    thresholds, and with ``bounds`` the share of values ``below`` or ``above`` them."""
    reasons: list[str] = []
    statuses: list[Status] = []
    null_rate = nulls / rows if rows else None
    if null_rate is None:
        reasons.append("no rows: nothing to check")
    elif null_rate > null_critical:
        statuses.append("critical")
        reasons.append(f"null rate {percent(null_rate)} > {percent(null_critical)}")
    elif null_rate > null_warning:
        statuses.append("warning")
        reasons.append(f"null rate {percent(null_rate)} > {percent(null_warning)}")
    out_rate = None
    if bounds is None:
        below = above = 0
    else:
        low, high = bounds
        out_rate = (below + above) / rows if rows else None
        if out_rate is not None and out_rate > out_of_range_warning:
            statuses.append("critical" if out_rate > out_of_range_critical else "warning")
            reasons.append(
                f"{percent(out_rate, 2)} of values outside [{low:g}, {high:g}] "
                f"({below} below, {above} above)"
            )
    return ColumnQuality(
        name=name,
        dtype=dtype,
        rows=rows,
        null_rate=null_rate,
        out_of_range_rate=out_rate,
        below=below,
        above=above,
        expected_range=bounds,
        status=worst_status(*statuses),
        reasons=tuple(reasons),
    )


def quality_report(
    columns: Iterable[ColumnQuality], rows: int, null_critical: Callable[[str], float]
) -> QualityReport:
    """The columns worst first; the breaker trips when a column's null rate is above its
    critical threshold (``null_critical(name)``)."""
    order = {"critical": 0, "warning": 1, "healthy": 2}
    results = sorted(columns, key=lambda c: (order[c.status], -(c.null_rate or 0.0), c.name))
    breaker = any(c.null_rate is not None and c.null_rate > null_critical(c.name) for c in results)
    return QualityReport(worst_status(*(c.status for c in results)), rows, tuple(results), breaker)


def quality_check(
    frame: pd.DataFrame,
    *,
    columns: Iterable[str] | None = None,
    reference: pd.DataFrame | None = None,
    ranges: Mapping[str, tuple[float | None, float | None]] | None = None,
    null_rate_warning: float | Mapping[str, float] = 0.02,
    null_rate_critical: float | Mapping[str, float] = 0.05,
    out_of_range_warning: float = 0.0,
    out_of_range_critical: float = 0.01,
) -> QualityReport:
    """Null-rate and range checks on ``frame``.

    ``ranges`` maps a column to an inclusive ``(low, high)`` (either end may be ``None``);
    numeric columns without one take the reference's observed [min, max] when a
    ``reference`` frame is given. Null thresholds may be one number or a mapping per
    column (fractions of rows). An out-of-range rate above ``out_of_range_warning`` warns,
    above ``out_of_range_critical`` is critical. An empty frame yields rates of ``None`` and
    status healthy with a reason; a range on a non-numeric column raises
    :class:`DtypeMismatch`; an unknown column raises :class:`ColumnNotFound`."""
    names = list(frame.columns) if columns is None else list(columns)
    ranges = dict(ranges or {})
    for name in [*names, *ranges]:
        if name not in frame.columns:
            raise ColumnNotFound(str(name), "the data", [str(c) for c in frame.columns])

    def limit(value: float | Mapping[str, float], name: str, default: float) -> float:
        return value.get(name, default) if isinstance(value, Mapping) else value

    rows = int(frame.shape[0])
    results = []
    for name in names:
        series = frame[name]
        bounds = ranges.get(name)
        if (
            bounds is None
            and reference is not None
            and name in reference.columns
            and is_numeric_series(reference[name])
            and is_numeric_series(series)
        ):
            bounds = _range_from(reference[name])
        checked: tuple[float, float] | None = None
        below = above = 0
        if bounds is not None:
            if not is_numeric_series(series):
                raise DtypeMismatch(
                    f"column {name!r} ({series.dtype}) has a range but is not numeric"
                )
            low = -np.inf if bounds[0] is None else float(bounds[0])
            high = np.inf if bounds[1] is None else float(bounds[1])
            values = numeric_values(series)
            below = int(np.count_nonzero((values < low) | (values == -np.inf)))
            above = int(np.count_nonzero((values > high) | (values == np.inf)))
            checked = (low, high)
        results.append(
            judge_column(
                str(name),
                str(series.dtype),
                rows,
                int(series.isna().sum()),
                null_warning=limit(null_rate_warning, name, 0.02),
                null_critical=limit(null_rate_critical, name, 0.05),
                bounds=checked,
                below=below,
                above=above,
                out_of_range_warning=out_of_range_warning,
                out_of_range_critical=out_of_range_critical,
            )
        )
    return quality_report(results, rows, lambda c: limit(null_rate_critical, c, 0.05))
