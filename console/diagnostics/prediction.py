"""Prediction shift: is the model *saying* something different from its own recent past?

* mean shift — z-score of the latest window's mean against the trailing windows' means;
* positive-rate shift — percentage points away from the trailing mean rate;
* output diversity — catches "the same answer for everyone".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from console.diagnostics.errors import DtypeMismatch, EmptyInput
from console.diagnostics.results import finite


def _finite_array(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise DtypeMismatch(f"{what} must be numbers: {exc}") from exc
    return arr


@dataclass(frozen=True)
class MeanShift:
    """``z = (latest − mean(history)) / std(history, ddof=1)``; ``anomalous`` when
    ``|z| > threshold``. ``z`` is ``None`` with a ``reason`` when it cannot be computed; a
    constant history with a different latest value is anomalous with ``z = None``."""

    latest: float
    history_mean: float | None
    history_std: float | None
    windows: int
    z: float | None
    threshold: float
    anomalous: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "latest": finite(self.latest),
            "history_mean": finite(self.history_mean),
            "history_std": finite(self.history_std),
            "windows": self.windows,
            "z": finite(self.z),
            "threshold": self.threshold,
            "anomalous": self.anomalous,
            "reason": self.reason,
        }


def mean_shift(
    history: Sequence[float] | np.ndarray, latest: float, *, threshold: float = 3.0
) -> MeanShift:
    """Z-score of ``latest`` (a window's mean prediction) against ``history`` (the trailing
    windows' means, oldest first). Non-finite history values are dropped and said so; fewer
    than two remaining windows give ``z = None``. Raises :class:`DtypeMismatch` for
    non-numeric input and :class:`EmptyInput` for a non-finite ``latest``."""
    hist = _finite_array(history, "history")
    dropped = int(np.count_nonzero(~np.isfinite(hist)))
    hist = hist[np.isfinite(hist)]
    latest = float(latest)
    if not math.isfinite(latest):
        raise EmptyInput(
            "the latest window's mean is not a finite number",
            hint="the latest window may be empty or all-null",
        )
    note = f" ({dropped} non-finite windows ignored)" if dropped else ""
    if hist.shape[0] < 2:
        return MeanShift(
            latest,
            finite(hist.mean()) if hist.size else None,
            None,
            int(hist.shape[0]),
            None,
            threshold,
            False,
            f"need at least 2 trailing windows, have {hist.shape[0]}{note}",
        )
    mean, std = float(hist.mean()), float(hist.std(ddof=1))
    if std == 0.0:
        if latest == mean:
            return MeanShift(
                latest,
                mean,
                0.0,
                hist.shape[0],
                0.0,
                threshold,
                False,
                f"history is constant and the latest window matches it{note}",
            )
        return MeanShift(
            latest,
            mean,
            0.0,
            hist.shape[0],
            None,
            threshold,
            True,
            f"history is constant at {mean:g} and the latest window is {latest:g}{note}",
        )
    z = (latest - mean) / std
    verdict = "above" if abs(z) > threshold else "within"
    return MeanShift(
        latest,
        mean,
        std,
        hist.shape[0],
        z,
        threshold,
        abs(z) > threshold,
        f"z = {z:.2f}, {verdict} ±{threshold:g}{note}",
    )


def window_mean_shift(
    window_means: Sequence[float] | np.ndarray, *, threshold: float = 3.0
) -> MeanShift:
    """:func:`mean_shift` of the last value of ``window_means`` against all earlier ones."""
    arr = _finite_array(window_means, "window means")
    if arr.shape[0] == 0:
        raise EmptyInput("no windows given")
    return mean_shift(arr[:-1], arr[-1], threshold=threshold)


@dataclass(frozen=True)
class RateShift:
    """Positive-rate deviation, in percentage points, from the trailing mean rate."""

    latest_rate: float
    trailing_rate: float | None
    deviation_pp: float | None
    threshold_pp: float
    anomalous: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "latest_rate": finite(self.latest_rate),
            "trailing_rate": finite(self.trailing_rate),
            "deviation_pp": finite(self.deviation_pp),
            "threshold_pp": self.threshold_pp,
            "anomalous": self.anomalous,
            "reason": self.reason,
        }


def positive_rate_shift(
    history_rates: Sequence[float] | np.ndarray, latest_rate: float, *, threshold_pp: float = 10.0
) -> RateShift:
    """``(latest − mean(history)) × 100`` percentage points; rates are fractions in [0, 1].
    Anomalous when the absolute deviation exceeds ``threshold_pp``. Raises
    :class:`DtypeMismatch` for a rate outside [0, 1]; an empty history gives no deviation."""
    hist = _finite_array(history_rates, "history rates")
    hist = hist[np.isfinite(hist)]
    latest = float(latest_rate)
    if not (0.0 <= latest <= 1.0) or np.any((hist < 0) | (hist > 1)):
        raise DtypeMismatch("rates must be fractions in [0, 1]", hint="pass 0.14 for 14%")
    if hist.shape[0] == 0:
        return RateShift(latest, None, None, threshold_pp, False, "no trailing windows")
    trailing = float(hist.mean())
    dev = (latest - trailing) * 100.0
    return RateShift(
        latest,
        trailing,
        dev,
        threshold_pp,
        abs(dev) > threshold_pp,
        f"{latest:.1%} vs trailing {trailing:.1%}: {dev:+.1f} pp",
    )


@dataclass(frozen=True)
class OutputDiversity:
    """How varied a model's outputs are. ``unique_ratio`` = distinct / predictions;
    ``normalized_entropy`` = Shannon entropy / ln(distinct) in [0, 1] (0 when one value);
    ``top_share`` = share of the most frequent output. ``collapsed`` flags "the same answer
    for everyone": one distinct value, or ``top_share ≥ max_top_share``."""

    predictions: int
    nulls: int
    distinct: int
    unique_ratio: float | None
    normalized_entropy: float | None
    top_value: Any
    top_share: float | None
    collapsed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        top = self.top_value.item() if hasattr(self.top_value, "item") else self.top_value
        return {
            "predictions": self.predictions,
            "nulls": self.nulls,
            "distinct": self.distinct,
            "unique_ratio": finite(self.unique_ratio),
            "normalized_entropy": finite(self.normalized_entropy),
            "top_value": top
            if isinstance(top, int | float | str | bool) or top is None
            else str(top),
            "top_share": finite(self.top_share),
            "collapsed": self.collapsed,
            "reason": self.reason,
        }


def output_diversity(
    predictions: Sequence[Any] | np.ndarray | pd.Series, *, max_top_share: float = 0.9
) -> OutputDiversity:
    """Diversity of ``predictions`` (labels, item ids or scores; nulls are counted and
    ignored). An empty or all-null input gives ratios of ``None`` and ``collapsed=False``
    with a reason (there is nothing to judge)."""
    series = pd.Series(predictions) if not isinstance(predictions, pd.Series) else predictions
    nulls = int(series.isna().sum())
    counts = series.value_counts(dropna=True)
    total = int(counts.sum())
    if total == 0:
        return OutputDiversity(
            int(series.shape[0]), nulls, 0, None, None, None, None, False, "no non-null predictions"
        )
    p = counts.to_numpy(np.float64) / total
    distinct = int(counts.shape[0])
    entropy = float(-(p * np.log(p)).sum())
    norm = entropy / math.log(distinct) if distinct > 1 else 0.0
    top_share = float(p[0])
    collapsed = distinct == 1 or top_share >= max_top_share
    if distinct == 1:
        reason = f"every prediction is {counts.index[0]!r}"
    elif collapsed:
        reason = f"{top_share:.1%} of predictions are {counts.index[0]!r}"
    else:
        reason = f"{distinct} distinct outputs, top share {top_share:.1%}"
    return OutputDiversity(
        int(series.shape[0]),
        nulls,
        distinct,
        distinct / total,
        norm,
        counts.index[0],
        top_share,
        collapsed,
        reason,
    )
