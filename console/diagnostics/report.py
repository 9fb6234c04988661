"""The drift report: every feature of a current window compared with a baseline, ranked.

``drift_report`` is what runbooks and the ``rollbook drift`` command call; the per-feature
statistics live in :mod:`console.diagnostics.drift`.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from console.diagnostics.drift import DriftThresholds, FeatureDrift, compare_column
from console.diagnostics.errors import EmptyInput
from console.diagnostics.profile import (
    ReferenceProfile,
    column_kind,
    reference_column,
    select_columns,
)
from console.diagnostics.results import (
    SEVERITY_RANK,
    STATUS_OF_SEVERITY,
    Status,
    worst_status,
)


@dataclass(frozen=True)
class DriftReport:
    """Drift of every compared feature, worst first (``features[0]`` is the top finding).

    ``status`` is critical when any feature is significant or an expected column is missing
    from the current window, warning when any is moderate, else healthy. ``segments`` holds
    the per-segment drill-down when one was asked for."""

    status: Status
    rows_reference: int
    rows_current: int
    features: tuple[FeatureDrift, ...]
    missing_columns: tuple[str, ...] = ()
    added_columns: tuple[str, ...] = ()
    segments: tuple[Any, ...] = ()
    segment_by: str | None = None
    bins: int = 10
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)

    @property
    def top(self) -> FeatureDrift | None:
        return self.features[0] if self.features else None

    @property
    def sample_note(self) -> str | None:
        """A warning when a window has fewer than 10 rows per PSI bin: PSI (and a severity
        read from it) is then mostly noise, so say so next to the table."""
        need = 10 * self.bins
        small = [
            (side, n)
            for side, n in (("reference", self.rows_reference), ("current", self.rows_current))
            if n < need
        ]
        if not small:
            return None
        which = ", ".join(f"{side} {n} rows" for side, n in small)
        return (
            f"small sample ({which}; PSI wants ≥ {need}, 10 per bin): PSI severities are "
            "noisy — weigh KS and null rates"
        )

    def feature(self, name: str) -> FeatureDrift:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rows": {"reference": self.rows_reference, "current": self.rows_current},
            "sample_note": self.sample_note,
            "features": [f.to_dict() for f in self.features],
            "segments": [s.to_dict() for s in self.segments],
            "segment_by": self.segment_by,
            "missing_columns": list(self.missing_columns),
            "added_columns": list(self.added_columns),
            "bins": self.bins,
            "thresholds": {
                "psi_moderate": self.thresholds.psi_moderate,
                "psi_significant": self.thresholds.psi_significant,
                "null_rate_warning": self.thresholds.null_rate_warning,
                "null_rate_critical": self.thresholds.null_rate_critical,
            },
        }


def rank_features(features: Iterable[FeatureDrift]) -> tuple[FeatureDrift, ...]:
    """Worst first: by severity, then score, then name."""
    return tuple(sorted(features, key=lambda f: (-SEVERITY_RANK[f.severity], -f.score, f.name)))


def drift_report(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    *,
    bins: int = 10,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] = (),
    segment_by: str | None = None,
    thresholds: DriftThresholds | None = None,
    workers: int = 2,
) -> DriftReport:
    """Compare every feature of ``current`` with ``reference`` (a frame or a fitted profile).

    ``columns`` defaults to the columns both sides share (minus ``segment_by``); columns only
    in the reference are listed as ``missing_columns`` (status critical), columns only in the
    current window as ``added_columns``. ``categorical`` forces columns to be compared as
    categories. ``bins`` is ignored when a fitted profile is given (it has its own). Raises
    :class:`EmptyInput` if either side has no rows. Work runs column by column on
    ``workers`` threads; a frame reference is not retained, a profile is reused as is."""
    thr = thresholds or DriftThresholds()
    if current.shape[0] == 0:
        raise EmptyInput("the current window has no rows", hint="check the file or the window")
    if isinstance(reference, ReferenceProfile):
        ref_names = list(reference.columns)
        rows_reference = reference.rows
        bins_used = reference.bins
    else:
        if reference.shape[0] == 0:
            raise EmptyInput("the reference has no rows", hint="check the baseline file")
        ref_names = [str(c) for c in reference.columns]
        rows_reference = int(reference.shape[0])
        bins_used = bins
    cur_names = [str(c) for c in current.columns]
    skip = {segment_by} if segment_by else set()
    if columns is None:
        names = [c for c in ref_names if c in set(cur_names) and c not in skip]
        missing = tuple(c for c in ref_names if c not in set(cur_names) and c not in skip)
        added = tuple(c for c in cur_names if c not in set(ref_names) and c not in skip)
    else:
        names = list(columns)
        if not isinstance(reference, ReferenceProfile):
            select_columns(reference, names, "the reference")
        missing = tuple(c for c in names if c not in set(cur_names))
        names = [c for c in names if c not in set(missing)]
        added = ()
    forced = set(categorical)

    def one(name: str) -> FeatureDrift:
        if isinstance(reference, ReferenceProfile):
            ref = reference.columns[name]
        else:
            series = reference[name]
            ref = reference_column(series, column_kind(series, forced), bins_used)
        return compare_column(ref, current[name], thr)

    if workers > 1 and len(names) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            features = list(pool.map(one, names))
    else:
        features = [one(n) for n in names]
    ranked = rank_features(features)

    segments: tuple[Any, ...] = ()
    if segment_by is not None:
        from console.diagnostics.segments import segment_drift

        if isinstance(reference, ReferenceProfile):
            raise ValueError("segment drill-down needs the reference frame, not a profile")
        segments = segment_drift(
            reference,
            current,
            segment_by,
            columns=names,
            categorical=forced,
            bins=bins_used,
            thresholds=thr,
            global_features=ranked,
        )
    statuses = [STATUS_OF_SEVERITY[f.severity] for f in ranked]
    if missing:
        statuses.append("critical")
    return DriftReport(
        status=worst_status(*statuses),
        rows_reference=rows_reference,
        rows_current=int(current.shape[0]),
        features=ranked,
        missing_columns=missing,
        added_columns=added,
        segments=segments,
        segment_by=segment_by,
        bins=bins_used,
        thresholds=thr,
    )


__all__ = ["DriftReport", "drift_report", "rank_features"]
