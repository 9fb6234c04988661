"""Drift report: every statistic against scipy on real frames, the edge cases, the incident."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon

from console.cli.common import to_jsonable
from console.diagnostics import (
    ColumnNotFound,
    DriftThresholds,
    EmptyInput,
    drift_report,
    fit_profile,
)

SPEC_KEYS = {
    "name",
    "kind",
    "psi",
    "ks_statistic",
    "ks_pvalue",
    "wasserstein",
    "jensen_shannon",
    "chi2_pvalue",
    "null_rate_reference",
    "null_rate_current",
    "severity",
}


def reference_psi(ref: np.ndarray, cur: np.ndarray, bins: int = 10) -> float:
    """PSI written straight from the issue's definition, with numpy.histogram."""
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if edges.size >= 3:
        edges[0], edges[-1] = -np.inf, np.inf
    else:  # documented degenerate rule: below / each distinct quantile / above
        edges = np.concatenate(([-np.inf], edges, [np.nextafter(edges[-1], np.inf), np.inf]))
    r = np.maximum(np.histogram(ref, edges)[0] / ref.size, 1e-4)
    c = np.maximum(np.histogram(cur, edges)[0] / cur.size, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


@pytest.fixture
def frames():
    rng = np.random.default_rng(42)
    n = 4_000
    ref = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.gamma(2.0, 3.0, n),
            "c": rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    cur = pd.DataFrame(
        {
            "a": rng.normal(0.3, 1.0, n - 500),
            "b": rng.gamma(2.0, 3.0, n - 500),
            "c": rng.choice(["x", "y", "w"], n - 500, p=[0.3, 0.3, 0.4]),
        }
    )
    ref.loc[rng.choice(n, 40, replace=False), "a"] = np.nan
    cur.loc[rng.choice(n - 500, 80, replace=False), "b"] = np.nan
    return ref, cur


def test_numeric_statistics_equal_scipy(frames):
    ref, cur = frames
    report = drift_report(ref, cur)
    for name in ("a", "b"):
        f = report.feature(name)
        r = ref[name].dropna().to_numpy()
        c = cur[name].dropna().to_numpy()
        ks = st.ks_2samp(r, c)  # scipy's default: exact here (≤ 10,000 values a side)
        assert f.kind == "numeric"
        assert f.ks_statistic == ks.statistic
        assert f.ks_pvalue == pytest.approx(ks.pvalue, rel=1e-10)
        assert f.wasserstein == pytest.approx(st.wasserstein_distance(r, c), rel=1e-9)
        assert f.psi == pytest.approx(reference_psi(r, c), rel=1e-12)
        edges = np.unique(np.quantile(r, np.linspace(0, 1, 11)))
        edges[0], edges[-1] = -np.inf, np.inf
        js = jensenshannon(np.histogram(r, edges)[0], np.histogram(c, edges)[0], base=2)
        assert f.jensen_shannon == pytest.approx(js, abs=1e-12)
        assert f.chi2_pvalue is None
        assert f.null_rate_reference == ref[name].isna().mean()
        assert f.null_rate_current == cur[name].isna().mean()


def test_categorical_statistics_over_the_union_of_categories(frames):
    ref, cur = frames
    f = drift_report(ref, cur).feature("c")
    cats = ["w", "x", "y", "z"]
    rc = ref["c"].value_counts().reindex(cats, fill_value=0).to_numpy(float)
    cc = cur["c"].value_counts().reindex(cats, fill_value=0).to_numpy(float)
    r, c = np.maximum(rc / rc.sum(), 1e-4), np.maximum(cc / cc.sum(), 1e-4)
    assert f.kind == "categorical"
    assert f.psi == pytest.approx(np.sum((c - r) * np.log(c / r)), rel=1e-12)
    assert f.jensen_shannon == pytest.approx(jensenshannon(rc, cc, base=2), abs=1e-12)
    assert f.chi2_pvalue == pytest.approx(st.chi2_contingency(np.vstack([rc, cc])).pvalue)
    assert f.ks_statistic is None and f.wasserstein is None and f.ks_pvalue is None
    assert f.evidence["new_categories"] == 1 and f.evidence["vanished_categories"] == 1


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(np.float64, hs.integers(2, 150), elements=hs.floats(-1e3, 1e3)),
    hnp.arrays(np.float64, hs.integers(2, 150), elements=hs.floats(-1e3, 1e3)),
    hs.integers(2, 12),
)
def test_report_psi_ks_wasserstein_property(ref, cur, bins):
    report = drift_report(pd.DataFrame({"v": ref}), pd.DataFrame({"v": cur}), bins=bins, workers=1)
    f = report.feature("v")
    assert f.psi == pytest.approx(reference_psi(ref, cur, bins), rel=1e-9, abs=1e-12)
    assert f.ks_statistic == pytest.approx(st.ks_2samp(ref, cur).statistic, abs=1e-9)
    assert f.wasserstein == pytest.approx(st.wasserstein_distance(ref, cur), rel=1e-9, abs=1e-12)
    assert f.psi >= 0


