"""Prediction shift, output diversity and canary statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st

from console.diagnostics import (
    Arm,
    DiagnosticsInputError,
    DtypeMismatch,
    EmptyInput,
    mean_shift,
    output_diversity,
    positive_rate_shift,
    sample_size,
    two_proportion_test,
    window_mean_shift,
)


def test_mean_shift_z_uses_sample_std():
    history = [645.0, 648.0, 641.0, 650.0, 644.0, 646.0]
    z = mean_shift(history, 580.0)
    assert z.z == pytest.approx((580.0 - np.mean(history)) / np.std(history, ddof=1))
    assert z.anomalous and z.z < -3
    assert window_mean_shift([*history, 580.0]).z == z.z


def test_credit_score_scenario_crosses_the_threshold():
    # trailing means chosen so that 580 sits 4.7 standard deviations below them
    history = np.array([645.0 - 13.83, 645.0 + 13.83])
    result = mean_shift(history, 645.0 - 4.7 * np.std(history, ddof=1))
    assert result.z == pytest.approx(-4.7)
    assert result.anomalous and result.threshold == 3.0


def test_mean_shift_edge_cases():
    assert mean_shift([1.0], 2.0).z is None
    flat = mean_shift([5.0, 5.0, 5.0], 7.0)
    assert flat.z is None and flat.anomalous and "constant" in flat.reason
    assert mean_shift([5.0, 5.0], 5.0).z == 0.0
    assert "non-finite" in mean_shift([1.0, np.nan, 2.0, np.inf], 1.5).reason
    with pytest.raises(EmptyInput):
        mean_shift([1.0, 2.0], float("nan"))
    with pytest.raises(DtypeMismatch):
        mean_shift(["a", "b"], 1.0)
    with pytest.raises(EmptyInput):
        window_mean_shift([])


def test_positive_rate_shift_in_percentage_points():
    result = positive_rate_shift([0.14] * 30, 0.62)
    assert result.deviation_pp == pytest.approx(48.0)
    assert result.anomalous
    assert not positive_rate_shift([0.14, 0.15], 0.16).anomalous
    assert positive_rate_shift([], 0.5).deviation_pp is None
    with pytest.raises(DtypeMismatch):
        positive_rate_shift([0.1], 14.0)


def test_output_diversity_detects_the_same_answer_for_everyone():
    collapsed = output_diversity(["item_42"] * 1000)
    assert collapsed.collapsed and collapsed.distinct == 1
    assert collapsed.normalized_entropy == 0.0 and collapsed.top_share == 1.0
    rng = np.random.default_rng(0)
    healthy = output_diversity(rng.integers(0, 500, 5000))
    assert not healthy.collapsed and healthy.normalized_entropy > 0.95
    p = np.bincount(rng.integers(0, 500, 5000))
    assert 0 < healthy.unique_ratio <= 1
    mostly = output_diversity([0.0] * 95 + [1.0, 2.0, 3.0, 4.0, 5.0])
    assert mostly.collapsed and mostly.top_share == 0.95
    empty = output_diversity([None, None])
    assert empty.distinct == 0 and empty.top_share is None and not empty.collapsed
    assert p.sum() == 5000


def test_two_proportion_z_matches_the_chi_squared_test():
    control, treatment = Arm(1200, 50_000), Arm(1310, 50_000)
    result = two_proportion_test(control, treatment)
    table = np.array([[1200, 50_000 - 1200], [1310, 50_000 - 1310]])
    chi2 = st.chi2_contingency(table, correction=False)
    assert result.z**2 == pytest.approx(chi2.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    assert result.z > 0 and result.significant and result.decision == "promote"
    pooled = 2510 / 100_000
    se = math.sqrt(pooled * (1 - pooled) * (2 / 50_000))
    assert result.z == pytest.approx((1310 - 1200) / 50_000 / se)


def test_rollback_when_the_canary_is_significantly_worse():
    result = two_proportion_test(Arm(1300, 50_000), Arm(1150, 50_000))
    assert result.decision == "rollback" and result.z < 0
    errors = two_proportion_test(Arm(100, 10_000), Arm(180, 10_000), higher_is_better=False)
    assert errors.decision == "rollback"


def test_non_inferiority_uses_the_unpooled_standard_error():
    control, treatment = Arm(2000, 40_000), Arm(1980, 40_000)
    result = two_proportion_test(control, treatment, margin=0.005)
    pc, pt = 0.05, 1980 / 40_000
    se = math.sqrt(pt * (1 - pt) / 40_000 + pc * (1 - pc) / 40_000)
    z = (pt - pc + 0.005) / se
    assert result.non_inferiority_z == pytest.approx(z)
    assert result.non_inferiority_p_value == pytest.approx(st.norm.sf(z))
    assert result.non_inferior and result.decision == "promote"
    assert not result.significant
    tight = two_proportion_test(control, treatment, margin=0.0001)
    assert tight.non_inferior is False and tight.decision == "inconclusive"
    assert two_proportion_test(control, treatment).non_inferior is None


def test_canary_degenerate_and_invalid_inputs():
    zero = two_proportion_test(Arm(0, 100), Arm(0, 100))
    assert zero.z is None and zero.p_value is None and zero.decision == "inconclusive"
    with pytest.raises(DiagnosticsInputError):
        Arm(5, 0)
    with pytest.raises(DiagnosticsInputError):
        Arm(11, 10)
    with pytest.raises(DiagnosticsInputError):
        Arm.parse("12 of 100")
    with pytest.raises(DiagnosticsInputError):
        two_proportion_test(Arm(1, 10), Arm(1, 10), alpha=1.5)


def test_sample_size_formula():
    p1, p2 = 0.10, 0.12
    pbar = (p1 + p2) / 2
    za, zb = st.norm.ppf(0.975), st.norm.ppf(0.8)
    n = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    expected = math.ceil(n**2 / (p1 - p2) ** 2)
    result = sample_size(0.10, 0.02)
    assert result.n_per_arm == expected
    assert 3_800 < expected < 3_900
    assert sample_size(0.10, 0.2, relative=True).n_per_arm == expected
    days = sample_size(0.10, 0.02, daily_traffic=10_000, share=0.1).days
    assert days == pytest.approx(expected / 1_000)
    with pytest.raises(DiagnosticsInputError):
        sample_size(0.10, 0.0)
    with pytest.raises(DiagnosticsInputError):
        sample_size(0.95, 0.1)
    with pytest.raises(DiagnosticsInputError):
        sample_size(0.10, 0.02, daily_traffic=1000)
