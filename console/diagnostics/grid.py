"""The grid the KS and Wasserstein bounds are computed on, and exact quantiles read back.

Two kinds of :class:`~console.backends.aggregates.Grid`:

* ``values`` — one cell per distinct value (a column with at most ``DISTINCT_LIMIT`` of
  them: counts, flags, codes). Everything computed from it is exact.
* ``linear`` — cells of equal width between the reference's minimum and maximum, for data
  without a long tail (range within ``LINEAR_SPAN`` scales);
* ``asinh`` — cells of equal width on the scale ``asinh((x − center) / scale)``: linear
  near the bulk of the data, logarithmic in the tails, so ~8,000 cells between the
  reference's minimum and maximum hold a small share of a continuous sample each, even
  with long tails. An engine computes a value's cell with arithmetic only (no branches:
  a ``CASE`` tree cost DuckDB 0.5–2.5 µs a row).

From two histograms on one grid (counts and sums per cell) :func:`grid_distance` bounds
KS and Wasserstein (see :mod:`console.diagnostics.pushdown`); :func:`exact_quantile_edges`
finds the cells holding the wanted ranks and reads only those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from console.backends.aggregates import (
    ALL,
    ASINH_CAP,
    Grid,
    Histogram,
    LogAggregates,
    LogWindow,
)
from console.diagnostics.twosample import quantile_edges

#: Cells of an asinh grid between the reference's minimum and maximum.
GRID_CELLS = 8192
#: A range of at most this many scales (IQR/2 or sd) gets equal cells; a longer tail asinh.
LINEAR_SPAN = 24.0
#: A column with at most this many distinct finite values gets a ``values`` grid.
DISTINCT_LIMIT = 4096
#: Refining an order statistic reads at most this many values of one cell.
REFINE_LIMIT = 2_000_000
#: |(x − center) / scale| is capped here before asinh (its square must stay finite).
_CAP = ASINH_CAP


def asinh_t(values: np.ndarray, grid: Grid) -> np.ndarray:
    """``asinh((x − center) / scale)`` with the engines' formula and cap."""
    y = np.clip((values - grid.center) / grid.scale, -_CAP, _CAP)
    return np.sign(y) * np.log(np.abs(y) + np.sqrt(y * y + 1.0))


def cell_keys(values: np.ndarray, grid: Grid) -> np.ndarray:
    """Each value's cell, as an engine computes it (values grids: the value itself)."""
    return grid.keys_of(values)


def cell_left(keys: np.ndarray, grid: Grid) -> np.ndarray:
    """The lower end of each cell (a values grid's cell is its value)."""
    return grid.left(keys)


def cell_right(keys: np.ndarray, grid: Grid) -> np.ndarray:
    """The upper end of each cell."""
    if grid.kind == "values":
        return np.asarray(keys, dtype=np.float64)
    return cell_left(np.asarray(keys) + 1, grid)


def choose_grid(
    minimum: float,
    maximum: float,
    *,
    center: float | None = None,
    scale: float | None = None,
    distinct: int | None = None,
) -> Grid:
    """A ``values`` grid for at most ``DISTINCT_LIMIT`` distinct values, else an asinh grid
    around ``center`` (default: mid-range) with ``scale`` (default: half the range; a
    median and half the interquartile range, or a mean and a standard deviation, are
    better) cut into ``GRID_CELLS`` cells from ``minimum`` to ``maximum``."""
    if distinct is not None and distinct <= DISTINCT_LIMIT:
        return Grid("values")
    if center is None or not np.isfinite(center):
        center = 0.5 * (minimum + maximum)
    if not scale or not np.isfinite(scale) or scale <= 0:
        scale = (maximum - minimum) / 2 or abs(center) or 1.0
    if maximum - minimum <= LINEAR_SPAN * scale:  # no long tail: equal cells are enough
        width = (maximum - minimum) / GRID_CELLS or 1.0
        return Grid("linear", origin=float(minimum - width / 2), width=float(width))
    probe = Grid("asinh", center=float(center), scale=float(scale))
    lo, hi = asinh_t(np.array([minimum, maximum], dtype=np.float64), probe)
    width = (hi - lo) / GRID_CELLS if hi > lo else 1.0
    # a little below the minimum, so it does not sit on a rounding edge
    return Grid(
        "asinh",
        center=float(center),
        scale=float(scale),
        origin=float(lo - width / 2),
        width=float(width),
    )


