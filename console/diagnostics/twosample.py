"""Two-sample statistics computed from sorted arrays.

Every function here takes *sorted, finite* float64 arrays (callers drop nulls and ±inf and sort
once, see :mod:`console.diagnostics.profile`) so that quantile bins, the Kolmogorov–Smirnov
statistic and the Wasserstein distance all come from the same sort. Definitions match scipy:

* ``ks_statistic`` equals ``scipy.stats.ks_2samp(a, b).statistic`` and ``ks_pvalue_asymp``
  equals its ``method="asymp"`` p-value;
* ``wasserstein`` equals ``scipy.stats.wasserstein_distance(a, b)`` (only the order of the
  floating-point sum differs);
* ``quantile_sorted`` equals ``numpy.quantile(a, q)`` (method ``"linear"``);
* ``jensen_shannon`` is ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

PSI_FLOOR = 1e-4

# Chunk length (per sample) for the merge below: two chunks and their work arrays stay in a
# core's L2 cache, which makes the merge several times faster than one pass over 2 × 1M values.
_MERGE_CHUNK = 32_768


def quantile_sorted(sorted_values: np.ndarray, q: np.ndarray) -> np.ndarray:
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


def quantile_edges(sorted_values: np.ndarray, bins: int = 10) -> np.ndarray:
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
    """KS statistic and Wasserstein-1 distance from two sorted, finite, non-empty arrays.

    Both are read off the merged empirical CDFs ``F_a`` and ``F_b``: KS is ``max |F_a − F_b|``
    over the pooled values (scipy evaluates ``searchsorted(..., side="right")`` at every
    pooled value, i.e. the CDFs just after each distinct value), Wasserstein is
    ``∫ |F_a − F_b| dx`` (scipy's ``_cdf_distance`` with p=1). Units: KS is a probability,
    Wasserstein is in the units of the data. The merge runs in cache-sized chunks cut at
    common split values, so no chunk straddles a value."""
    n, m = a.shape[0], b.shape[0]
    splits = np.unique(
        np.concatenate((a[_MERGE_CHUNK::_MERGE_CHUNK], b[_MERGE_CHUNK::_MERGE_CHUNK]))
    )
    ia = np.concatenate(([0], np.searchsorted(a, splits, side="left"), [n]))
    ib = np.concatenate(([0], np.searchsorted(b, splits, side="left"), [m]))
    longest = int(np.max(np.diff(ia) + np.diff(ib)))
    # Work buffers are allocated once per call and reused by every chunk: fresh allocations
    # of this size cost a page fault per 4 KiB, which would dominate the arithmetic.
    merged = np.empty(longest)
    pooled = np.empty(longest)
    count_a = np.empty(longest)
    count_b = np.empty(longest)
    scratch = np.empty(longest)
    flags = np.empty(longest, dtype=bool)
    local = np.empty(longest, dtype=np.int32 if longest < 2**31 else np.int64)
    ranks = np.arange(1, longest + 1, dtype=np.float64)
    ks = 0.0
    total = 0.0
    prev_value = None
    prev_abs = 0.0
    for t in range(ia.shape[0] - 1):
        a0, a1, b0, b1 = int(ia[t]), int(ia[t + 1]), int(ib[t]), int(ib[t + 1])
        length = (a1 - a0) + (b1 - b0)
        if length == 0:
            continue
        ca, cb, gap = count_a[:length], count_b[:length], scratch[:length]
        # Counts are carried as float64 (exact below 2**53): dividing them is what scipy does
        # with its integer indices.
        if b1 == b0:
            values = a[a0:a1]
            np.add(ranks[:length], a0, out=ca)
            cb.fill(b0)
        elif a1 == a0:
            values = b[b0:b1]
            ca.fill(a0)
            np.add(ranks[:length], b0, out=cb)
        else:
            pool = np.concatenate((a[a0:a1], b[b0:b1]), out=pooled[:length])
            order = np.argsort(pool, kind="stable")
            values = np.take(pool, order, out=merged[:length])
            np.less(order, a1 - a0, out=flags[:length])
            np.cumsum(flags[:length], dtype=local.dtype, out=local[:length])
            np.add(local[:length], a0, out=ca)
            np.add(ranks[:length], a0 + b0, out=cb)
            np.subtract(cb, ca, out=cb)
        np.divide(ca, n, out=ca)
        np.divide(cb, m, out=cb)
        np.subtract(ca, cb, out=gap)
        np.abs(gap, out=gap)
        if prev_value is not None:
            total += prev_abs * (float(values[0]) - prev_value)
        if length > 1:
            steps = np.subtract(values[1:], values[:-1], out=cb[: length - 1])
            inner = gap[:-1]
            np.greater(steps, 0, out=flags[: length - 1])
            # KS is read where the CDFs are complete: at the last copy of each distinct
            # value. The chunk's last value is one (the next chunk starts at a larger value).
            ks = max(ks, float(np.max(inner, where=flags[: length - 1], initial=0.0)))
            # multiply + sum rather than np.dot: BLAS may start threads of its own here
            total += float(np.multiply(inner, steps, out=steps).sum())
        prev_abs = float(gap[-1])
        ks = max(ks, prev_abs)
        prev_value = float(values[-1])
    return KSWasserstein(ks, total)


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
