"""Two-sample statistics computed from sorted arrays.

Every function here takes *sorted, finite* float64 arrays (callers drop nulls and ±inf and sort
once, see :mod:`console.diagnostics.profile`) so that quantile bins, the Kolmogorov–Smirnov
statistic and the Wasserstein distance all come from the same sort; none of them needs the two
samples merged (a merge cost twice the sorts at 1M rows). Definitions match scipy:

* ``ks_statistic`` equals ``scipy.stats.ks_2samp(a, b, method="asymp").statistic`` bit for
  bit; ``ks_test`` turns it into ``scipy.stats.ks_2samp(a, b)``'s default test (exact null
  distribution up to 10,000 values a side, asymptotic above: statistic bit for bit, p-value
  to a relative 1e-10 above 1e-300) and ``ks_pvalue_asymp`` gives the asymptotic p-value;
* ``wasserstein`` equals ``scipy.stats.wasserstein_distance(a, b)`` (only the order of the
  floating-point sum differs);
* ``quantile_sorted`` equals ``numpy.quantile(a, q)`` (method ``"linear"``);
* ``jensen_shannon`` is ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
"""

from __future__ import annotations

import math
import threading
from typing import NamedTuple, Protocol

import numpy as np

PSI_FLOOR = 1e-4


class SortedValues(Protocol):
    """What :func:`quantile_sorted` reads: a sorted, finite 1-D float array, or an object
    answering ``shape`` and integer-array indexing like one (the pushdown path reads only
    the order statistics a quantile needs, without holding the whole column)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def __getitem__(self, index: np.ndarray, /) -> np.ndarray: ...


def quantile_sorted(sorted_values: SortedValues, q: np.ndarray) -> np.ndarray:
    """``numpy.quantile(sorted_values, q)`` (method ``"linear"``) without re-partitioning.

    ``sorted_values`` must be sorted, non-empty and NaN-free; ``q`` holds probabilities in
    [0, 1]. Reproduces numpy's index arithmetic and its two-sided ``_lerp`` bit for bit."""
    n = sorted_values.shape[0]
    q = np.asarray(q, dtype=np.float64)
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = n - 1
    nxt[above] = n - 1
    below = virtual < 0
    prev[below] = 0
    nxt[below] = 0
    gamma = virtual - prev
    a = sorted_values[prev.astype(np.intp)]
    b = sorted_values[nxt.astype(np.intp)]
    diff = b - a
    out = a + diff * gamma
    upper = gamma >= 0.5
    out[upper] = (b - diff * (1 - gamma))[upper]
    return out


def quantile_edges(sorted_values: SortedValues, bins: int = 10) -> np.ndarray:
    """Interior PSI bin edges at the reference's quantiles 0, 1/bins, …, 1.

    The edges are the unique quantiles with the first and last replaced by −∞/+∞, so the
    returned array holds only the interior edges; bins are half-open ``[a, b)``. With 10 bins
    and continuous data every bin holds 10% of the reference.

    Degenerate references (fewer than three distinct quantiles: a constant, or a mostly
    binary column) would give a single bin that can never show drift. Their bins become
    "below the smallest quantile", one bin per distinct quantile value, and "above the
    largest": for a constant ``c`` that is ``(−∞, c)``, ``{c}``, ``(c, +∞)``."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    q = quantile_sorted(sorted_values, np.linspace(0.0, 1.0, bins + 1))
    unique = np.unique(q)
    if unique.size >= 3:
        return unique[1:-1]
    return np.append(unique, np.nextafter(unique[-1], np.inf))


def bin_counts(sorted_values: np.ndarray, interior_edges: np.ndarray) -> np.ndarray:
    """Counts of ``sorted_values`` in the bins ``(−∞, e0), [e0, e1), …, [e_k, +∞)``.

    Uses ``searchsorted(side="left")`` on the sorted array: the count below an edge is the
    number of values strictly smaller than it, which gives ``[a, b)`` bins exactly as
    ``numpy.histogram`` does (its closed last bin does not matter: the last edge is +∞)."""
    below = np.searchsorted(sorted_values, interior_edges, side="left")
    return np.diff(np.concatenate(([0], below, [sorted_values.shape[0]])))


def psi(reference: np.ndarray, current: np.ndarray, floor: float = PSI_FLOOR) -> float:
    """Population stability index between two proportion (or count) vectors.

    ``PSI = Σ (c − r) · ln(c / r)`` where ``r``/``c`` are the proportions floored at ``floor``
    *without* renormalising. Count vectors are turned into proportions first. Dimensionless;
    0 means identical bins. Raises ``ValueError`` for empty or all-zero vectors."""
    r = _proportions(reference)
    c = _proportions(current)
    if r.shape != c.shape:
        raise ValueError("reference and current must have the same number of bins")
    r = np.maximum(r, floor)
    c = np.maximum(c, floor)
    return float(np.sum((c - r) * np.log(c / r)))


def _proportions(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    total = v.sum()
    if v.size == 0 or not total > 0:
        raise ValueError("a distribution needs at least one positive count")
    # Vectors that already sum to 1 are used as given (the worked values in DOMAIN.md).
    return v if abs(total - 1.0) < 1e-12 else v / total


def jensen_shannon(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) between two count or proportion vectors.

    No floor is applied; this is ``scipy.spatial.distance.jensenshannon(p, q, base=2)``."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(reference, current, base=2))


class KSWasserstein(NamedTuple):
    ks_statistic: float
    wasserstein: float


def ks_wasserstein(a: np.ndarray, b: np.ndarray) -> KSWasserstein:
    """KS statistic and Wasserstein-1 distance from two sorted, finite, non-empty arrays
    (:func:`ks_statistic` and :func:`wasserstein`). Units: KS is a probability, Wasserstein
    is in the units of the data."""
    return KSWasserstein(ks_statistic(a, b), wasserstein(a, b))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic ``max |F_a − F_b|`` of two sorted, finite, non-empty arrays.

    Bit for bit ``scipy.stats.ks_2samp(a, b, method="asymp").statistic``: the largest
    ``F_a − F_b`` is reached just after a value of ``a``, at ``(i+1)/n − #{b ≤ a_i}/m``
    (scipy's ``searchsorted(..., side="right")`` quotients, subtracted the same way), and
    the largest ``F_b − F_a`` just after a value of ``b``. Neither needs the pooled sort:
    see :func:`_largest_excess`. Between 0 and 1."""
    larger = _largest_excess(a, b, 0.0)
    return _largest_excess(b, a, larger)


