"""Schema, data-quality and null-rate checks from engine-computed aggregates (the
pushdown side of :mod:`console.diagnostics.schema` and :mod:`console.diagnostics.quality`):
the same results as those functions over frames, from a few summary and category queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from console.backends.aggregates import (
    ALL,
    ColumnSummary,
    ColumnType,
    LogAggregates,
    LogWindow,
)
from console.diagnostics.grid import choose_grid, grid_distance, histogram_or_none
from console.diagnostics.twosample import jensen_shannon, ks_wasserstein


# ---- schema ----------------------------------------------------------------------------------
def present_columns(
    agg: LogAggregates,
    window: LogWindow,
    *,
    skip: Iterable[str] = (),
    absent_share: float | None = None,
) -> tuple[dict[str, ColumnType], dict[str, ColumnSummary]]:
    """The log's columns in ``window`` (minus ``skip``) and their summaries; with
    ``absent_share`` a column null in at least that share of the rows counts as absent
    (downstream of an upstream rename the old column is still in the table, only empty)."""
    skipped = set(skip)
    schema = {c.name: c for c in agg.columns(window) if c.name not in skipped}
    summary = agg.summarize(window, list(schema)).get(ALL, {})
    if absent_share is not None:
        schema = {
            n: c
            for n, c in schema.items()
            if not (summary[n].rows and summary[n].nulls / summary[n].rows >= absent_share)
        }
    return schema, summary


def schema_between(
    ref_agg: LogAggregates,
    ref_window: LogWindow,
    cur_agg: LogAggregates,
    cur_window: LogWindow,
    *,
    min_confidence: float = 0.6,
    skip: Iterable[str] = (),
    absent_share: float | None = None,
) -> Any:
    """:func:`console.diagnostics.schema.schema_diff` from aggregates: columns missing,
    added, retyped, and rename suggestions whose value similarity is 1 − KS (numbers, exact
    up to ``EXACT_LIMIT`` values a side, else within the grid bound) or 1 − Jensen–Shannon
    over the values as text."""
    from console.diagnostics.schema import SchemaDiff, TypeChange, suggest_renames

    ref_types, _ = present_columns(ref_agg, ref_window, skip=skip, absent_share=absent_share)
    cur_types, _ = present_columns(cur_agg, cur_window, skip=skip, absent_share=absent_share)
    ref_cols, cur_cols = list(ref_types), list(cur_types)
    missing = tuple(c for c in ref_cols if c not in set(cur_cols))
    added = tuple(c for c in cur_cols if c not in set(ref_cols))
    changed = tuple(
        TypeChange(
            c, ref_types[c].dtype, cur_types[c].dtype, ref_types[c].family != cur_types[c].family
        )
        for c in ref_cols
        if c in set(cur_cols) and ref_types[c].dtype != cur_types[c].dtype
    )
    renames = suggest_renames(
        missing,
        added,
        lambda src, dst: _similarity(
            ref_agg, ref_window, ref_types[src], cur_agg, cur_window, cur_types[dst]
        ),
        min_confidence,
    )
    return SchemaDiff(missing, added, changed, renames)


def _similarity(
    a_agg: LogAggregates,
    a_win: LogWindow,
    a: ColumnType,
    b_agg: LogAggregates,
    b_win: LogWindow,
    b: ColumnType,
) -> tuple[float | None, str]:
    if a.numeric != b.numeric:
        return None, "one is numeric, the other is not"
    if a.numeric:
        ks = two_sample_ks(a_agg, a_win, a.name, b_agg, b_win, b.name)
        if ks is None:
            return None, "no non-null values to compare"
        return 1.0 - ks, f"value distributions {'match' if ks < 0.05 else 'differ'} (KS {ks:.3f})"
    ca = a_agg.categories(a_win, a.name).get(ALL, ([], [], 0))
    cb = b_agg.categories(b_win, b.name).get(ALL, ([], [], 0))
    if not ca[0] or not cb[0]:
        return None, "no non-null values to compare"
    table: dict[str, list[float]] = {}
    for side, (values, counts, _) in enumerate((ca, cb)):
        for v, n in zip(values, counts, strict=True):
            table.setdefault(str(v), [0.0, 0.0])[side] += n
    arr = np.asarray(list(table.values()), dtype=np.float64)
    js = jensen_shannon(arr[:, 0], arr[:, 1])
    return 1.0 - js, f"value frequencies {'match' if js < 0.1 else 'differ'} (JS {js:.3f})"


def two_sample_ks(
    a_agg: LogAggregates,
    a_win: LogWindow,
    a_col: str,
    b_agg: LogAggregates,
    b_win: LogWindow,
    b_col: str,
) -> float | None:
    """KS between two numeric columns of two windows: exact when both hold at most
    ``EXACT_LIMIT`` finite values, else the grid's midpoint (within its bound)."""
    va = a_agg.values(a_win, a_col)
    vb = b_agg.values(b_win, b_col) if va is not None else None
    if va is not None and vb is not None:
        x, y = np.sort(va.get(ALL, np.empty(0))), np.sort(vb.get(ALL, np.empty(0)))
        if x.size == 0 or y.size == 0:
            return None
        return ks_wasserstein(x, y).ks_statistic
    sa = a_agg.summarize(a_win, [a_col])[ALL][a_col]
    sb = b_agg.summarize(b_win, [b_col])[ALL][b_col]
    if sa.valid == 0 or sb.valid == 0:
        return None
    assert sa.minimum is not None and sa.maximum is not None
    assert sb.minimum is not None and sb.maximum is not None
    grid = choose_grid(
        min(sa.minimum, sb.minimum),
        max(sa.maximum, sb.maximum),
        center=sa.mean,
        scale=float(np.sqrt(sa.variance)) if sa.variance else None,
    )
    ha = histogram_or_none(a_agg, a_win, a_col, grid)
    hb = histogram_or_none(b_agg, b_win, b_col, grid)
    assert ha is not None and hb is not None
    return grid_distance(grid, ha, hb).ks


