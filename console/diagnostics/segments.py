"""Segment drill-down: the drift checks within each value of a segment column.

Global monitoring averages segments together, so one segment (mobile, new users) can drift
while the global figure holds. Each segment is compared with the *same segment* of the
reference; a segment that is worse than the global result for the same feature is flagged
``hidden_by_global``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from console.diagnostics.drift import DriftThresholds, FeatureDrift, compare_column
from console.diagnostics.errors import ColumnNotFound
from console.diagnostics.profile import column_kind, reference_column
from console.diagnostics.report import rank_features
from console.diagnostics.results import (
    SEVERITY_RANK,
    STATUS_OF_SEVERITY,
    STATUS_RANK,
    Severity,
    Status,
    finite,
)

# The row positions of a segment absent from one side (``groupby(...).indices`` has no key).
_NO_ROWS = np.empty(0, dtype=np.intp)


@dataclass(frozen=True)
class SegmentDrift:
    """Drift within one segment. ``status`` is ``"insufficient"`` when either side has
    fewer than ``min_rows`` rows (the segment is listed, not judged). ``hidden_by_global``
    names the features that are worse here than globally while global stays stable."""

    segment: str
    value: Any
    rows_reference: int
    rows_current: int
    status: Status | str
    top_feature: str | None
    top_severity: Severity | None
    top_psi: float | None
    hidden_by_global: tuple[str, ...]
    features: tuple[FeatureDrift, ...]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        value = self.value.item() if hasattr(self.value, "item") else self.value
        return {
            "segment": self.segment,
            "value": value
            if isinstance(value, int | float | bool | str) or value is None
            else str(value),
            "rows": {"reference": self.rows_reference, "current": self.rows_current},
            "status": self.status,
            "top_feature": self.top_feature,
            "top_severity": self.top_severity,
            "top_psi": finite(self.top_psi),
            "hidden_by_global": list(self.hidden_by_global),
            "reason": self.reason,
            "features": [f.to_dict() for f in self.features],
        }


def _rank_key(seg: SegmentDrift) -> tuple:
    judged = seg.status in STATUS_RANK
    top = seg.features[0] if seg.features else None
    return (
        not judged,
        -STATUS_RANK.get(seg.status, -1),
        -len(seg.hidden_by_global),
        -(top.score if top else 0.0),
        str(seg.value),
    )


def insufficient(segment: str, value: Any, n_ref: int, n_cur: int, min_rows: int) -> SegmentDrift:
    """A segment with fewer than ``min_rows`` rows on a side: reported, not judged."""
    side = "reference" if n_ref < min_rows else "current window"
    return SegmentDrift(
        segment,
        value,
        n_ref,
        n_cur,
        "insufficient",
        None,
        None,
        None,
        (),
        (),
        reason=f"fewer than {min_rows} rows in the {side}",
    )


def judged(
    segment: str,
    value: Any,
    n_ref: int,
    n_cur: int,
    features: Iterable[FeatureDrift],
    global_by_name: dict[str, FeatureDrift],
) -> SegmentDrift:
    """A segment's result from its features' drift (whatever computed them): ranked, its
    status the worst feature's, and the features that drift here while the global figure
    for them is stable (``hidden_by_global``)."""
    ranked = rank_features(list(features))
    hidden = tuple(
        f.name
        for f in ranked
        if f.severity != "stable"
        and f.name in global_by_name
        and global_by_name[f.name].severity == "stable"
        and SEVERITY_RANK[f.severity] > SEVERITY_RANK[global_by_name[f.name].severity]
    )
    top = ranked[0] if ranked else None
    status = max(
        (STATUS_OF_SEVERITY[f.severity] for f in ranked),
        key=STATUS_RANK.__getitem__,
        default="healthy",
    )
    return SegmentDrift(
        segment=segment,
        value=value,
        rows_reference=n_ref,
        rows_current=n_cur,
        status=status,
        top_feature=top.name if top else None,
        top_severity=top.severity if top else None,
        top_psi=top.psi if top else None,
        hidden_by_global=hidden,
        features=ranked,
        reason=(
            f"{', '.join(hidden)} drift here while the global figure is stable" if hidden else None
        ),
    )


def ranked_segments(results: Iterable[SegmentDrift]) -> tuple[SegmentDrift, ...]:
    """Worst first: judged before insufficient, then status, hidden drift, top score."""
    return tuple(sorted(results, key=_rank_key))


def segment_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    segment_by: str,
    *,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] = (),
    bins: int = 10,
    thresholds: DriftThresholds | None = None,
    global_features: Iterable[FeatureDrift] | None = None,
    min_rows: int = 50,
    max_segments: int = 50,
) -> tuple[SegmentDrift, ...]:
    """Drift per value of ``segment_by``, ranked worst first.

    Segments are the values present in either frame (nulls form their own segment
    ``None``); at most ``max_segments`` of the largest (by current rows) are analysed.
    ``global_features`` (the global result for the same columns) enables the
    ``hidden_by_global`` flag; without it the flag is empty. A segment missing from one
    side, or with fewer than ``min_rows`` rows there, is reported with status
    ``"insufficient"`` and a reason. Raises :class:`ColumnNotFound` if ``segment_by`` is
    absent from either frame."""
    thr = thresholds or DriftThresholds()
    for frame, where in ((reference, "the reference"), (current, "the current window")):
        if segment_by not in frame.columns:
            raise ColumnNotFound(segment_by, where, [str(c) for c in frame.columns])
    if columns is None:
        names = [c for c in reference.columns if c in set(current.columns) and c != segment_by]
    else:
        names = [c for c in columns if c != segment_by]
    forced = set(categorical)
    global_by_name = {f.name: f for f in (global_features or ())}

    ref_groups = reference.groupby(segment_by, dropna=False, sort=False, observed=True).indices
    cur_groups = current.groupby(segment_by, dropna=False, sort=False, observed=True).indices
    keys = list(dict.fromkeys([*cur_groups, *ref_groups]))
    keys.sort(key=lambda k: -len(cur_groups.get(k, ())))
    results = []
    for key in keys[:max_segments]:
        value = None if (isinstance(key, float) and key != key) else key
        ref_idx, cur_idx = ref_groups.get(key, _NO_ROWS), cur_groups.get(key, _NO_ROWS)
        n_ref, n_cur = len(ref_idx), len(cur_idx)
        if min(n_ref, n_cur) < min_rows:
            results.append(insufficient(segment_by, value, n_ref, n_cur, min_rows))
            continue
        ref_part, cur_part = reference.iloc[ref_idx], current.iloc[cur_idx]
        features = []
        for name in names:
            series = ref_part[name]
            ref = reference_column(series, column_kind(series, forced), bins)
            features.append(compare_column(ref, cur_part[name], thr))
        results.append(judged(segment_by, value, n_ref, n_cur, features, global_by_name))
    return ranked_segments(results)