# Sampling strides for _largest_excess, coarse to fine; each divides the one before.
_KS_STRIDES = (4096, 512, 64, 8, 1)
# Above this share of ``a`` left to check at stride 1, the curve is flat near its maximum
# (samples alike or identical) and a windowed search over whole blocks is cheaper.
_KS_FLAT_SHARE = 0.125


def _largest_excess(a: np.ndarray, b: np.ndarray, best: float) -> float:
    """``max(best, max_i ((i+1)/n − #{b ≤ a_i}/m))`` by branch and bound.

    ``(i+1)/n`` rises and ``#{b ≤ a_i}`` does not fall as ``i`` grows, so for every ``i``
    in a block ``[s, e)`` the excess is at most ``e/n − #{b ≤ a_s}/m``. Sampling every
    4,096th value, then every 512th inside the blocks whose bound beats the best sample so
    far, and so on down to every value inside the blocks still in the running, finds the
    exact maximum while searching ``b`` for a few thousand values instead of all of ``a``.
    Nothing that could win is pruned: the bound is padded by ``1/n``, far above rounding."""
    n, m = a.shape[0], b.shape[0]
    top = _KS_STRIDES[0]
    starts = np.arange(0, n, top)
    top_counts = np.searchsorted(b, a[starts], side="right")
    counts, previous = top_counts, top
    for stride in _KS_STRIDES:
        if stride != top:
            starts = (starts[:, None] + np.arange(0, previous, stride)).ravel()
            if starts[-1] >= n:
                starts = starts[starts < n]
            if stride == 1 and starts.shape[0] > _KS_FLAT_SHARE * n:
                return _largest_excess_windowed(a, b, best, top_counts)
            counts = np.searchsorted(b, a[starts], side="right")
        excess = (starts + 1) / n - counts / m
        best = max(best, float(excess.max()))
        if stride == 1:
            break
        # Inside a block the excess exceeds its first value by at most (stride − 1)/n; the
        # extra 1/n covers rounding, which is far smaller.
        starts = starts[excess > best - stride / n]
        if not starts.shape[0]:
            break
        previous = stride
    return best


def _largest_excess_windowed(
    a: np.ndarray, b: np.ndarray, best: float, top_counts: np.ndarray
) -> float:
    """Every ``i`` of :func:`_largest_excess`, searched block by block: a block of ``a``
    between two top-level samples only needs the part of ``b`` between their counts, which
    stays in cache (about 1.6× faster than one search of all of ``a`` in all of ``b``)."""
    n, m = a.shape[0], b.shape[0]
    top = _KS_STRIDES[0]
    ends = np.append(top_counts[1:], m).tolist()
    rank = np.arange(1, top + 1, dtype=np.float64)
    for k, (lo, hi) in enumerate(zip(top_counts.tolist(), ends, strict=True)):
        s = k * top
        e = min(s + top, n)
        if (e / n) - lo / m <= best:  # the block's bound, as in _largest_excess
            continue
        counts = np.searchsorted(b[lo:hi], a[s:e], side="right") + lo
        excess = (rank[: e - s] + s) / n - counts / m
        best = max(best, float(excess.max()))
    return best


