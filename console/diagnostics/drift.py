"""Per-feature drift between a reference (baseline) and a current window.

Numeric features get PSI over the reference's quantile bins, the two-sample KS statistic and
its asymptotic p-value, the Wasserstein distance and the Jensen–Shannon distance; categorical
features get PSI and Jensen–Shannon over the union of categories and a chi-squared p-value.
Both get null rates. Severity comes from PSI (and from a rising null or ±inf rate, which PSI
cannot see because it only bins the values that are present).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from console.diagnostics.profile import (
    CategoricalColumn,
    ColumnReference,
    Kind,
    NumericColumn,
    NumericReference,
    categorical_column,
    column_kind,
    is_numeric_series,
    numeric_column,
)
from console.diagnostics.results import (
    Severity,
    finite,
    percent,
    worst_severity,
)
from console.diagnostics.twosample import (
    PSI_FLOOR,
    bin_counts,
    jensen_shannon,
    ks_test,
    ks_wasserstein,
    psi,
)

EVIDENCE_CATEGORIES = 20  # categories shown in a categorical feature's evidence


@dataclass(frozen=True)
class DriftThresholds:
    """Where drift becomes a finding. PSI: stable < ``psi_moderate`` ≤ moderate <
    ``psi_significant`` ≤ significant. Null (and ±inf) rates, as fractions of rows: a current
    rate above ``null_rate_warning`` is moderate and above ``null_rate_critical`` significant,
    but only when it exceeds the reference's rate by more than ``null_rate_tolerance``."""

    psi_moderate: float = 0.1
    psi_significant: float = 0.2
    null_rate_warning: float = 0.02
    null_rate_critical: float = 0.05
    null_rate_tolerance: float = 0.01
    psi_floor: float = PSI_FLOOR

    def __post_init__(self) -> None:
        if not 0 <= self.psi_moderate <= self.psi_significant:
            raise ValueError("need 0 ≤ psi_moderate ≤ psi_significant")
        if not 0 <= self.null_rate_warning <= self.null_rate_critical <= 1:
            raise ValueError("need 0 ≤ null_rate_warning ≤ null_rate_critical ≤ 1")
        if not 0 < self.psi_floor < 1:
            raise ValueError("psi_floor must be in (0, 1)")

    def psi_severity(self, value: float | None) -> Severity:
        if value is None or value < self.psi_moderate:
            return "stable"
        return "moderate" if value < self.psi_significant else "significant"


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature. Statistics that do not apply to the kind, or cannot be computed
    (no values on one side), are ``None``; ``reasons`` says why a statistic is missing and
    why the severity is what it is. ``score`` ranks findings: the largest of PSI and the
    null/±inf rate, each divided by its significant threshold (≥ 1 means significant)."""

    name: str
    kind: Kind
    psi: float | None
    ks_statistic: float | None
    ks_pvalue: float | None
    wasserstein: float | None
    jensen_shannon: float | None
    chi2_pvalue: float | None
    null_rate_reference: float | None
    null_rate_current: float | None
    severity: Severity
    score: float = 0.0
    psi_severity: Severity = "stable"
    infinite_rate_reference: float | None = None
    infinite_rate_current: float | None = None
    rows_reference: int = 0
    rows_current: int = 0
    reasons: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "psi": finite(self.psi),
            "ks_statistic": finite(self.ks_statistic),
            "ks_pvalue": finite(self.ks_pvalue),
            "wasserstein": finite(self.wasserstein),
            "jensen_shannon": finite(self.jensen_shannon),
            "chi2_pvalue": finite(self.chi2_pvalue),
            "null_rate_reference": finite(self.null_rate_reference),
            "null_rate_current": finite(self.null_rate_current),
            "severity": self.severity,
            "psi_severity": self.psi_severity,
            "score": finite(self.score),
            "infinite_rate_reference": finite(self.infinite_rate_reference),
            "infinite_rate_current": finite(self.infinite_rate_current),
            "rows_reference": self.rows_reference,
            "rows_current": self.rows_current,
            "reasons": list(self.reasons),
            "evidence": self.evidence,
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rate_finding(
    what: str, ref: float | None, cur: float | None, thr: DriftThresholds
) -> tuple[Severity, float, str | None]:
    """Severity, score and reason for a null or ±inf rate that rose in the current window."""
    if cur is None or cur - (ref or 0.0) <= thr.null_rate_tolerance:
        return "stable", 0.0, None
    score = cur / thr.null_rate_critical if thr.null_rate_critical > 0 else float("inf")
    if cur > thr.null_rate_critical:
        sev: Severity = "significant"
        limit = thr.null_rate_critical
    elif cur > thr.null_rate_warning:
        sev, limit = "moderate", thr.null_rate_warning
    else:
        return "stable", score, None
    return sev, score, f"{what} rate {percent(cur)} (reference {percent(ref)}) > {percent(limit)}"


def _finish(
    ref: ColumnReference,
    cur: NumericColumn | CategoricalColumn,
    thr: DriftThresholds,
    stats: dict[str, Any],
    reasons: list[str],
    evidence: dict[str, Any],
) -> FeatureDrift:
    data = ref.column if isinstance(ref, NumericReference) else ref
    return finish_feature(
        data.name,
        data.kind,
        (data.rows, data.nulls, data.infinite, data.valid),
        (cur.rows, cur.nulls, cur.infinite, cur.valid),
        thr,
        stats,
        reasons,
        evidence,
    )


def finish_feature(
    name: str,
    kind: Kind,
    reference: tuple[int, int, int, int],
    current: tuple[int, int, int, int],
    thr: DriftThresholds,
    stats: dict[str, Any],
    reasons: list[str],
    evidence: dict[str, Any],
) -> FeatureDrift:
    """A :class:`FeatureDrift` from both sides' ``(rows, nulls, infinite, valid)`` counts and
    the statistics computed so far: null/±inf rates, severities, score and reasons. Shared
    by the in-memory path and the pushdown path (:mod:`console.diagnostics.pushdown`)."""
    (ref_rows, ref_nulls, ref_inf, ref_valid) = reference
    (cur_rows, cur_nulls, cur_inf, cur_valid) = current
    null_ref, null_cur = _rate(ref_nulls, ref_rows), _rate(cur_nulls, cur_rows)
    inf_ref, inf_cur = _rate(ref_inf, ref_rows), _rate(cur_inf, cur_rows)
    psi_value = stats.get("psi")
    psi_sev = thr.psi_severity(psi_value)
    severities: list[Severity] = [psi_sev]
    score = (psi_value or 0.0) / thr.psi_significant if thr.psi_significant > 0 else 0.0
    if psi_sev != "stable":
        limit = thr.psi_moderate if psi_sev == "moderate" else thr.psi_significant
        reasons.insert(0, f"PSI {psi_value:.3f} ≥ {limit:g}")
    for what, r, c in (("null", null_ref, null_cur), ("±inf", inf_ref, inf_cur)):
        sev, s, why = _rate_finding(what, r, c, thr)
        severities.append(sev)
        score = max(score, s if why else 0.0)
        if why:
            reasons.insert(0, why)
    return FeatureDrift(
        name=name,
        kind=kind,
        psi=psi_value,
        ks_statistic=stats.get("ks_statistic"),
        ks_pvalue=stats.get("ks_pvalue"),
        wasserstein=stats.get("wasserstein"),
        jensen_shannon=stats.get("jensen_shannon"),
        chi2_pvalue=stats.get("chi2_pvalue"),
        null_rate_reference=null_ref,
        null_rate_current=null_cur,
        severity=worst_severity(*severities),
        score=score,
        psi_severity=psi_sev,
        infinite_rate_reference=inf_ref,
        infinite_rate_current=inf_cur,
        rows_reference=ref_valid,
        rows_current=cur_valid,
        reasons=tuple(reasons),
        evidence=evidence,
    )


def _no_values_reason(ref_valid: int, cur_valid: int) -> str | None:
    if ref_valid == 0 and cur_valid == 0:
        return "no non-null values in either sample: distribution statistics not computed"
    if ref_valid == 0:
        return "the reference has no non-null values: distribution statistics not computed"
    if cur_valid == 0:
        return "the current window has no non-null values: distribution statistics not computed"
    return None


def compare_numeric(
    ref: NumericReference, cur: NumericColumn, thr: DriftThresholds | None = None
) -> FeatureDrift:
    """Drift of one numeric feature from its fitted reference and the current column."""
    thr = thr or DriftThresholds()
    reasons: list[str] = []
    stats: dict[str, Any] = {}
    evidence: dict[str, Any] = {}
    missing = _no_values_reason(ref.column.valid, cur.valid)
    if missing:
        reasons.append(missing)
    else:
        a, b = ref.column.sorted_values, cur.sorted_values
        cur_counts = bin_counts(b, ref.interior_edges)
        ks, w = ks_wasserstein(a, b)
        # scipy.stats.ks_2samp's default test: exact up to 10,000 values a side
        ks, pvalue, _ = ks_test(ks, a.shape[0], b.shape[0])
        if pvalue is None:
            reasons.append("KS p-value undefined with one value on each side")
        stats = {
            "psi": psi(ref.counts, cur_counts, thr.psi_floor),
            "ks_statistic": ks,
            "ks_pvalue": pvalue,
            "wasserstein": w,
            "jensen_shannon": jensen_shannon(ref.counts, cur_counts),
        }
        evidence = {
            "bin_edges": [float(e) for e in ref.interior_edges],
            "reference_proportions": (ref.counts / ref.column.valid).tolist(),
            "current_proportions": (cur_counts / cur.valid).tolist(),
            "reference_mean": ref.column.mean,
            "current_mean": cur.mean,
            "reference_median": float(a[(a.shape[0] - 1) // 2]),
            "current_median": float(b[(b.shape[0] - 1) // 2]),
        }
    return _finish(ref, cur, thr, stats, reasons, evidence)


def compare_categorical(
    ref: CategoricalColumn, cur: CategoricalColumn, thr: DriftThresholds | None = None
) -> FeatureDrift:
    """Drift of one categorical feature over the union of both samples' categories."""
    thr = thr or DriftThresholds()
    reasons: list[str] = []
    stats: dict[str, Any] = {}
    evidence: dict[str, Any] = {}
    missing = _no_values_reason(ref.valid, cur.valid)
    if missing:
        reasons.append(missing)
    else:
        keys, rc, cc = _category_table(ref, cur)
        stats = {
            "psi": psi(rc, cc, thr.psi_floor),
            "jensen_shannon": jensen_shannon(rc, cc),
            "chi2_pvalue": _chi2_pvalue(rc, cc),
        }
        order = np.argsort(-np.abs(cc / cc.sum() - rc / rc.sum()), kind="stable")
        shown = order[:EVIDENCE_CATEGORIES]
        evidence = {
            "categories": [str(keys[i]) for i in shown],
            "reference_proportions": (rc[shown] / rc.sum()).tolist(),
            "current_proportions": (cc[shown] / cc.sum()).tolist(),
            "new_categories": int(((rc == 0) & (cc > 0)).sum()),
            "vanished_categories": int(((cc == 0) & (rc > 0)).sum()),
            "categories_total": int(keys.shape[0]),
        }
    return _finish(ref, cur, thr, stats, reasons, evidence)