def histogram_of(values: np.ndarray, grid: Grid) -> Histogram:
    """The engines' histogram of finite ``values``, in numpy."""
    keys = cell_keys(values, grid)
    uniq, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse, minlength=uniq.shape[0]).astype(np.int64)
    sums = np.bincount(inverse, weights=values, minlength=uniq.shape[0])
    return Histogram(uniq, counts, sums)


def to_grid(hist: Histogram, old: Grid, new: Grid) -> Histogram:
    """A ``values`` histogram moved onto an asinh grid (each atom into its cell)."""
    if old.kind != "values" or new.kind == "values":
        raise ValueError("only a values histogram can move to another grid")
    keys = cell_keys(np.asarray(hist.keys, dtype=np.float64), new)
    uniq, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse, weights=hist.counts, minlength=uniq.shape[0])
    sums = np.bincount(inverse, weights=hist.sums, minlength=uniq.shape[0])
    return Histogram(uniq, counts.astype(np.int64), sums)


def empty_histogram(grid: Grid) -> Histogram:
    dtype = np.float64 if grid.kind == "values" else np.int64
    return Histogram(np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int64), np.zeros(0))


# ---- distances ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridDistance:
    """KS and Wasserstein from two grid histograms: midpoints of guaranteed intervals."""

    ks: float
    ks_bound: float
    wasserstein: float
    wasserstein_bound: float


def _aligned(grid: Grid, a: Histogram, b: Histogram) -> tuple[np.ndarray, ...]:
    keys = np.union1d(a.keys, b.keys)
    out = [keys]
    for h in (a, b):
        where = np.searchsorted(keys, h.keys)
        counts = np.zeros(keys.shape[0])
        sums = np.zeros(keys.shape[0])
        counts[where] = h.counts
        sums[where] = h.sums
        out += [counts, sums]
    return tuple(out)


def grid_distance(grid: Grid, a: Histogram, b: Histogram) -> GridDistance:
    """Bounds on KS and Wasserstein-1 between two non-empty samples from their histograms
    on one grid. Between cells both CDFs are flat (exact); on a values grid every cell is
    an atom (exact); inside an asinh cell each CDF lies between its values at the ends."""
    keys, ca, sa, cb, sb = _aligned(grid, a, b)
    left, right = cell_left(keys, grid), cell_right(keys, grid)
    na, nb = ca.sum(), cb.sum()
    a0 = np.concatenate(([0.0], np.cumsum(ca)[:-1])) / na  # F just below each cell
    b0 = np.concatenate(([0.0], np.cumsum(cb)[:-1])) / nb
    a1, b1 = a0 + ca / na, b0 + cb / nb  # F at the cell's upper end
    gaps = np.append(left[1:] - right[:-1], 0.0)  # flat stretches after each cell
    ks_low = float(max(np.abs(a0 - b0).max(), np.abs(a1 - b1).max()))
    w_gaps = float((np.abs(a1 - b1) * gaps).sum())
    if grid.kind == "values":
        return GridDistance(ks_low, 0.0, w_gaps, 0.0)
    ks_high = float(max(ks_low, np.maximum(a1 - b0, b1 - a0).max()))
    width = right - left
    # ∫ F over a cell [l, r): F0·(r − l) + Σ (r − x)/n over its values
    ia = a0 * width + (ca * right - sa) / na
    ib = b0 * width + (cb * right - sb) / nb
    w_exact = np.abs(ia - ib)
    apart = (a1 <= b0) | (b1 <= a0)  # the CDFs do not cross inside: the integral is exact
    w_high = np.where(apart, w_exact, np.maximum(w_exact, width * np.maximum(a1 - b0, b1 - a0)))
    low, high = w_gaps + float(w_exact.sum()), w_gaps + float(w_high.sum())
    return GridDistance(
        (ks_low + ks_high) / 2, (ks_high - ks_low) / 2, (low + high) / 2, (high - low) / 2
    )