# Chunk length of the Wasserstein pass (1 MiB per work array): long enough that numpy's
# per-call overhead, paid holding the GIL, is small next to the work, short enough that the
# work arrays stay in the L3 cache. At 1M values: 8,192 → 6–8 ms, 131,072 → 5 ms, 524,288
# → 6–17 ms.
_MERGE_CHUNK = 131_072
# Average run length (see _wasserstein_runs) from which runs beat an index gather: a run
# costs ~5 µs of calls, the gather ~1.5 ns more per value than the runs' slices.
_MIN_RUN = 4096


class _Scratch(threading.local):
    """Work arrays kept per thread between calls. Fresh arrays of a megabyte or more come
    from mmap, or from heap that malloc has just trimmed, and cost a page fault per 4 KiB on
    first touch: across a report's columns that was a tenth of its time. A thread keeps at
    most eight arrays of ``_MERGE_CHUNK`` values (8 MiB); pool threads drop theirs on exit."""

    def __init__(self) -> None:
        self.arrays: dict[tuple[str, str], np.ndarray] = {}

    def get(self, name: str, size: int, dtype: type = np.float64) -> np.ndarray:
        key = (name, np.dtype(dtype).str)
        array = self.arrays.get(key)
        if array is None or array.shape[0] < size:
            array = self.arrays[key] = np.empty(max(size, _MERGE_CHUNK), dtype=dtype)
        return array[:size]

    def arange(self, size: int) -> np.ndarray:
        """``np.arange(size)`` (int64), built once per thread."""
        ramp = self.arrays.get(("arange", ""))
        if ramp is None or ramp.shape[0] < size:
            ramp = self.arrays["arange", ""] = np.arange(max(size, _MERGE_CHUNK))
        return ramp[:size]


_scratch = _Scratch()


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 distance of two sorted, finite, non-empty arrays, in the data's units.

    Equal to ``scipy.stats.wasserstein_distance(a, b)`` = ``∫ |F_a − F_b| dx``, computed as
    the same area measured the other way, ``∫₀¹ |Q_a(u) − Q_b(u)| du`` over the quantile
    functions, so no pooled sort is needed. With ``n ≥ m`` values, ``Q_a`` steps at
    multiples of ``1/n`` and ``Q_b`` at multiples of ``1/m``; in units of ``1/(n·m)`` the
    value ``a_i`` holds on ``[i·m, (i+1)·m)``, which meets at most two steps of ``Q_b``
    (``b_j`` on ``[j·n, (j+1)·n)``). The integral is a sum of non-negative terms
    ``overlap · |a_i − b_j|`` with integer overlaps, so it is as accurate as scipy's."""
    if a.shape[0] < b.shape[0]:
        a, b = b, a
    n, m = a.shape[0], b.shape[0]
    shift = n - m
    if shift == 0 or n // (shift + 1) >= _MIN_RUN:
        total = _wasserstein_runs(a, b)
    else:
        total = _wasserstein_gather(a, b)
    return total / n / m


def _wasserstein_runs(a: np.ndarray, b: np.ndarray) -> float:
    """``n·m·W`` when ``n − m`` is small next to ``n``.

    The step of ``Q_b`` under ``a_i`` starts at ``j = i − d`` with ``d = ⌈i·(n−m)/n⌉``, a
    shift that stays constant over runs of about ``n/(n−m)`` values: inside a run both
    neighbours ``b_{i−d}`` and ``b_{i−d+1}`` are plain slices (no gather), and the overlap
    with the first, ``n·(1−d) + i·(n−m)`` capped at ``m``, is an arithmetic sequence."""
    n, m = a.shape[0], b.shape[0]
    shift = n - m
    if shift:
        firsts = np.arange(shift, dtype=np.int64) * n // shift + 1
        run_starts = [0, *firsts.tolist(), n]
    else:
        run_starts = [0, n]
    size = min(_MERGE_CHUNK, n)
    steps = np.multiply(_scratch.arange(size), shift, out=_scratch.get("steps", size))
    near, far, weight = (_scratch.get(k, size) for k in ("near", "far", "weight"))
    total = 0.0
    run = 0
    for c0 in range(0, n, size):
        c1 = min(c0 + size, n)
        length = c1 - c0
        s = c0
        while s < c1:
            while run_starts[run + 1] <= s:
                run += 1
            e = min(run_starts[run + 1], c1)
            lo, hi = s - c0, e - c0
            np.subtract(a[s:e], b[s - run : e - run], out=near[lo:hi])
            if shift:
                # b_{i−d+1} exists up to i = m + d − 2; past that its overlap is 0
                cut = min(e, m + run - 1)
                np.subtract(a[s:cut], b[s - run + 1 : cut - run + 1], out=far[lo : cut - c0])
                far[max(cut - c0, lo) : hi] = 0.0
                np.add(steps[lo:hi], n * (1 - run) + c0 * shift, out=weight[lo:hi])
            s = e
        np.abs(near[:length], out=near[:length])
        if not shift:
            total += float(near[:length].sum()) * m
            continue
        np.abs(far[:length], out=far[:length])
        np.minimum(weight[:length], m, out=weight[:length])
        total += _weighted_sums(weight[:length], near[:length], far[:length], m)
    return total


