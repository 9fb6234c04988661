"""The fine grid the KS and Wasserstein bounds are computed on, and exact quantiles read
back from it.

A :class:`~console.backends.aggregates.Grid` has coarse cells on the reference's quantiles,
each cut into equal sub-cells; the engine returns the count and sum of the values per cell
(an atom on a coarse edge counted apart). From two such histograms on one grid
:func:`grid_distance` bounds KS and Wasserstein (see :mod:`console.diagnostics.pushdown`);
:func:`exact_quantile_edges` finds the cells holding the wanted ranks and reads only those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from console.backends.aggregates import Grid, Histogram, LogAggregates, LogWindow
from console.diagnostics.twosample import quantile_edges

#: Coarse grid cells (on the reference's quantiles) and sub-cells per coarse cell; the
#: tails get extra coarse edges (GRID_TAILS), where long tails would leave wide cells.
GRID_COARSE = 64
GRID_SUB = 32
GRID_TAILS = (0.001, 0.002, 0.005, 0.01, 0.99, 0.995, 0.998, 0.999)
#: Current-window values beyond the reference's range get this many coarse cells per side.
GRID_EXTEND = 16
#: Refining an order statistic reads at most this many values of one grid cell.
REFINE_LIMIT = 2_000_000


# ---- grids ----------------------------------------------------------------------------------
def grid_probabilities() -> np.ndarray:
    """Where the coarse grid edges go: ``GRID_COARSE`` equal steps plus ``GRID_TAILS``."""
    return np.unique(np.concatenate((np.linspace(0.0, 1.0, GRID_COARSE + 1), GRID_TAILS)))


def grid_from_points(points: Iterable[float | None], sub: int = GRID_SUB) -> Grid:
    """A grid whose coarse edges are the distinct finite ``points`` (sorted); None, NaN
    and ±inf points are skipped (a column without finite values gives the grid ``(0,)``)."""
    pts = np.unique(np.asarray([p for p in points if p is not None], dtype=np.float64))
    pts = pts[np.isfinite(pts)]
    if pts.size == 0:
        pts = np.zeros(1)
    return Grid(tuple(float(p) for p in pts), sub)


def grid_keys(values: np.ndarray, grid: Grid) -> np.ndarray:
    """The engines' grid key of each finite value (see :class:`Grid`), in numpy: the same
    IEEE operations in the same order, so a grid built in Python matches an engine's."""
    edges = np.asarray(grid.edges)
    c = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 1)
    last = c == len(edges) - 1
    nxt = edges[np.minimum(c + 1, len(edges) - 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(last, 0.0, grid.sub / np.where(last, 1.0, nxt - edges[c]))
    j = np.clip(np.floor((values - edges[c]) * scale), 0, grid.sub - 1).astype(np.int64)
    j[last] = 0
    return 2 * (c * grid.sub + j) + (values == edges[c]).astype(np.int64)


def dense(hist: Histogram, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    counts = np.zeros(2 * grid.cells, dtype=np.int64)
    sums = np.zeros(2 * grid.cells)
    if hist.keys.size:
        counts[hist.keys] = hist.counts
        sums[hist.keys] = hist.sums
    return counts, sums


def dense_from_values(values: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    keys = grid_keys(values, grid)
    size = 2 * grid.cells
    return (
        np.bincount(keys, minlength=size).astype(np.int64),
        np.bincount(keys, weights=values, minlength=size),
    )


def regrid(
    counts: np.ndarray, sums: np.ndarray, old: Grid, new: Grid
) -> tuple[np.ndarray, np.ndarray]:
    """Move a histogram onto ``new``, a grid that keeps every coarse cell of ``old`` and
    adds coarse cells below its first edge and above its last (``extend_grid``). The old
    last cell only held values equal to its edge, which stay on that edge."""
    offset = new.edges.index(old.edges[0])
    out_c = np.zeros(2 * new.cells, dtype=np.int64)
    out_s = np.zeros(2 * new.cells)
    shift = 2 * offset * new.sub
    n = 2 * old.cells
    out_c[shift : shift + n] = counts[:n]
    out_s[shift : shift + n] = sums[:n]
    return out_c, out_s


def extend_grid(grid: Grid, low: float | None, high: float | None) -> Grid:
    """``grid`` with ``GRID_EXTEND`` equal coarse cells down to ``low`` and up to ``high``
    when they lie outside it (a current window beyond the reference's range)."""
    edges = list(grid.edges)
    if low is not None and low < edges[0]:
        edges = [float(e) for e in np.linspace(low, edges[0], GRID_EXTEND + 1)[:-1]] + edges
    if high is not None and high > edges[-1]:
        edges = edges + [float(e) for e in np.linspace(edges[-1], high, GRID_EXTEND + 1)[1:]]
    return Grid(tuple(edges), grid.sub)


@dataclass(frozen=True)
class GridDistance:
    """KS and Wasserstein from two grid histograms: midpoints of guaranteed intervals."""

    ks: float
    ks_bound: float
    wasserstein: float
    wasserstein_bound: float


def grid_distance(
    grid: Grid, a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> GridDistance:
    """Bounds on KS and Wasserstein-1 from dense histograms ``(counts, sums)`` of two samples
    on the same grid (see the module docstring). Both samples must be non-empty."""
    edges = np.asarray(grid.edges)
    sub = grid.sub
    cells = grid.cells
    c = np.arange(cells) // sub
    j = np.arange(cells) % sub
    last = c == len(edges) - 1
    width_coarse = np.where(last, 0.0, edges[np.minimum(c + 1, len(edges) - 1)] - edges[c])
    left = np.where(j == 0, edges[c], edges[c] + j * width_coarse / sub)
    right = np.where(last, edges[c], edges[c] + (j + 1) * width_coarse / sub)
    right = np.where((j == sub - 1) & ~last, edges[np.minimum(c + 1, len(edges) - 1)], right)

    def side(counts: np.ndarray, sums: np.ndarray):
        n = counts.sum()
        eq, inner = counts[1::2].astype(np.float64), counts[0::2].astype(np.float64)
        before = np.concatenate(([0.0], np.cumsum(eq + inner)[:-1]))
        f_minus = before / n
        f0 = (before + eq) / n
        f1 = f0 + inner / n
        integral = f0 * (right - left) + (inner * right - sums[0::2]) / n
        return f_minus, f0, f1, integral

    am, a0, a1, ia = side(*a)
    bm, b0, b1, ib = side(*b)
    ks_low = float(max(np.abs(am - bm).max(), np.abs(a0 - b0).max(), np.abs(a1 - b1).max()))
    ks_high = float(max(ks_low, np.maximum(a1 - b0, b1 - a0).max()))
    w_exact = np.abs(ia - ib)
    apart = (a1 <= b0) | (b1 <= a0)
    w_high = np.where(
        apart, w_exact, np.maximum(w_exact, (right - left) * np.maximum(a1 - b0, b1 - a0))
    )
    w_low_sum, w_high_sum = float(w_exact.sum()), float(w_high.sum())
    return GridDistance(
        (ks_low + ks_high) / 2,
        (ks_high - ks_low) / 2,
        (w_low_sum + w_high_sum) / 2,
        (w_high_sum - w_low_sum) / 2,
    )


def grid_median(grid: Grid, counts: np.ndarray) -> float | None:
    """The median read from a grid histogram (a cell's left edge: within one cell)."""
    order = np.empty(counts.shape[0], dtype=np.int64)
    order[0::2] = np.arange(1, counts.shape[0], 2)  # the edge atom comes first in a cell
    order[1::2] = np.arange(0, counts.shape[0], 2)
    cum = np.cumsum(counts[order])
    if cum[-1] == 0:
        return None
    pos = int(np.searchsorted(cum, (cum[-1] - 1) // 2, side="right"))
    key = int(order[pos])
    cell = key // 2
    c, j = divmod(cell, grid.sub)
    e = grid.edges
    if c == len(e) - 1:
        return float(e[c])
    return float(e[c] + j * (e[c + 1] - e[c]) / grid.sub)


# ---- exact order statistics from a grid ----------------------------------------------------
class _OrderStatistics:
    """A :class:`~console.diagnostics.twosample.SortedValues` for :func:`quantile_sorted`:
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


def _value_order(size: int) -> np.ndarray:
    """Grid keys in value order: in each cell the atom on its coarse edge (odd key) comes
    before the values inside it (even key)."""
    order = np.empty(size, dtype=np.int64)
    order[0::2] = np.arange(1, size, 2)
    order[1::2] = np.arange(0, size, 2)
    return order


def exact_quantile_edges(
    agg: LogAggregates,
    window: LogWindow,
    column: str,
    grid: Grid,
    counts: np.ndarray,
    bins: int,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The reference's PSI edges (``quantile_edges``) from exact order statistics, and the
    bin counts on them, without another pass over the window: each wanted rank is found in
    the grid histogram and read from its cell (all cells in one query); the count below an
    edge is the count of the cells before it plus the values of its own cell below it.
    Returns ``(interior edges, bin counts, exact)``; ``exact`` is false when a cell held
    more than ``REFINE_LIMIT`` values and was interpolated instead of read."""
    n = int(counts.sum())
    probs = np.linspace(0.0, 1.0, bins + 1)
    order = _value_order(counts.shape[0])
    position = np.empty_like(order)
    position[order] = np.arange(order.shape[0])
    cum = np.cumsum(counts[order])
    lookup: dict[int, float] = {}
    fetch: dict[int, list[tuple[int, int]]] = {}  # key -> (rank, offset inside the key)
    for rank in sorted(_ranks_needed(n, probs)):
        pos = int(np.searchsorted(cum, rank, side="right"))
        key = int(order[pos])
        start = int(cum[pos - 1]) if pos else 0
        cell, on_edge = divmod(key, 2)
        if on_edge:
            lookup[rank] = float(grid.edges[cell // grid.sub])
        else:
            fetch.setdefault(key, []).append((rank, rank - start))
    readable = [k for k in fetch if int(counts[k]) <= REFINE_LIMIT]
    got = agg.cell_values(window, column, grid, readable) if readable else {}
    exact = True
    for key, wanted in fetch.items():
        if key not in got:  # a huge cell: its left edge (stated as inexact)
            exact = False
            for rank, _ in wanted:
                lookup[rank] = _cell_left(grid, key // 2)
            continue
        vals = np.sort(got[key])
        for rank, offset in wanted:
            lookup[rank] = float(vals[min(offset, vals.shape[0] - 1)])
    edges = quantile_edges(_OrderStatistics(n, lookup), bins)
    # counts below each edge: the cells before the edge's own, plus its values below it
    keys = grid_keys(edges, grid)
    more = [
        int(k)
        for k in keys
        if k % 2 == 0 and counts[k] and int(k) not in got and counts[k] <= REFINE_LIMIT
    ]
    if more:
        got.update(agg.cell_values(window, column, grid, sorted(set(more))))
    below = []
    for e, k in zip(edges, keys, strict=True):
        pos = int(position[int(k)])
        before = int(cum[pos - 1]) if pos else 0
        if k % 2 == 0 and counts[k]:
            if int(k) in got:
                before += int(np.count_nonzero(got[int(k)] < e))
            else:
                exact = False
        below.append(before)
    bounds = np.concatenate(([0], np.asarray(below, dtype=np.int64), [n]))
    return edges, np.diff(bounds), exact


def _cell_left(grid: Grid, cell: int) -> float:
    c, j = divmod(cell, grid.sub)
    e = grid.edges
    return float(e[c] + j * (e[min(c + 1, len(e) - 1)] - e[c]) / grid.sub)