def test_profile_reuse_gives_the_same_report(frames):
    ref, cur = frames
    profile = fit_profile(ref, bins=10)
    direct = drift_report(ref, cur)
    reused = drift_report(profile, cur)
    assert to_jsonable(direct) == to_jsonable(reused)
    # and again on another window, without refitting
    again = drift_report(profile, cur.iloc[:1000])
    assert again.rows_reference == len(ref) and again.rows_current == 1000


def test_severity_and_status_follow_configurable_psi_thresholds(frames):
    ref, cur = frames
    report = drift_report(ref, cur)
    assert report.feature("a").psi > 0.05
    lax = DriftThresholds(
        psi_moderate=5.0, psi_significant=9.0, null_rate_warning=0.5, null_rate_critical=0.9
    )
    relaxed = drift_report(ref, cur, thresholds=lax)
    assert relaxed.status == "healthy"
    assert all(f.severity == "stable" for f in relaxed.features)
    strict = drift_report(
        ref, cur, thresholds=DriftThresholds(psi_moderate=0.0, psi_significant=0.0)
    )
    assert strict.status == "critical"
    with pytest.raises(ValueError):
        DriftThresholds(psi_moderate=0.3, psi_significant=0.2)


@pytest.mark.parametrize(
    ("value", "severity"),
    [(0.05, "stable"), (0.1, "moderate"), (0.19, "moderate"), (0.2, "significant")],
)
def test_psi_severity_boundaries(value, severity):
    assert DriftThresholds().psi_severity(value) == severity


def test_features_are_ranked_worst_first(frames):
    ref, cur = frames
    report = drift_report(ref, cur)
    ranks = [{"stable": 0, "moderate": 1, "significant": 2}[f.severity] for f in report.features]
    assert ranks == sorted(ranks, reverse=True)
    assert report.top is report.features[0]


def test_reference_incident_top_finding_is_the_null_feature(incident):
    reference, current = incident
    report = drift_report(reference, current)
    top = report.features[0]
    assert top.name == "avg_order_value_90d"
    assert top.null_rate_current == pytest.approx(0.942)
    assert top.severity == "significant"
    assert any("null rate 94.2%" in r for r in top.reasons)
    assert report.status == "critical"
    assert report.missing_columns == ("total_order_amount",)
    assert report.added_columns == ("order_total_amount",)
    others = [f for f in report.features if f.name not in ("avg_order_value_90d",)]
    assert all(f.severity == "stable" for f in others), [(f.name, f.psi) for f in others]


def test_all_null_current_column_is_an_explicit_finding():
    ref = pd.DataFrame({"v": np.arange(100.0), "s": ["a", "b"] * 50})
    cur = pd.DataFrame({"v": [np.nan] * 50, "s": [None] * 50})
    report = drift_report(ref, cur)
    for name in ("v", "s"):
        f = report.feature(name)
        assert f.psi is None and f.ks_statistic is None and f.jensen_shannon is None
        assert f.null_rate_current == 1.0
        assert f.severity == "significant"
        assert any("no non-null values" in r for r in f.reasons)
    d = to_jsonable(report)
    assert "NaN" not in str(d)


def test_all_null_in_both_is_stable_with_a_reason():
    ref = pd.DataFrame({"v": [np.nan] * 10})
    cur = pd.DataFrame({"v": [np.nan] * 10})
    f = drift_report(ref, cur).feature("v")
    assert f.severity == "stable" and f.psi is None
    assert "either sample" in f.reasons[0]