def _wasserstein_gather(a: np.ndarray, b: np.ndarray) -> float:
    """``n·m·W`` for any ``n ≥ m``: the step ``j = ⌊i·m/n⌋`` under each ``a_i`` and its
    overlap ``(j+1)·n − i·m`` (capped at ``m``) come from integer arithmetic, the two
    neighbours ``b_j`` and ``b_{j+1}`` from a gather."""
    n, m = a.shape[0], b.shape[0]
    size = min(_MERGE_CHUNK, n)
    times_m = np.multiply(_scratch.arange(size), m, out=_scratch.get("times_m", size, np.int64))
    start, step = (_scratch.get(k, size, np.int64) for k in ("start", "step"))
    near, far, weight = (_scratch.get(k, size) for k in ("near", "far", "weight"))
    total = 0.0
    for c0 in range(0, n, size):
        c1 = min(c0 + size, n)
        length = c1 - c0
        lo, j, w = start[:length], step[:length], weight[:length]
        nr, fr = near[:length], far[:length]
        np.add(times_m[:length], c0 * m, out=lo)  # i·m
        np.floor_divide(lo, n, out=j)
        np.take(b, j, out=nr, mode="clip")
        np.add(j, 1, out=j)
        # past the last step of Q_b (j + 1 = m) the overlap is 0: clipping is harmless
        np.take(b, j, out=fr, mode="clip")
        np.multiply(j, n, out=j)
        np.subtract(j, lo, out=j)
        np.copyto(w, j)
        np.minimum(w, m, out=w)
        av = a[c0:c1]
        np.subtract(av, nr, out=nr)
        np.subtract(av, fr, out=fr)
        np.abs(nr, out=nr)
        np.abs(fr, out=fr)
        total += _weighted_sums(w, nr, fr, m)
    return total


def _weighted_sums(weight: np.ndarray, near: np.ndarray, far: np.ndarray, m: int) -> float:
    """``Σ weight·near + Σ (m − weight)·far``, overwriting all three arrays. Multiply and sum
    rather than np.dot: OpenBLAS runs dot products of 10,000+ values on threads of its own."""
    np.multiply(near, weight, out=near)
    np.subtract(m, weight, out=weight)
    np.multiply(far, weight, out=far)
    return float(near.sum()) + float(far.sum())


# ---------------------------------------------------------------- KS p-values
# scipy.stats.ks_2samp's default (method="auto") takes the exact null distribution when
# neither sample has more than this many values, and the asymptotic one otherwise.
KS_EXACT_MAX_N = 10_000


class KSTest(NamedTuple):
    """A two-sided two-sample KS test as ``scipy.stats.ks_2samp(a, b)`` reports it:
    ``statistic`` and ``pvalue`` (``None`` where scipy's is NaN), and ``method``, the null
    distribution used, ``"exact"`` or ``"asymp"``."""

    statistic: float
    pvalue: float | None
    method: str