# ---- data quality -----------------------------------------------------------------------
def quality_between(
    agg: LogAggregates,
    ref_window: LogWindow,
    cur_window: LogWindow,
    *,
    columns: Sequence[str],
    null_rate_warning: float = 0.02,
    null_rate_critical: float = 0.05,
    out_of_range_warning: float = 0.0,
    out_of_range_critical: float = 0.01,
) -> Any:
    """:func:`console.diagnostics.quality.quality_check` of the current window, each numeric
    column's range taken from the reference window's observed [min, max]: two summary
    passes, exact counts. ±inf values count as out of range."""
    from console.diagnostics.quality import judge_column, quality_report

    schema = {c.name: c for c in agg.columns(cur_window)}
    ref_schema = {c.name: c for c in agg.columns(ref_window)}
    ref = agg.summarize(ref_window, [c for c in columns if c in ref_schema]).get(ALL, {})
    edges: dict[str, list[float]] = {}
    highs: dict[str, float] = {}  # the reference's maximum (the last edge is just above it)
    for name in columns:
        r = ref.get(name)
        if (
            r is not None
            and schema[name].numeric
            and r.minimum is not None
            and r.maximum is not None
        ):
            edges[name] = [r.minimum, float(np.nextafter(r.maximum, np.inf))]
            highs[name] = float(r.maximum)
    cur = agg.summarize(cur_window, list(columns), edges=edges).get(ALL, {})
    results = []
    for name in columns:
        s = cur[name]
        bounds = None
        below = above = 0
        if name in edges and s.below:
            bounds = (edges[name][0], highs[name])
            below = s.below[0] + s.negative_infinite
            above = s.valid - s.below[1] + (s.infinite - s.negative_infinite)
        results.append(
            judge_column(
                name,
                schema[name].dtype,
                s.rows,
                s.nulls,
                null_warning=null_rate_warning,
                null_critical=null_rate_critical,
                bounds=bounds,
                below=below,
                above=above,
                out_of_range_warning=out_of_range_warning,
                out_of_range_critical=out_of_range_critical,
            )
        )
    rows_all = results[0].rows if results else row_count(agg, cur_window)
    return quality_report(results, rows_all, lambda _name: null_rate_critical)


def row_count(agg: LogAggregates, window: LogWindow) -> int:
    """Rows in ``window``."""
    return agg.rows(window).get(ALL, 0)


# ---- null rates ------------------------------------------------------------------------------
def null_rates(
    agg: LogAggregates, window: LogWindow, columns: Sequence[str]
) -> dict[str, float | None]:
    """Null rate (missing or NaN, as a fraction of rows) of each column in ``window``;
    ``None`` for a column the log does not have or a window without rows."""
    names = {c.name for c in agg.columns(window)}
    present = [c for c in columns if c in names]
    got = agg.summarize(window, present).get(ALL, {}) if present else {}
    out: dict[str, float | None] = {}
    for c in columns:
        s = got.get(c)
        out[c] = s.nulls / s.rows if s is not None and s.rows else None
    return out


__all__ = [
    "null_rates",
    "present_columns",
    "quality_between",
    "row_count",
    "schema_between",
    "two_sample_ks",
]
