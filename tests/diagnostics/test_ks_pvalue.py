"""KS tests against scipy.stats.ks_2samp's default: statistic bit for bit, p-values to 1e-10.

scipy's default (``method="auto"``) uses the exact null distribution when neither sample has
more than 10,000 values and the asymptotic one otherwise; ``ks_test`` must make the same
choice, report the same statistic and a p-value within a relative 1e-10 of scipy's wherever
scipy's is above 1e-300 (tails included: no ``1 − CDF``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from console.diagnostics import twosample
from console.diagnostics.twosample import (
    KS_EXACT_MAX_N,
    ks_pvalue_asymp,
    ks_statistic,
    ks_test,
)

REL = 1e-10
FLOOR = 1e-300  # below this scipy's p-value is not held to REL (subnormal territory)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scipy_default(a: np.ndarray, b: np.ndarray):
    """scipy's result and whether it fell back from exact to asymptotic (it warns)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = st.ks_2samp(a, b)
    fell_back = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    return ref, fell_back


def assert_matches_scipy(a: np.ndarray, b: np.ndarray) -> twosample.KSTest:
    a, b = np.sort(a), np.sort(b)
    ref, fell_back = scipy_default(a, b)
    ours = ks_test(ks_statistic(a, b), a.size, b.size)
    assert ours.statistic == ref.statistic  # to the last bit
    exact = max(a.size, b.size) <= KS_EXACT_MAX_N and not fell_back
    assert ours.method == ("exact" if exact else "asymp")
    assert_pvalue_close(ours.pvalue, float(ref.pvalue))
    return ours


def assert_pvalue_close(ours: float | None, theirs: float) -> None:
    if np.isnan(theirs):
        assert ours is None
        return
    assert ours is not None and 0.0 <= ours <= 1.0
    if theirs > FLOOR:
        assert abs(ours - theirs) <= REL * theirs, (ours, theirs)
    else:
        assert ours <= 1e-290, (ours, theirs)


# Sizes 5 … 3,000 (the exact route), shifted apart by 0 … 8 standard deviations so that
# p-values run from ~1 down through the extreme tail (and underflow); small integers for ties.
SIZES = hs.integers(5, 3_000)
SHIFTS = hs.sampled_from([0.0, 0.02, 0.1, 0.3, 1.0, 2.0, 8.0])


@FAST
@given(SIZES, SIZES, SHIFTS, hs.booleans(), hs.integers(0, 2**32 - 1))
def test_exact_route_matches_scipy(n, m, shift, ties, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.0, 1.0, n), rng.normal(shift, 1.0, m)
    if ties:
        a, b = np.round(a * 2), np.round(b * 2)
    assert_matches_scipy(a, b)


@FAST
@given(
    hs.integers(5, 1_500),
    hs.integers(2, 40),
    SHIFTS,
    hs.sampled_from([1, 10**9]),
    hs.integers(0, 2**32 - 1),
)
def test_both_dynamic_programmes_match_scipy(n, ratio, shift, columns_ratio, seed):
    # forced down one route or the other: columns (the smaller sample's) for every unequal
    # pair, or anti-diagonals only; unbalanced sizes are where the two differ most
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.0, 1.0, n * ratio), rng.normal(shift, 1.0, n)
    a, b = a[: min(a.size, KS_EXACT_MAX_N)], b
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(twosample, "_KS_COLUMNS_RATIO", columns_ratio)
        assert_matches_scipy(a, b)


@FAST
@given(hs.integers(1, 2_000), hs.integers(1, 4), hs.integers(0, 3))
def test_equal_sizes_are_scipys_bit_for_bit_including_its_fallback(n, gap, offset):
    # interleaved samples put D at small multiples of 1/n, where scipy's exact series rounds
    # above 1 for many n and scipy falls back to the asymptotic distribution
    a = np.arange(n, dtype=float) * gap
    b = a + offset + 0.5
    a, b = np.sort(a), np.sort(b)
    ref, fell_back = scipy_default(a, b)
    ours = ks_test(ks_statistic(a, b), n, n)
    assert ours.statistic == ref.statistic
    assert ours.pvalue == ref.pvalue
    assert ours.method == ("asymp" if fell_back else "exact")