def ks_test(statistic: float, n: int, m: int) -> KSTest:
    """``scipy.stats.ks_2samp(a, b)`` with its defaults (two-sided, ``method="auto"``) from
    the statistic of :func:`ks_statistic` and the sample sizes ``n``, ``m`` (both ≥ 1).

    The method is scipy's: the exact distribution when ``max(n, m) ≤ 10,000``, the
    asymptotic one (:func:`ks_pvalue_asymp`) otherwise. The exact route puts D on its lattice,
    ``h = round(D · lcm(n, m))``, and reports ``h / lcm`` as the statistic, as scipy does (it
    can differ from the ECDF difference in the last bit). With equal sizes scipy's exact
    series can round above 1 (for the smallest few ``h``, where the p-value is within 4e-5
    of 1); scipy then falls back to the asymptotic distribution at that statistic, and so
    does this: ``method`` says which was used.

    Agreement with scipy (tested): the statistic bit for bit; the p-value bit for bit for
    equal sizes on the exact route and otherwise to a relative 1e-10 wherever scipy's is
    above 1e-300. Cost:
    equal sizes ~2 ms at 10,000; other exact cases are a dynamic programme over the lattice
    paths, ~30 ms at 10,000 + 9,999 values for D below 0.1 and up to ~0.2 s above (scipy's
    compiled loop: 10 ms to 1 s), less when one sample is much smaller (see
    :func:`_ks_exact_sf`); the asymptotic route 0.1–0.5 ms."""
    if n < 1 or m < 1:
        raise ValueError("both samples need at least one value")
    if max(n, m) <= KS_EXACT_MAX_N:
        g = math.gcd(n, m)
        lcm = (n // g) * m
        h = int(np.rint(float(statistic) * lcm))
        statistic = float(h) / float(lcm)
        if h == 0:
            return KSTest(statistic, 1.0, "exact")
        pvalue = _ks_exact_sf(n, m, h)
        if pvalue is not None:
            return KSTest(statistic, pvalue, "exact")
    return KSTest(float(statistic), ks_pvalue_asymp(statistic, n, m), "asymp")


def ks_pvalue_asymp(statistic: float, n: int, m: int) -> float | None:
    """Two-sided asymptotic p-value of the two-sample KS statistic.

    ``scipy.stats.ks_2samp(..., method="asymp").pvalue``: the Kolmogorov distribution
    ``kstwo.sf(D, round(n·m / (n + m)))``, clipped to [0, 1]. ``None`` where scipy gives NaN:
    with one value on each side the effective sample size rounds to 0. The survival function
    is computed directly, never as ``1 − CDF``, so small p-values keep their digits (see
    :func:`_kolmogorov_sf`); relative agreement with scipy 1e-10 or better above 1e-300."""
    big, small = sorted([float(n), float(m)], reverse=True)
    en = float(np.round(big * small / (big + small)))
    if en < 1:
        return None
    return _kolmogorov_sf(float(statistic), int(en))


# Where scipy's kstwo.sf changes formulas (after Simard and L'Ecuyer, 2011): up to 140 values
# it has routes of its own; above, the upper tail (n·x² ≥ 2.2, or x ≥ 0.5) is twice Smirnov's
# one-sided probability, and 0 from n·x² = 370 when x < 0.5.
_KOLMOGOROV_SMALL_N = 140
_KOLMOGOROV_TAIL = 2.2
_KOLMOGOROV_ZERO = 370.0
# From this size the central range is 1 − Pelz–Good: scipy itself uses Pelz–Good there except
# for n·x^1.5 ≤ 1.4 up to 100,000 values, where its Durbin matrix takes 3–400 ms a call and
# the two CDFs (both below 5e-7) differ by at most 6e-13.
_PELZ_GOOD_MIN_N = 10_000


def _kolmogorov_sf(x: float, n: int) -> float:
    """``scipy.stats.kstwo.sf(x, n)``: P(D_n ≥ x) for Kolmogorov's two-sided statistic of
    ``n`` values, in [0, 1].

    Where scipy's evaluation is slow, it is done here: the upper tail as ``2 · P(D_n⁺ ≥ x)``
    by :func:`_smirnov_sf` (scipy's Smirnov sum takes 0.6 s at n = 500,000; this one 0.3 ms,
    within 1e-13 of it), and the central range from 10,000 values as ``1 − Pelz–Good``.
    Everything else (closed forms at the ends, small n, Pelz–Good's own range) is
    ``kstwo.sf`` itself, which is fast there."""
    if x >= 1.0:
        return 0.0
    if x <= 0.0:
        return 1.0
    t = n * x
    if n > _KOLMOGOROV_SMALL_N and 1.0 < t < n - 1:
        nx2 = t * x
        if x >= 0.5 or nx2 >= _KOLMOGOROV_TAIL:
            if x < 0.5 and nx2 >= _KOLMOGOROV_ZERO:
                return 0.0
            return min(1.0, 2.0 * _smirnov_sf(n, x))
        if n >= _PELZ_GOOD_MIN_N and _pelz_good is not None:
            return float(np.clip(1.0 - _pelz_good(n, x, cdf=True), 0.0, 1.0))
    from scipy.stats import kstwo

    return float(np.clip(kstwo.sf(x, n), 0.0, 1.0))


def _load_pelz_good():
    try:
        from scipy.stats._ksstats import _kolmogn_PelzGood
    except ImportError:  # a scipy without it: kstwo.sf, slower but the same values
        return None
    return _kolmogn_PelzGood


_pelz_good = _load_pelz_good()


# The Smirnov sum takes every (σ/_SMIRNOV_STEPS)-th term once its terms spread over hundreds
# of values (σ, see _smirnov_sf): the trapezoidal rule's error on such a smooth hump falls
# like exp(−2π²·_SMIRNOV_STEPS²), nothing at double precision.
_SMIRNOV_STEPS = 32.0
# ... provided the terms at both ends of the range are below this share of the sum.
_SMIRNOV_ENDS = 1e-18
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _smirnov_sf(n: int, x: float) -> float:
    """P(D_n⁺ ≥ x) for Smirnov's one-sided statistic of ``n`` values and 0 < x < 1
    (``scipy.special.smirnov(n, x)``), from the Birnbaum–Tingey sum

        x · Σ_{j=0}^{⌊n(1−x)⌋} C(n, j) · (x + j/n)^(j−1) · (1 − x − j/n)^(n−j),

    whose terms are all positive, so the sum keeps its relative precision however small it
    is (no ``1 − CDF``). Term ``j`` is a binomial probability at ``p = x + j/n`` divided by
    ``p``, taken in logarithms in Loader's saddle-point form (see :func:`_smirnov_log_terms`)
    so that no large logarithms cancel: ~1e-14 relative at any ``n``.

    The terms form a smooth hump, close to a Gaussian in ``j`` of standard deviation
    σ = √n / (4x) about ``n(½ − x)``. When σ is large (and x < ¼, the hump well inside the
    range), every ``step``-th term times ``step`` gives the sum (the trapezoidal rule on a
    smooth, vanishing-at-the-ends summand), with ``step = σ/32``: about 2,000 terms whatever
    ``n``. The ends are checked: unless both are below 1e-18 of the sum, every term is
    summed."""
    head = math.exp(n * math.log1p(-x))  # the j = 0 term, x · (1 − x)^n / x
    last = math.floor(n * (1.0 - x))
    if last < 1:
        return head
    sigma = math.sqrt(n) / (4.0 * x)
    step = max(1, int(sigma / _SMIRNOV_STEPS)) if x < 0.25 else 1
    while True:
        log_terms = _smirnov_log_terms(n, x, np.arange(1.0, last + 1.0, step))
        if not log_terms.size:
            return head
        top = float(log_terms.max())
        terms = np.exp(log_terms - top)
        total = float(terms.sum())
        if step == 1 or max(terms[0], terms[-1]) < _SMIRNOV_ENDS * total:
            break
        step = 1
    # one exp for scale and sum: exp(top) alone can underflow where the product does not
    return head + math.exp(top + math.log(x * step * total))


def _smirnov_log_terms(n: int, x: float, j: np.ndarray) -> np.ndarray:
    """``log[C(n, j) p^j (1 − p)^(n−j) / p]`` at ``p = x + j/n`` for the ``j`` (floats, ≥ 1)
    where ``1 − p > 0``; terms with ``1 − p ≤ 0`` are zero and left out.

    With ``k = n − j`` and ``u = n·x``, Loader's form of the binomial probability is
    ``√(n / (2π j k)) · exp(δ(n) − δ(j) − δ(k) + j·λ(u/j) + k·λ(−u/k))`` with Stirling's
    error δ and λ(v) = log(1 + v) − v: every piece is small or computed without
    cancellation, unlike ``log C(n, j)`` (~n·log n) minus its neighbours."""
    nx = n * x
    k = n - j
    keep = k - nx > 0
    if not keep.all():
        j, k = j[keep], k[keep]
    return (
        _stirling_error(np.array([float(n)]))[0]
        - _stirling_error(j)
        - _stirling_error(k)
        + j * _log1p_minus(nx / j)
        + k * _log1p_minus(-nx / k)
        + 0.5 * np.log(n / (j * k))
        - _LOG_SQRT_2PI
        - np.log(x + j / n)
    )


def _stirling_error(z: np.ndarray) -> np.ndarray:
    """δ(z) = log z! − [(z + ½)·log z − z + ½·log 2π] for z ≥ 1: the asymptotic series
    (error < 3e-16) from 15, ``gammaln`` below."""
    from scipy.special import gammaln

    out = np.empty_like(z)
    big = z >= 15.0
    r = 1.0 / z[big]
    r2 = r * r
    out[big] = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 / 1188))))
    s = z[~big]
    out[~big] = gammaln(s + 1.0) - (s + 0.5) * np.log(s) + s - _LOG_SQRT_2PI
    return out