def grid_median(grid: Grid, hist: Histogram) -> float | None:
    """The median read from a histogram: exact on a values grid, else its cell's lower end."""
    total = int(hist.counts.sum())
    if total == 0:
        return None
    cum = np.cumsum(hist.counts)
    pos = int(np.searchsorted(cum, (total - 1) // 2, side="right"))
    return float(cell_left(hist.keys[pos : pos + 1], grid)[0])


# ---- exact order statistics -----------------------------------------------------------------
class _OrderStatistics:
    """A :class:`~console.diagnostics.twosample.SortedValues` for :func:`quantile_edges`:
    ``stats[i]`` is the i-th smallest finite value, read from the cells that hold the wanted
    ranks."""

    def __init__(self, n: int, lookup: Mapping[int, float]) -> None:
        self.shape: tuple[int, ...] = (n,)
        self._lookup = lookup

    def __getitem__(self, idx: np.ndarray) -> np.ndarray:
        return np.array([self._lookup[int(i)] for i in np.atleast_1d(idx)], dtype=np.float64)


def _ranks_needed(n: int, probabilities: np.ndarray) -> set[int]:
    virtual = (n - 1) * probabilities
    prev = np.clip(np.floor(virtual), 0, n - 1).astype(np.int64)
    return set(prev.tolist()) | set(np.minimum(prev + 1, n - 1).tolist())


def exact_quantile_edges(
    agg: LogAggregates,
    window: LogWindow,
    column: str,
    grid: Grid,
    hist: Histogram,
    bins: int,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The reference's PSI edges (``quantile_edges``) from exact order statistics, and the
    bin counts on them, without another pass over the window: a values grid holds them;
    on an asinh grid each wanted rank is found in the histogram and read from its cell
    (all cells in one query), and the count below an edge is the count of the cells
    before it plus the values of its own cell below it. Returns ``(interior edges, bin
    counts, exact)``; ``exact`` is false when a cell held more than ``REFINE_LIMIT``
    values and its lower end stood in for them."""
    n = int(hist.counts.sum())
    probs = np.linspace(0.0, 1.0, bins + 1)
    cum = np.cumsum(hist.counts)
    if grid.kind == "values":
        values = np.asarray(hist.keys, dtype=np.float64)
        lookup = {
            r: float(values[int(np.searchsorted(cum, r, side="right"))])
            for r in _ranks_needed(n, probs)
        }
        edges = quantile_edges(_OrderStatistics(n, lookup), bins)
        below = [int(hist.counts[values < e].sum()) for e in edges]
        return edges, np.diff(np.concatenate(([0], below, [n]))), True
    lookup = {}
    fetch: dict[int, list[tuple[int, int]]] = {}  # key -> (rank, offset inside the cell)
    for rank in sorted(_ranks_needed(n, probs)):
        pos = int(np.searchsorted(cum, rank, side="right"))
        start = int(cum[pos - 1]) if pos else 0
        fetch.setdefault(int(hist.keys[pos]), []).append((rank, rank - start))
    size = dict(zip(hist.keys.tolist(), hist.counts.tolist(), strict=True))
    readable = [k for k in fetch if size[k] <= REFINE_LIMIT]
    got = agg.cell_values(window, column, grid, readable) if readable else {}
    exact = True
    for key, wanted in fetch.items():
        if key not in got:  # a huge cell: its lower end (stated as inexact)
            exact = False
            for rank, _ in wanted:
                lookup[rank] = float(cell_left(np.array([key]), grid)[0])
            continue
        vals = np.sort(got[key])
        for rank, offset in wanted:
            lookup[rank] = float(vals[min(offset, vals.shape[0] - 1)])
    edges = quantile_edges(_OrderStatistics(n, lookup), bins)
    own = cell_keys(edges, grid)
    more = sorted(
        {int(k) for k in own if size.get(int(k)) and int(k) not in got}
        - set(k for k in map(int, own) if size.get(k, 0) > REFINE_LIMIT)
    )
    if more:
        got.update(agg.cell_values(window, column, grid, more))
    below = []
    for e, k in zip(edges, own.tolist(), strict=True):
        count = int(hist.counts[hist.keys < k].sum())
        if size.get(k):
            if k in got:
                count += int(np.count_nonzero(got[k] < e))
            else:
                exact = False
        below.append(count)
    return edges, np.diff(np.concatenate(([0], below, [n]))), exact


def histogram_or_none(
    agg: LogAggregates,
    window: LogWindow,
    column: str,
    grid: Grid,
    *,
    by: Sequence[str] = (),
    key: str = ALL,
    edges: Sequence[float] | None = None,
) -> Histogram | None:
    """One group's histogram, with the bin counts on ``edges`` when given (``None``: a
    values grid met too many distinct values)."""
    got = agg.histogram(window, column, grid, by=by, limit=DISTINCT_LIMIT * 4, edges=edges)
    if got is None:
        return None
    empty = empty_histogram(grid)
    if edges is not None:
        empty = Histogram(empty.keys, empty.counts, empty.sums, np.zeros(len(edges) + 1, np.int64))
    return got.get(key, empty)