def test_scipys_fallback_is_taken_where_it_changes_the_p_value():
    # n = 7, D = 1/7: scipy's exact series gives 1.0000000000000002, so it reports the
    # asymptotic 0.99996…; an exact 1.0 would be 4e-5 away
    a = np.arange(7.0)
    ref, fell_back = scipy_default(a, a + 0.5)
    assert fell_back and ref.pvalue < 1.0
    ours = ks_test(ks_statistic(a, a + 0.5), 7, 7)
    assert ours == (ref.statistic, ref.pvalue, "asymp")


@pytest.mark.parametrize(
    ("n", "m"),
    [(5, 5), (5, 8), (40, 23), (335, 335), (400, 300), (1000, 120), (3000, 45), (10000, 31)],
)
def test_completely_separated_samples_have_the_closed_form_tail(n, m):
    # D = 1: only the two paths "all of a first" and "all of b first" reach it, so the exact
    # p-value is 2 / C(n + m, n), 1e-200 at 335 + 335; both DP routes and scipy must agree
    a, b = np.arange(n, dtype=float), np.arange(m, dtype=float) + n
    ours = assert_matches_scipy(a, b)
    closed = 2.0 / math.comb(n + m, n) if math.comb(n + m, n) < 10**308 else 0.0
    assert ours.method == "exact"
    assert ours.pvalue == pytest.approx(closed, rel=1e-12, abs=1e-300)
    if n != m:
        g = math.gcd(n, m)
        for route in (twosample._ks_exact_sf_columns, twosample._ks_exact_sf_diagonals):
            p = route(max(n, m), min(n, m), n // g * m)
            assert p is None or p == pytest.approx(closed, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(
    ("n", "m", "shift"),
    [
        (10_000, 10_000, 0.02),  # largest exact: equal sizes
        (10_000, 9_999, 0.03),  # largest exact: anti-diagonals
        (10_000, 2_500, 0.05),  # largest exact: columns
        (10_001, 10_000, 0.03),  # smallest asymptotic
        (10_001, 3, 1.0),  # asymptotic with an effective size of 3
        (3, 10_000, 1.0),  # exact, very unbalanced
    ],
)
def test_exact_asymptotic_switch_boundary(n, m, shift):
    rng = np.random.default_rng(n + m)
    assert_matches_scipy(rng.normal(0, 1, n), rng.normal(shift, 1, m))


@pytest.mark.parametrize(("size", "shift"), [(100_000, 0.05), (100_000, 0.17), (1_000_000, 0.0)])
def test_asymptotic_tails_on_large_samples(size, shift):
    # the cases: ~1e-29 and ~1e-212 came back as 0.0 from 1 − CDF
    rng = np.random.default_rng(size)
    a = rng.normal(0.0, 1.0, size)
    b = rng.normal(shift, 1.0, size + 1)
    ours = assert_matches_scipy(a, b)
    assert ours.method == "asymp"
    if shift:
        assert 0.0 < ours.pvalue < 1e-20


# The asymptotic distribution itself, against kstwo.sf: every formula of scipy's and its
# boundaries (n ≤ 140, n·x ≤ 1 and ≥ n − 1, n·x² = 2.2 and 370, x = 0.5, Pelz–Good's range).
NX2 = [1e-3, 0.02, 0.2, 0.75, 2.0, 2.19999, 2.2, 2.2001, 4.0, 30.0, 200.0, 345.0, 369.9, 370.0]


@pytest.mark.parametrize("n", [2, 50, 140, 141, 1_000, 4_999, 10_000, 37_000, 100_000, 100_001])
def test_kolmogorov_survival_matches_kstwo(n):
    from scipy.stats import kstwo

    xs = [math.sqrt(c / n) for c in NX2] + [0.5 / n, 1.0 / n, 1.5 / n, 1 - 1.5 / n, 0.5, 0.7]
    for x in xs:
        if not 0.0 < x < 1.0:
            continue
        assert_pvalue_close(twosample._kolmogorov_sf(x, n), float(kstwo.sf(x, n)))


def test_kolmogorov_survival_tail_at_half_a_million():
    # the largest effective size a 1M-row report reaches; scipy takes ~0.5 s per value here
    from scipy.stats import kstwo

    n = 500_000
    for c in (0.3, 2.2, 40.0, 340.0):
        x = math.sqrt(c / n)
        assert_pvalue_close(twosample._kolmogorov_sf(x, n), float(kstwo.sf(x, n)))


@settings(max_examples=40, deadline=None)
@given(hs.floats(math.log(141), math.log(60_000)), hs.floats(math.log(0.01), math.log(369.0)))
def test_kolmogorov_survival_matches_kstwo_anywhere(log_n, log_nx2):
    from scipy.stats import kstwo

    n = round(math.exp(log_n))
    x = math.sqrt(math.exp(log_nx2) / n)
    if x < 1.0:
        assert_pvalue_close(twosample._kolmogorov_sf(x, n), float(kstwo.sf(x, n)))


def test_smirnov_sum_equals_scipy_smirnov_with_and_without_steps():
    from scipy.special import smirnov

    for n, c in [(200, 3.0), (1_000, 2.2), (5_000, 50.0), (20_000, 2.5), (20_000, 300.0)]:
        x = math.sqrt(c / n)
        expected = float(smirnov(n, x))
        assert twosample._smirnov_sf(n, x) == pytest.approx(expected, rel=1e-12)
        with pytest.MonkeyPatch.context() as mp:  # every term: no stepping
            mp.setattr(twosample, "_SMIRNOV_STEPS", 1e18)
            assert twosample._smirnov_sf(n, x) == pytest.approx(expected, rel=1e-12)


def test_smallest_samples():
    for a, b in [([1.0], [2.0]), ([1.0], [1.0]), ([1.0, 2.0], [3.0]), ([0.0] * 4, [1.0] * 9)]:
        assert_matches_scipy(np.array(a), np.array(b))
    with pytest.raises(ValueError):
        ks_test(0.5, 0, 3)
    # one value each side, asymptotic: scipy's effective size rounds to 0 (NaN)
    assert ks_pvalue_asymp(1.0, 1, 1) is None


def brute_force_sf(n: int, m: int, h: int) -> float:
    """P(D ≥ h/lcm) by listing every merge order of the two samples (tiny sizes only)."""
    from itertools import combinations

    g = math.gcd(n, m)
    total = hit = 0
    for positions in combinations(range(n + m), n):  # where the first sample's values go
        x = y = 0
        chosen, reached = set(positions), False
        for step in range(n + m):
            x, y = (x + 1, y) if step in chosen else (x, y + 1)
            reached = reached or abs(x * (m // g) - y * (n // g)) >= h
        total += 1
        hit += reached
    return hit / total


@pytest.mark.parametrize("columns_ratio", [1, 10**9])
def test_exact_routes_equal_a_count_of_every_path(columns_ratio):
    # every (n, m, h) with n + m ≤ 9: the p-value is a count of lattice paths, and must never
    # come out above 1 (the column scan once gave 1.0000000000000002)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(twosample, "_KS_COLUMNS_RATIO", columns_ratio)
        for n in range(1, 9):
            for m in range(1, 10 - n):
                lcm = n * m // math.gcd(n, m)
                for h in range(1, lcm + 1):
                    p = twosample._ks_exact_sf(n, m, h)
                    if p is None:  # equal sizes, scipy's series above 1: checked elsewhere
                        continue
                    assert 0.0 <= p <= 1.0
                    assert p == pytest.approx(brute_force_sf(n, m, h), rel=1e-12)
