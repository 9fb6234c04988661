"""Shadow comparison: champion and challenger scored the same requests (same keys).

Rank correlation says whether they order cases alike; decision agreement says whether they
would *act* alike at the decision threshold. Both overall and per segment (new / medium /
power users), because a challenger can agree globally and disagree on one segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from console.diagnostics.errors import (
    ColumnNotFound,
    DiagnosticsInputError,
    DtypeMismatch,
    EmptyInput,
)
from console.diagnostics.profile import is_numeric_series
from console.diagnostics.results import Status, finite, worst_status


@dataclass(frozen=True)
class ShadowStats:
    """Agreement over ``pairs`` matched, finite score pairs. Correlations are ``None`` with
    a ``note`` when undefined (fewer than two pairs, or a constant score)."""

    pairs: int
    spearman: float | None
    kendall: float | None
    agreement: float | None
    mean_champion: float | None
    mean_challenger: float | None
    mean_abs_difference: float | None
    status: Status
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "spearman": finite(self.spearman),
            "kendall": finite(self.kendall),
            "agreement": finite(self.agreement),
            "mean_champion": finite(self.mean_champion),
            "mean_challenger": finite(self.mean_challenger),
            "mean_abs_difference": finite(self.mean_abs_difference),
            "status": self.status,
            "note": self.note,
        }


@dataclass(frozen=True)
class SegmentShadow:
    segment: str
    value: Any
    stats: ShadowStats

    def to_dict(self) -> dict[str, Any]:
        value = self.value.item() if hasattr(self.value, "item") else self.value
        return {
            "segment": self.segment,
            "value": value
            if value is None or isinstance(value, int | float | str | bool)
            else str(value),
            **self.stats.to_dict(),
        }


@dataclass(frozen=True)
class ShadowReport:
    """``status`` is the worst of overall and segments: critical when Spearman is below
    ``min_spearman`` or agreement below ``min_agreement``, warning within 5 points of them."""

    status: Status
    rows_champion: int
    rows_challenger: int
    matched: int
    unmatched_champion: int
    unmatched_challenger: int
    dropped_non_finite: int
    threshold: float
    overall: ShadowStats
    segments: tuple[SegmentShadow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rows": {"champion": self.rows_champion, "challenger": self.rows_challenger},
            "matched": self.matched,
            "unmatched_champion": self.unmatched_champion,
            "unmatched_challenger": self.unmatched_challenger,
            "dropped_non_finite": self.dropped_non_finite,
            "threshold": self.threshold,
            "overall": self.overall.to_dict(),
            "segments": [s.to_dict() for s in self.segments],
        }


def shadow_stats(
    champion: np.ndarray,
    challenger: np.ndarray,
    *,
    threshold: float = 0.5,
    min_spearman: float = 0.9,
    min_agreement: float = 0.95,
) -> ShadowStats:
    """Spearman and Kendall (tau-b) rank correlation — as ``scipy.stats.spearmanr`` and
    ``kendalltau`` — and decision agreement (both ``≥ threshold`` or both below) of two
    aligned score arrays. Pairs with a non-finite score must be removed by the caller."""
    from scipy.stats import kendalltau, spearmanr

    a = np.asarray(champion, dtype=np.float64)
    b = np.asarray(challenger, dtype=np.float64)
    n = int(a.shape[0])
    if n == 0:
        return ShadowStats(0, None, None, None, None, None, None, "healthy", "no matched pairs")
    agreement = float(np.mean((a >= threshold) == (b >= threshold)))
    spearman = kendall = None
    note = None
    if n < 2:
        note = "fewer than two pairs: no rank correlation"
    elif np.all(a == a[0]) or np.all(b == b[0]):
        note = "a constant score has no rank correlation"
    else:
        spearman = float(spearmanr(a, b).statistic)
        kendall = float(kendalltau(a, b).statistic)
    statuses: list[Status] = []
    for value, floor in ((spearman, min_spearman), (agreement, min_agreement)):
        if value is not None:
            statuses.append(
                "critical" if value < floor else "warning" if value < floor + 0.05 else "healthy"
            )
    return ShadowStats(
        n,
        spearman,
        kendall,
        agreement,
        float(a.mean()),
        float(b.mean()),
        float(np.mean(np.abs(a - b))),
        worst_status(*statuses),
        note,
    )


def shadow_compare(
    champion: pd.DataFrame,
    challenger: pd.DataFrame,
    *,
    key: str,
    score: str,
    challenger_score: str | None = None,
    segment_by: str | None = None,
    threshold: float = 0.5,
    min_spearman: float = 0.9,
    min_agreement: float = 0.95,
    max_segments: int = 50,
) -> ShadowReport:
    """Join champion and challenger on ``key`` and compare their ``score`` columns
    (``challenger_score`` if the challenger names it differently). Segments come from
    ``segment_by`` in the champion frame (or the challenger's when only it has the column).
    Raises :class:`ColumnNotFound`, :class:`DtypeMismatch` for non-numeric scores,
    :class:`DiagnosticsInputError` for duplicate keys, :class:`EmptyInput` when no key
    matches. Pairs with a null or ±inf score are dropped and counted."""
    cscore = challenger_score or score
    for frame, col, where in (
        (champion, key, "the champion"),
        (challenger, key, "the challenger"),
        (champion, score, "the champion"),
        (challenger, cscore, "the challenger"),
    ):
        if col not in frame.columns:
            raise ColumnNotFound(col, where, [str(c) for c in frame.columns])
    for frame, col, where in ((champion, score, "champion"), (challenger, cscore, "challenger")):
        if not is_numeric_series(frame[col]) and frame[col].notna().any():
            raise DtypeMismatch(f"{where} score {col!r} is {frame[col].dtype}, not numeric")
        if frame[key].duplicated().any():
            dup = frame[key][frame[key].duplicated()].iloc[0]
            raise DiagnosticsInputError(
                f"the {where} has duplicate key {dup!r} in {key!r}",
                hint="shadow comparison needs one score per key",
            )
    seg_source = None
    if segment_by is not None:
        if segment_by in champion.columns:
            seg_source = "champion"
        elif segment_by in challenger.columns:
            seg_source = "challenger"
        else:
            raise ColumnNotFound(segment_by, "either file", [str(c) for c in champion.columns])
    left = champion[[key, score] + ([segment_by] if seg_source == "champion" else [])]
    right = challenger[[key, cscore] + ([segment_by] if seg_source == "challenger" else [])]
    left = left.rename(columns={score: "__champion"})
    right = right.rename(columns={cscore: "__challenger"})
    joined = left.merge(right, on=key, how="inner")
    if joined.shape[0] == 0:
        raise EmptyInput(
            f"no key in {key!r} appears in both files",
            hint="check that both files score the same requests",
        )
    a = joined["__champion"].to_numpy(dtype=np.float64, na_value=np.nan)
    b = joined["__challenger"].to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(a) & np.isfinite(b)
    kw = dict(threshold=threshold, min_spearman=min_spearman, min_agreement=min_agreement)
    overall = shadow_stats(a[ok], b[ok], **kw)
    segments = []
    if segment_by is not None:
        seg = joined[segment_by].to_numpy()[ok]
        groups = pd.Series(np.arange(seg.shape[0])).groupby(seg, dropna=False, sort=True).indices
        for value, idx in list(groups.items())[:max_segments]:
            segments.append(
                SegmentShadow(segment_by, value, shadow_stats(a[ok][idx], b[ok][idx], **kw))
            )
    status = worst_status(overall.status, *(s.stats.status for s in segments))
    return ShadowReport(
        status=status,
        rows_champion=int(champion.shape[0]),
        rows_challenger=int(challenger.shape[0]),
        matched=int(joined.shape[0]),
        unmatched_champion=int(champion.shape[0] - joined.shape[0]),
        unmatched_challenger=int(challenger.shape[0] - joined.shape[0]),
        dropped_non_finite=int((~ok).sum()),
        threshold=threshold,
        overall=overall,
        segments=tuple(segments),
    )