def _log1p_minus(v: np.ndarray) -> np.ndarray:
    """λ(v) = log(1 + v) − v for v > −1, to full relative precision. For |v| < ¼, where the
    difference cancels, the series in w = v / (2 + v): λ = −v·w + 2·(w³/3 + w⁵/5 + …)
    (log(1 + v) = 2·atanh(w)), 12 terms for 1e-19."""
    out = np.log1p(v) - v
    near = np.abs(v) < 0.25
    if near.any():
        vn = v[near]
        w = vn / (2.0 + vn)
        w2 = w * w
        acc = np.zeros_like(w)
        for k in range(25, 1, -2):  # 1/25, …, 1/3: Horner in w²
            acc = (acc + 1.0 / k) * w2
        out[near] = 2.0 * w * acc - vn * w
    return out


# The exact two-sample distribution: the sample of n values and the one of m values merge
# into one of the C(n + m, n) equally likely lattice paths from (0, 0) to (n, m); D ≥ h/lcm
# when the path touches a point with |x·m − y·n| ≥ h·gcd (the ECDFs apart by at least D).
# Columns (along the smaller sample, one scan each, ~9 µs) beat half the anti-diagonals (one
# vector step each, ~3 µs) when it is this much smaller.
_KS_COLUMNS_RATIO = 8
# A column whose scan factors (see _ks_exact_sf_columns) fall below this gives way to the
# anti-diagonals, which have no such limit.
_KS_COLUMNS_TINY = 1e-280
# The anti-diagonal recursion scales its values up by k each step; past this they are
# rescaled to 1.
_KS_DIAGONALS_RESCALE = 1e250


