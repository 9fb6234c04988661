"""The sorted-array statistics against scipy's and numpy's reference functions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon

from console.diagnostics import twosample
from console.diagnostics.twosample import (
    bin_counts,
    jensen_shannon,
    ks_pvalue_asymp,
    ks_statistic,
    ks_wasserstein,
    psi,
    quantile_edges,
    quantile_sorted,
    wasserstein,
)

FINITE = hs.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
# Small integers make ties common; floats make them rare: both paths are exercised.
SAMPLES = hs.one_of(
    hnp.arrays(np.float64, hs.integers(1, 300), elements=FINITE),
    hnp.arrays(np.float64, hs.integers(1, 300), elements=hs.integers(-5, 5).map(float)),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_psi_reproduces_the_domain_worked_value():
    value = psi([0.30, 0.25, 0.25, 0.20], [0.22, 0.28, 0.30, 0.20])
    assert value == pytest.approx(0.0373, abs=5e-5)
    assert value < 0.25


def test_psi_floors_without_renormalising():
    # an empty current bin is floored at 1e-4; the other proportions stay as they are
    value = psi([0.5, 0.5], [1.0, 0.0])
    expected = (1.0 - 0.5) * np.log(1.0 / 0.5) + (1e-4 - 0.5) * np.log(1e-4 / 0.5)
    assert value == pytest.approx(expected, rel=1e-12)


def test_psi_from_counts_equals_psi_from_proportions():
    assert psi([30, 25, 25, 20], [22, 28, 30, 20]) == pytest.approx(
        psi([0.30, 0.25, 0.25, 0.20], [0.22, 0.28, 0.30, 0.20]), rel=1e-12
    )


def test_psi_rejects_empty_distributions():
    with pytest.raises(ValueError):
        psi([0, 0], [1, 1])


@FAST
@given(SAMPLES, SAMPLES)
def test_ks_and_wasserstein_match_scipy(a, b):
    a, b = np.sort(a), np.sort(b)
    ks, w = ks_wasserstein(a, b)
    ref = st.ks_2samp(a, b, method="asymp")
    assert ks == pytest.approx(ref.statistic, abs=1e-9)
    if np.isnan(ref.pvalue):  # one value per side: scipy's effective n rounds to 0
        assert ks_pvalue_asymp(ks, a.size, b.size) is None
    else:
        assert ks_pvalue_asymp(ks, a.size, b.size) == pytest.approx(ref.pvalue, rel=1e-10)
    assert w == pytest.approx(st.wasserstein_distance(a, b), rel=1e-9, abs=1e-12)


def test_ks_and_wasserstein_match_scipy_across_merge_chunks(monkeypatch):
    # small chunks force many chunk boundaries, ties and one-sided chunks
    monkeypatch.setattr(twosample, "_MERGE_CHUNK", 16)
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = np.sort(rng.integers(0, 40, rng.integers(1, 400)).astype(float))
        b = np.sort(rng.normal(20, 15, rng.integers(1, 400)).round(0))
        ks, w = ks_wasserstein(a, b)
        assert ks == pytest.approx(st.ks_2samp(a, b).statistic, abs=1e-12)
        assert w == pytest.approx(st.wasserstein_distance(a, b), rel=1e-12)


@FAST
@given(SAMPLES, SAMPLES, hs.sampled_from([1, 10**9]), hs.sampled_from([(4, 2, 1), (8, 1)]))
def test_every_route_matches_scipy(a, b, min_run, strides):
    # tiny chunks and strides: the Wasserstein runs and gather routes, the KS levels and
    # its windowed route for flat curves are all taken on small samples
    a, b = np.sort(a), np.sort(b)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(twosample, "_MERGE_CHUNK", 5)
        mp.setattr(twosample, "_MIN_RUN", min_run)
        mp.setattr(twosample, "_KS_STRIDES", strides)
        ks, w = ks_wasserstein(a, b)
    assert ks == st.ks_2samp(a, b, method="asymp").statistic  # same quotients, same max
    assert w == pytest.approx(st.wasserstein_distance(a, b), rel=1e-12, abs=1e-12)


def test_ks_and_wasserstein_of_overlapping_samples_match_scipy():
    # a window that is (almost) a copy of the reference: the KS curve is flat at its maximum
    rng = np.random.default_rng(5)
    a = np.sort(rng.normal(size=60_000))
    for b in (a, a[rng.random(a.size) < 0.99], np.sort(np.append(a, 0.5))):
        ks, w = ks_wasserstein(a, b)
        assert ks == st.ks_2samp(a, b, method="asymp").statistic
        assert w == pytest.approx(st.wasserstein_distance(a, b), rel=1e-12, abs=1e-15)


def test_wasserstein_of_samples_of_very_different_sizes():
    rng = np.random.default_rng(6)
    a = np.sort(rng.lognormal(size=50_000))
    b = np.sort(rng.lognormal(0.1, size=3_001))
    assert wasserstein(a, b) == pytest.approx(st.wasserstein_distance(a, b), rel=1e-12)
    assert wasserstein(b, a) == pytest.approx(st.wasserstein_distance(a, b), rel=1e-12)
    assert ks_statistic(b, a) == st.ks_2samp(a, b, method="asymp").statistic


def test_ks_on_large_samples_matches_scipy():
    rng = np.random.default_rng(11)
    a = np.sort(rng.normal(size=200_000))
    b = np.sort(rng.normal(0.02, 1.01, size=150_001))
    ks, w = ks_wasserstein(a, b)
    ref = st.ks_2samp(a, b, method="asymp")
    assert ks == pytest.approx(ref.statistic, abs=1e-12)
    assert ks_pvalue_asymp(ks, a.size, b.size) == pytest.approx(ref.pvalue, rel=1e-10)
    assert w == pytest.approx(st.wasserstein_distance(a, b), rel=1e-12)


def test_identical_and_disjoint_samples():
    a = np.arange(10.0)
    assert ks_wasserstein(a, a) == (0.0, 0.0)
    ks, w = ks_wasserstein(a, a + 100)
    assert ks == 1.0 and w == pytest.approx(100.0)
    assert ks_pvalue_asymp(0.0, 10, 10) == 1.0


@FAST
@given(
    hnp.arrays(np.float64, hs.integers(1, 200), elements=FINITE),
    hs.lists(hs.floats(0, 1), min_size=1, max_size=12),
)
def test_quantile_sorted_equals_numpy_quantile(values, q):
    values = np.sort(values)
    q = np.array(q)
    np.testing.assert_array_equal(quantile_sorted(values, q), np.quantile(values, q))


@FAST
@given(
    hnp.arrays(np.float64, hs.integers(1, 300), elements=FINITE),
    hnp.arrays(np.float64, hs.integers(1, 300), elements=FINITE),
    hs.integers(1, 20),
)
def test_bins_are_reference_quantiles_and_counts_match_numpy_histogram(ref, cur, bins):
    ref, cur = np.sort(ref), np.sort(cur)
    inner = quantile_edges(ref, bins)
    unique = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if unique.size >= 3:
        np.testing.assert_array_equal(inner, unique[1:-1])
    edges = np.concatenate(([-np.inf], inner, [np.inf]))
    np.testing.assert_array_equal(bin_counts(cur, inner), np.histogram(cur, edges)[0])
    assert bin_counts(ref, inner).sum() == ref.size


def test_ten_bins_hold_a_tenth_of_a_continuous_reference_each():
    ref = np.sort(np.random.default_rng(0).normal(size=10_000))
    counts = bin_counts(ref, quantile_edges(ref, 10))
    assert counts.size == 10
    assert np.all(np.abs(counts - 1_000) <= 1)


def test_constant_reference_gets_below_equal_above_bins():
    ref = np.full(100, 3.0)
    inner = quantile_edges(ref, 10)
    assert bin_counts(ref, inner).tolist() == [0, 100, 0]
    assert bin_counts(np.array([1.0, 3.0, 5.0, 7.0]), inner).tolist() == [1, 1, 2]


def test_binary_reference_keeps_its_two_values_apart():
    # 5% ones: every decile but the maximum is 0, so the quantile rule alone gives one bin
    ref = np.sort(np.array([0.0] * 95 + [1.0] * 5))
    inner = quantile_edges(ref, 10)
    assert bin_counts(ref, inner).tolist() == [0, 95, 5, 0]
    # a shift from 5% ones to 90% ones is visible
    cur = np.sort(np.array([0.0] * 10 + [1.0] * 90))
    assert psi(bin_counts(ref, inner), bin_counts(cur, inner)) > 0.2


@FAST
@given(
    hnp.arrays(np.float64, 6, elements=hs.integers(0, 50).map(float)),
    hnp.arrays(np.float64, 6, elements=hs.integers(0, 50).map(float)),
)
def test_jensen_shannon_is_scipys_base_2(p, q):
    if p.sum() == 0 or q.sum() == 0:
        return
    expected = jensenshannon(p, q, base=2)
    assert jensen_shannon(p, q) == pytest.approx(expected, abs=1e-12)
    assert 0.0 <= jensen_shannon(p, q) <= 1.0 + 1e-12


def test_ks_pvalue_asymp_matches_scipy_kstwo_in_its_tails():
    # effective sizes from 1,000 up, D from the centre of the distribution to its far tail:
    # the survival function is computed directly, so tiny p-values keep their digits
    rng = np.random.default_rng(8)
    for _ in range(6):
        n, m = (int(v) for v in rng.integers(2_000, 60_000, 2))
        en = round(n * m / (n + m))
        for nx2 in (0.05, 1.0, 2.2, 30.0, 300.0):
            d = float(np.sqrt(nx2 / en))
            expected = st.kstwo.sf(d, en)
            assert ks_pvalue_asymp(d, n, m) == pytest.approx(expected, rel=1e-10)
    assert ks_pvalue_asymp(0.5, 100_000, 100_000) == 0.0  # n·D² ≥ 370: scipy's 0 too