def test_constant_columns():
    ref = pd.DataFrame({"v": np.full(200, 5.0)})
    same = drift_report(ref, pd.DataFrame({"v": np.full(100, 5.0)})).feature("v")
    assert same.psi == 0.0 and same.ks_statistic == 0.0 and same.wasserstein == 0.0
    assert same.ks_pvalue == 1.0 and same.severity == "stable"
    moved = drift_report(ref, pd.DataFrame({"v": np.full(100, 6.0)})).feature("v")
    assert moved.ks_statistic == 1.0 and moved.wasserstein == pytest.approx(1.0)
    assert moved.severity == "significant" and moved.psi > 1


def test_infinities_are_counted_not_binned():
    ref = pd.DataFrame({"v": np.arange(1000.0)})
    values = np.arange(1000.0)
    values[:100] = np.inf
    values[100:110] = -np.inf
    f = drift_report(ref, pd.DataFrame({"v": values})).feature("v")
    assert f.infinite_rate_current == pytest.approx(0.11)
    assert f.rows_current == 890
    finite_part = values[np.isfinite(values)]
    assert f.ks_statistic == pytest.approx(st.ks_2samp(np.arange(1000.0), finite_part).statistic)
    assert math.isfinite(f.wasserstein)
    assert f.severity == "significant"
    assert any("±inf rate" in r for r in f.reasons)


def test_type_change_is_reported_not_coerced():
    ref = pd.DataFrame({"v": np.arange(10.0)})
    cur = pd.DataFrame({"v": ["1", "2", "oops"] * 3})
    f = drift_report(ref, cur).feature("v")
    assert f.severity == "significant" and f.psi is None
    assert "type changed" in f.reasons[0]
    back = drift_report(pd.DataFrame({"v": ["a", "b"] * 5}), pd.DataFrame({"v": np.arange(10)}))
    assert "type changed" in back.feature("v").reasons[0]


def test_forced_categorical_and_integer_columns():
    ref = pd.DataFrame({"code": [1, 2, 3, 1] * 50, "n": pd.array([1, None, 3, 4] * 50, "Int64")})
    cur = pd.DataFrame({"code": [1, 1, 1, 4] * 50, "n": pd.array([1, 2, 3, 4] * 50, "Int64")})
    report = drift_report(ref, cur, categorical=["code"])
    assert report.feature("code").kind == "categorical"
    assert report.feature("code").chi2_pvalue < 1e-6
    assert report.feature("n").kind == "numeric"
    assert report.feature("n").null_rate_reference == 0.25


def test_empty_frames_raise_typed_errors():
    ref = pd.DataFrame({"v": [1.0, 2.0]})
    with pytest.raises(EmptyInput):
        drift_report(ref, ref.iloc[:0])
    with pytest.raises(EmptyInput):
        drift_report(ref.iloc[:0], ref)
    with pytest.raises(ColumnNotFound):
        drift_report(ref, ref, columns=["nope"])


def test_explicit_columns_missing_from_current_are_reported():
    ref = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0]})
    report = drift_report(ref, ref[["a"]], columns=["a", "b"])
    assert report.missing_columns == ("b",)
    assert report.status == "critical"


def test_to_dict_has_the_cli_contract_keys(frames):
    ref, cur = frames
    d = to_jsonable(drift_report(ref, cur))
    assert {"status", "rows", "features", "segments"} <= set(d)
    assert d["rows"] == {"reference": len(ref), "current": len(cur)}
    for f in d["features"]:
        assert set(f) >= SPEC_KEYS


def test_the_report_leaves_the_callers_frames_untouched():
    # nullable Float64 hands back its own buffer from to_numpy(copy=False): the profile must
    # sort a copy of it, never the column itself
    values = [3.0, 1.0, 6.0, 2.0, 5.0, 4.0]  # no missing value: nothing to fill, no copy
    ref = pd.DataFrame({"f": pd.array(values, dtype="Float64"), "i": [3, 1, 2, 6, 5, 4]})
    cur = pd.DataFrame({"f": pd.array(values[::-1], dtype="Float64"), "i": [6, 5, 4, 3, 2, 1]})
    before = ref.copy(), cur.copy()
    profile = fit_profile(ref)
    drift_report(ref, cur)
    drift_report(profile, cur)
    pd.testing.assert_frame_equal(ref, before[0])
    pd.testing.assert_frame_equal(cur, before[1])