def _ks_exact_sf(n: int, m: int, h: int) -> float | None:
    """P(D ≥ h / lcm(n, m)) under the null hypothesis for samples of ``n`` and ``m`` values,
    ``1 ≤ h ≤ lcm``; ``None`` where scipy's exact route gives up (equal sizes whose series
    rounds above 1).

    Equal sizes: the reflection series (:func:`_ks_exact_sf_equal`, O(n), ~2 ms at 10,000).
    Otherwise the probability that a random lattice path leaves the band, by dynamic
    programming over the band (Hodges 1958; the complement carried directly, as Viehmann 2021
    does, so tiny p-values stay exact to ~1e-14): along the smaller sample's columns when it
    is an eighth of the larger or less (one scan per column), else along the first half of
    the anti-diagonals (one vector step per diagonal: ~30 ms at 10,000 + 9,999 for D up to
    0.1, 0.1–0.2 s for D near 1; scipy's own compiled loop takes 10 ms to 1 s there)."""
    if n == m:
        p = _ks_exact_sf_equal(n, h)
        return p if 0.0 <= p <= 1.0 else None
    a, b = max(n, m), min(n, m)
    by_columns = _ks_exact_sf_columns(a, b, h) if b * _KS_COLUMNS_RATIO <= a else None
    band = _ks_exact_sf_diagonals(a, b, h) if by_columns is None else by_columns
    # a p-value of 1 can come out an ulp above it (scipy's, from its own loop, cannot)
    return min(band, 1.0)