def _category_table(
    ref: CategoricalColumn, cur: CategoricalColumn
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The union of both sides' categories (the reference's first, then those new in the
    current window, each in its own order) and both sides' counts over it, as float64.
    One hash lookup of the current categories in the reference's: aligning two
    ``value_counts`` series with ``pd.concat`` cost milliseconds per column."""
    where = pd.Index(ref.categories, dtype=object).get_indexer(
        pd.Index(cur.categories, dtype=object)
    )
    new = where < 0
    known = ref.categories.shape[0]
    added = int(new.sum())
    where[new] = known + np.arange(added)
    keys = np.concatenate((ref.categories, cur.categories[new]))
    rc = np.zeros(known + added)
    rc[:known] = ref.counts
    cc = np.zeros(known + added)
    cc[where] = cur.counts
    return keys, rc, cc


def _chi2_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Pearson chi-squared test of homogeneity on the 2 × K table of counts
    (``scipy.stats.chi2_contingency`` with its defaults). One category: p = 1."""
    from scipy.stats import chi2_contingency

    if ref_counts.shape[0] < 2:
        return 1.0
    return float(chi2_contingency(np.vstack([ref_counts, cur_counts])).pvalue)


def _type_changed(ref: ColumnReference, cur_series: pd.Series) -> FeatureDrift:
    data = ref.column if isinstance(ref, NumericReference) else ref
    return FeatureDrift(
        name=data.name,
        kind=data.kind,
        psi=None,
        ks_statistic=None,
        ks_pvalue=None,
        wasserstein=None,
        jensen_shannon=None,
        chi2_pvalue=None,
        null_rate_reference=_rate(data.nulls, data.rows),
        null_rate_current=float(cur_series.isna().mean()) if len(cur_series) else None,
        severity="significant",
        score=float("inf"),
        psi_severity="stable",
        rows_reference=data.valid,
        rows_current=int(cur_series.notna().sum()),
        reasons=(
            f"type changed: reference {data.dtype} ({data.kind}), current {cur_series.dtype}; "
            "distribution statistics not computed",
        ),
    )


def compare_column(
    ref: ColumnReference, current: pd.Series, thr: DriftThresholds | None = None
) -> FeatureDrift:
    """Drift of ``current`` against a fitted reference column (numeric or categorical).

    A current column whose type no longer fits the reference's kind (numbers became text)
    is reported as a significant finding, never coerced silently."""
    thr = thr or DriftThresholds()
    # An all-null column carries no type (CSV readers make it float): judge it by its nulls.
    if isinstance(ref, NumericReference):
        if column_kind(current) != "numeric" and current.notna().any():
            return _type_changed(ref, current)
        return compare_numeric(ref, numeric_column(current), thr)
    if ref.numeric_source != is_numeric_series(current) and current.notna().any():
        return _type_changed(ref, current)
    return compare_categorical(ref, categorical_column(current), thr)
