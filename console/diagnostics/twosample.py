"""Two-sample statistics computed from sorted arrays.

Every function here takes *sorted, finite* float64 arrays (callers drop nulls and ±inf and sort
once, see :mod:`console.diagnostics.profile`) so that quantile bins, the Kolmogorov–Smirnov
statistic and the Wasserstein distance all come from the same sort; none of them needs the two
samples merged (a merge cost twice the sorts at 1M rows). Definitions match scipy:

* ``ks_statistic`` equals ``scipy.stats.ks_2samp(a, b, method="asymp").statistic`` bit for
  bit and ``ks_pvalue_asymp`` its p-value;
* ``wasserstein`` equals ``scipy.stats.wasserstein_distance(a, b)`` (only the order of the
  floating-point sum differs);
* ``quantile_sorted`` equals ``numpy.quantile(a, q)`` (method ``"linear"``);
* ``jensen_shannon`` is ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
"""

from __future__ import annotations

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


def ks_pvalue_asymp(statistic: float, n: int, m: int) -> float | None:
    """Two-sided asymptotic p-value of the two-sample KS statistic.

    Same as ``scipy.stats.ks_2samp(..., method="asymp").pvalue``: the Kolmogorov distribution
    ``kstwo.sf(D, round(n·m / (n + m)))``, clipped to [0, 1]. ``None`` where scipy gives NaN:
    with one value on each side the effective sample size rounds to 0.

    From an effective size of 1,000, scipy's exact routes (the Durbin matrix for small D,
    Smirnov's sum for larger D) take 0.1–0.3 s per call; there the Pelz–Good expansion,
    which scipy itself uses for the CDF above 100,000, agrees with them to better than 1e-8
    (checked in the tests) and costs 0.1 ms. At n·D² ≥ 370 the p-value is 0 (< 1e-160)."""
    from scipy.stats import kstwo

    big, small = sorted([float(n), float(m)], reverse=True)
    en = np.round(big * small / (big + small))
    if en < 1:
        return None
    t, nx2 = en * statistic, en * statistic * statistic
    if _pelz_good is not None and en >= 1_000 and t > 1:
        if nx2 >= 370.0:
            return 0.0
        cdf = _pelz_good(int(en), float(statistic), cdf=True)
        return float(np.clip(1.0 - cdf, 0.0, 1.0))
    return float(np.clip(kstwo.sf(statistic, en), 0.0, 1.0))


def _load_pelz_good():
    try:
        from scipy.stats._ksstats import _kolmogn_PelzGood
    except ImportError:  # a scipy without it: fall back to kstwo.sf everywhere
        return None
    return _kolmogn_PelzGood


_pelz_good = _load_pelz_good()