def _ks_exact_sf_equal(n: int, h: int) -> float:
    """P(D_{n,n} ≥ h/n) = 2·Σ_{k≥1} (−1)^(k−1) C(2n, n − kh) / C(2n, n), by reflection.

    Written as scipy writes it — nested, 2·A₀(1 − A₁(1 − A₂(…))) with
    A_k = C(2n, n − (k+1)h) / C(2n, n − kh) a product of h ratios, in the same order — so
    that the value is scipy's to the bit, including where it rounds above 1 (which
    :func:`ks_test` then treats as scipy does)."""
    total = 0.0
    for k in range(n // h, -1, -1):
        ratio = 1.0
        low, high = n - k * h, n + k * h + 1
        for j in range(h):
            ratio = (low - j) * ratio / (high + j)
            if ratio == 0.0:  # stays 0: the remaining factors change nothing
                break
        total = ratio * (1.0 - total)
    return 2.0 * total


def _ks_exact_sf_columns(a: int, b: int, h: int) -> float | None:
    """:func:`_ks_exact_sf` for ``a > b``, one column per value of the smaller sample.

    Let Q(x, y) be the probability that a random path to (x, y) has left the band
    ``|x·b′ − y·a′| < h`` (a′, b′ = a, b over their gcd); Q = 1 outside, and inside

        Q(x, y) = x/(x+y) · Q(x−1, y) + y/(x+y) · Q(x, y−1).

    In column y this is the linear recursion Q_x = α_x Q_{x−1} + u_x over the column's part
    of the band, solved as one scan: with P_x = α_lo ⋯ α_x, Q_x = P_x · (Q_{lo−1} +
    Σ_{t ≤ x} u_t / P_t) (a cumulative product and a cumulative sum, all terms positive).
    ``None`` when a column's P falls below 1e-280 (wide bands, large D): the caller then
    uses the anti-diagonals."""
    g = math.gcd(a, b)
    ag, bg = a // g, b // g
    y = np.arange(b + 1, dtype=np.int64)
    lows = np.maximum((y * ag - h) // bg + 1, 0)
    highs = np.minimum(-(-(y * ag + h) // bg) - 1, a)
    if np.any(lows > highs):  # a column the band misses: every path leaves it
        return 1.0
    ramp = np.arange(a + b + 2, dtype=np.float64)
    column = np.ones(a + 2)  # Q(·, y − 1); 1 above the band, as outside
    column[: int(highs[0]) + 1] = 0.0  # (x, 0) inside the band: never left it
    for yy, lo, hi in zip(range(1, b + 1), lows[1:].tolist(), highs[1:].tolist(), strict=True):
        if lo == 0:  # Q(0, y) = Q(0, y − 1): column[0] already holds it
            start, lo = column[0], 1
            if hi < 1:
                continue
        else:  # (lo − 1, y) is below the band
            start = 1.0
        denominators = ramp[lo + yy : hi + yy + 1]  # x + y
        scan = np.multiply.accumulate(ramp[lo : hi + 1] / denominators)
        if scan[-1] < _KS_COLUMNS_TINY:
            return None
        terms = yy / denominators
        terms *= column[lo : hi + 1]
        terms /= scan
        np.add.accumulate(terms, out=terms)  # (half the call cost of np.cumsum)
        terms += start
        np.multiply(terms, scan, out=column[lo : hi + 1])
    return float(column[a])


def _ks_exact_sf_diagonals(a: int, b: int, h: int) -> float:
    """:func:`_ks_exact_sf` for any ``a``, ``b``, one vector step per anti-diagonal, half-way.

    The recursion of :func:`_ks_exact_sf_columns` read along the anti-diagonal x + y = k,
    whose points depend only on the previous diagonal: with V_k = k!·Q (rescaled when it
    grows past 1e250), V_k(x) = x·V_{k−1}(x−1) + (k−x)·V_{k−1}(x) inside the band and
    V_k = k! outside. Sums of positive terms only, so the relative error stays near
    (a + b)·ε.

    Only the first half is walked. The band is symmetric under (x, y) → (a − x, b − y), so
    the part of a path after the middle diagonal, reversed, is a path from the origin to the
    mirror point: a path through the middle point c leaves the band with probability
    Q(c) + (1 − Q(c))·Q(mirror c), and c is distributed hypergeometrically
    (:func:`_middle_weights`). All terms are positive: no ``1 − p`` anywhere."""
    g = math.gcd(a, b)
    ag, bg = a // g, b // g
    span = ag + bg
    steps = a + b
    first, middle = steps // 2, steps - steps // 2  # the mirror diagonal and the middle one
    k = np.arange(middle + 1, dtype=np.int64)
    lows = np.maximum((k * ag - h) // span + 1, np.maximum(k - b, 0))
    highs = np.minimum(-(-(k * ag + h) // span) - 1, np.minimum(k, a))
    if np.any(lows > highs):
        return 1.0
    weights_x = np.arange(a + 1, dtype=np.float64)  # x
    weights_y = np.arange(steps, -1, -1, dtype=np.float64)  # [steps − k + x] = k − x
    # index x + 1 holds point x, so x − 1 = −1 and x = a + 1 have slots (weight 0 or unread)
    previous, current = np.ones(a + 3), np.ones(a + 3)
    product = np.empty(a + 1)
    previous[1] = 0.0  # the origin is inside the band
    scale = 1.0
    mirror = np.empty(0)
    for kk, lo, hi in zip(range(1, middle + 1), lows[1:].tolist(), highs[1:].tolist(), strict=True):
        part = product[: hi - lo + 1]
        np.multiply(weights_x[lo : hi + 1], previous[lo : hi + 1], out=part)
        inside = current[lo + 1 : hi + 2]
        np.multiply(
            weights_y[steps - kk + lo : steps - kk + hi + 1], previous[lo + 1 : hi + 2], out=inside
        )
        inside += part
        scale *= kk
        if scale > _KS_DIAGONALS_RESCALE:
            inside /= scale
            scale = 1.0
        # the points just off the band, the only ones the next diagonal reads besides it
        current[lo] = current[hi + 2] = scale
        if kk == first:
            mirror = _diagonal_exit(current, kk, lo, hi, a, b, scale)
        previous, current = current, previous
    lo, hi = int(lows[middle]), int(highs[middle])
    here = _diagonal_exit(previous, middle, lo, hi, a, b, scale)
    there = mirror[::-1]  # mirror point of x is a − x: the same range, reversed
    weights = _middle_weights(steps, a, middle)
    return float(np.dot(weights, here + (1.0 - here) * there))


def _diagonal_exit(
    values: np.ndarray, k: int, lo: int, hi: int, a: int, b: int, scale: float
) -> np.ndarray:
    """Q along the whole anti-diagonal x + y = k (x from max(0, k − b) to min(k, a)): the
    band's points from the scaled recursion, 1 off the band."""
    start, stop = max(0, k - b), min(k, a)
    q = np.ones(stop - start + 1)
    q[lo - start : hi - start + 1] = values[lo + 1 : hi + 2] / scale
    return q


def _middle_weights(total: int, a: int, k: int) -> np.ndarray:
    """The hypergeometric probabilities C(k, x)·C(total − k, a − x) / C(total, a) that a
    random path to (a, total − a) passes (x, k − x), for x from max(0, k − (total − a)) to
    min(k, a): products of consecutive ratios from the mode outwards (each ≤ 1), then
    normalised by their sum — all positive, no large factorials."""
    lo, hi = max(0, k - (total - a)), min(k, a)
    x = np.arange(lo, hi, dtype=np.float64)
    # P(x + 1) / P(x); numerator and denominator are exact integers in float64 (< 2^53)
    ratio = (k - x) * (a - x) / ((x + 1.0) * (total - k - a + x + 1.0))
    mode = min(max((k + 1) * (a + 1) // (total + 2), lo), hi) - lo
    weights = np.empty(hi - lo + 1)
    weights[mode] = 1.0
    weights[mode + 1 :] = np.multiply.accumulate(ratio[mode:])
    with np.errstate(over="ignore"):  # far below the mode the weights are 0 anyway
        weights[:mode] = (1.0 / np.multiply.accumulate(ratio[:mode][::-1]))[::-1]
    return weights / weights.sum()
