"""Drift, schema and null-rate statistics from engine-computed aggregates.

The engine (:class:`console.backends.aggregates.LogAggregates`) counts; this module turns
the counts into the same statistics the in-memory path computes from frames:

* null and ±inf rates, category frequencies, PSI, Jensen–Shannon and chi-squared: from
  counts on the reference's bin edges and categories — **exact** at any size;
* PSI bin edges (the reference's deciles, numpy's ``linear`` quantiles): from exact order
  statistics — read from the values when the window holds at most ``EXACT_LIMIT`` finite
  values, else refined from the grid histogram (the few cells that hold the wanted ranks
  are read back and sorted) — **exact** at any size;
* KS and Wasserstein: **exact** (bit for bit the in-memory numbers) when both sides hold at
  most ``EXACT_LIMIT`` finite values and the values are at hand; **exact** at any size for
  a column with at most 4,096 distinct values (a ``values`` grid: one cell per value);
  otherwise from counts and sums on the reference's grid (:mod:`console.diagnostics.grid`:
  8,192 equal cells across its range, on a linear scale or, for a long tail, on an asinh
  scale). Then the empirical CDFs are known exactly at every cell edge, and inside a cell
  each lies between its values at the two ends, which bounds the answer: the statistic
  reported is the middle of ``[low, high]`` and ``evidence.ks_error_bound`` /
  ``evidence.wasserstein_error_bound`` is half that interval — a guaranteed bound, not an
  estimate: ``|KS − KS_exact| ≤ ks_error_bound``, at most the largest share of either
  sample inside one cell (≈ 1e-4–1e-3 on continuous data), and ``|W − W_exact| ≤
  wasserstein_error_bound``, zero on every cell where the two CDFs do not cross (there the
  integral is exact from the cell's count and sum).

A fitted :class:`LogProfile` is what ``rollbook profile build`` stores: JSON with the edges,
bin counts, grid histogram, categories, null counts and moments of each column (and per
segment when asked); comparing a window against it never reads the reference again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from console.backends.aggregates import (
    ALL,
    EXACT_LIMIT,
    ColumnSummary,
    ColumnType,
    Grid,
    Histogram,
    LogAggregates,
    LogWindow,
)
from console.diagnostics.drift import (
    DriftThresholds,
    FeatureDrift,
    compare_categorical,
    compare_numeric,
    finish_feature,
)
from console.diagnostics.errors import ColumnNotFound, EmptyInput
from console.diagnostics.grid import (
    DISTINCT_LIMIT,
    GridDistance,
    choose_grid,
    exact_quantile_edges,
    grid_distance,
    grid_median,
    histogram_of,
    histogram_or_none,
    to_grid,
)
from console.diagnostics.logprofile import (
    OTHER,
    CategoryProfile,
    ColumnProfile,
    LogProfile,
    NumericProfile,
)
from console.diagnostics.profile import CategoricalColumn, NumericColumn, NumericReference
from console.diagnostics.report import DriftReport, rank_features
from console.diagnostics.results import STATUS_OF_SEVERITY, worst_status
from console.diagnostics.twosample import (
    PSI_FLOOR,
    bin_counts,
    jensen_shannon,
    ks_pvalue_asymp,
    psi,
    quantile_edges,
    quantile_sorted,
)


def _numeric_edges(
    profile: LogProfile, names: Iterable[str], schema: Mapping[str, ColumnType]
) -> dict[str, list[float]]:
    """The PSI edges of the ``names`` that are numeric in both the profile and the window's
    schema (the edges the engine counts the current window on)."""
    edges: dict[str, list[float]] = {}
    for n in names:
        col = profile.columns[n]
        if isinstance(col, NumericProfile) and schema[n].numeric:
            edges[n] = col.interior_edges.tolist()
    return edges


# ---- fitting ---------------------------------------------------------------------------------
def _numeric_from_values(
    s: ColumnSummary, dtype: str, values: np.ndarray, bins: int
) -> NumericProfile:
    values = np.sort(values)
    if values.size == 0:
        return _empty_numeric(s, dtype)
    edges = quantile_edges(values, bins)
    distinct = int(np.count_nonzero(np.diff(values))) + 1
    q1, q2, q3 = quantile_sorted(values, np.array([0.25, 0.5, 0.75])).tolist()
    grid = choose_grid(
        float(values[0]), float(values[-1]), center=q2, scale=(q3 - q1) / 2, distinct=distinct
    )
    return _numeric_profile(
        s,
        dtype,
        edges,
        bin_counts(values, edges),
        grid,
        histogram_of(values, grid),
        median=float(values[(values.shape[0] - 1) // 2]),
        sorted_values=values,
    )


def _numeric_profile(
    s: ColumnSummary,
    dtype: str,
    edges: np.ndarray,
    counts: np.ndarray,
    grid: Grid | None,
    hist: Histogram | None,
    *,
    median: float | None = None,
    sorted_values: np.ndarray | None = None,
) -> NumericProfile:
    """A numeric profile of the summary ``s``'s counts and moments, with its bins."""
    return NumericProfile(
        s.name,
        dtype,
        s.rows,
        s.nulls,
        s.infinite,
        s.valid,
        s.mean,
        s.variance,
        s.minimum,
        s.maximum,
        edges,
        counts,
        grid,
        hist,
        median=median,
        sorted_values=sorted_values,
    )


def _empty_numeric(s: ColumnSummary, dtype: str) -> NumericProfile:
    return NumericProfile(
        s.name,
        dtype,
        s.rows,
        s.nulls,
        s.infinite,
        0,
        None,
        None,
        None,
        None,
        np.empty(0),
        np.zeros(1, dtype=np.int64),
        None,
        None,
    )


def _numeric_by_grid(
    agg: LogAggregates, window: LogWindow, s: ColumnSummary, dtype: str, bins: int
) -> NumericProfile:
    """A numeric reference too large to read: its histogram on an asinh grid around its
    mean (scaled by its standard deviation) — or, when that shows few distinct values, on
    a values grid — then exact PSI edges and their bin counts by refinement: two passes
    over the column."""
    assert s.minimum is not None and s.maximum is not None
    std = float(np.sqrt(s.variance)) if s.variance else None
    grid = choose_grid(s.minimum, s.maximum, center=s.mean, scale=std)
    hist = histogram_or_none(agg, window, s.name, grid)
    assert hist is not None
    if hist.keys.shape[0] <= DISTINCT_LIMIT:  # few cells used: maybe few values
        values_grid = choose_grid(s.minimum, s.maximum, distinct=0)
        exact = histogram_or_none(agg, window, s.name, values_grid)
        if exact is not None and exact.keys.shape[0] <= DISTINCT_LIMIT:
            grid, hist = values_grid, exact
    edges, counts, _ = exact_quantile_edges(agg, window, s.name, grid, hist, bins)
    return _numeric_profile(
        s,
        dtype,
        edges,
        counts,
        grid,
        hist,
        median=grid_median(grid, hist),
    )


def _category_profile(
    name: str, col: ColumnType, rows: int, nulls: int, cats: tuple[list[Any], list[int], int]
) -> CategoryProfile:
    values, counts, other = cats
    keys = list(values) + ([OTHER] if other else [])
    ns = list(counts) + ([other] if other else [])
    return CategoryProfile(
        CategoricalColumn(
            name=name,
            dtype=col.dtype,
            rows=rows,
            nulls=nulls,
            categories=np.asarray(keys, dtype=object),
            counts=np.asarray(ns, dtype=np.int64),
            numeric_source=col.numeric,
        ),
        col.family,
    )


def fit_log_profile(
    agg: LogAggregates,
    window: LogWindow,
    columns: Sequence[str],
    *,
    bins: int = 10,
    categorical: Iterable[str] = (),
    segment_by: Sequence[str] = (),
    meta: Mapping[str, Any] | None = None,
    keep_values: bool = True,
) -> LogProfile:
    """Fit a reference profile of ``columns`` from ``window`` of a log.

    Columns named in ``categorical`` (and every non-numeric column) are profiled as
    categories. With ``segment_by`` each segment gets its own profile too. With
    ``keep_values`` the values of windows of at most ``EXACT_LIMIT`` finite values are kept
    in memory for exact KS/Wasserstein. Raises :class:`EmptyInput` for a window without
    rows and :class:`ColumnNotFound` for an unknown column."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    schema = {c.name: c for c in agg.columns(window)}
    for name in [*columns, *segment_by]:
        if name not in schema:
            raise ColumnNotFound(name, "the reference", list(schema))
    forced = set(categorical)
    groups = [ALL, *([] if not segment_by else ["__by__"])]
    out_by: dict[str, dict[str, ColumnProfile]] = {}
    rows_by: dict[str, int] = {}
    for mode in groups:
        by = () if mode == ALL else tuple(segment_by)
        summary = agg.summarize(window, columns, by=by)
        if mode == ALL:
            total = _rows(summary.get(ALL)) if columns else _count(agg, window)
            if total == 0:
                raise EmptyInput(
                    f"the reference window has no rows ({window.describe()})",
                    hint="pick a window in which the model was logging",
                )
        for key, per in summary.items():
            # without a column to summarise, the window's own count (not 0 rows)
            rows_by[key] = next(iter(per.values())).rows if per else 0
            out_by.setdefault(key, {})
        if mode == ALL and not columns:
            rows_by[ALL] = total
        for name in columns:
            col = schema[name]
            if col.numeric and name not in forced:
                # a window small enough to read is profiled from its values (exact, and
                # two queries instead of a grid's five); keep_values decides whether the
                # values stay in memory for exact KS/Wasserstein afterwards
                largest = max((per[name].valid for per in summary.values()), default=0)
                got = agg.values(window, name, by=by) if largest <= EXACT_LIMIT else None
                for key, per in summary.items():
                    s = per[name]
                    if got is not None:
                        fitted = _numeric_from_values(s, col.dtype, got.get(key, np.empty(0)), bins)
                        if not keep_values:
                            fitted = replace(fitted, sorted_values=None)
                        out_by[key][name] = fitted
                    elif s.valid == 0:
                        out_by[key][name] = _empty_numeric(s, col.dtype)
                    elif key == ALL:
                        out_by[key][name] = _numeric_by_grid(agg, window, s, col.dtype, bins)
                    else:
                        seg_window = _segment_window(window, segment_by, key)
                        out_by[key][name] = _numeric_by_grid(agg, seg_window, s, col.dtype, bins)
            else:
                cats = agg.categories(window, name, by=by)
                for key, per in summary.items():
                    s = per[name]
                    out_by[key][name] = _category_profile(
                        name, col, s.rows, s.nulls, cats.get(key, ([], [], 0))
                    )
    main = out_by.pop(ALL, {})
    segments = {
        key: LogProfile(cols, rows_by.get(key, 0), bins, schema={}, meta={})
        for key, cols in out_by.items()
    }
    return LogProfile(
        main,
        rows_by.get(ALL, 0),
        bins,
        schema=schema,
        segment_by=tuple(segment_by),
        segments=segments,
        meta=dict(meta or {}),
    )


def _segment_window(window: LogWindow, by: Sequence[str], key: str) -> LogWindow:
    parts = key.split("/") if len(by) > 1 else [key]
    where = dict(window.where)
    where.update(dict(zip(by, parts, strict=False)))
    return LogWindow(window.start, window.end, window.version, where)


# ---- comparing -------------------------------------------------------------------------------
def _type_changed(ref: ColumnProfile, cur_type: ColumnType, cur: ColumnSummary) -> FeatureDrift:
    ref_rows, ref_nulls, _, ref_valid = ref.counts_tuple()
    return FeatureDrift(
        name=ref.name,
        kind="numeric" if ref.kind == "numeric" else "categorical",
        psi=None,
        ks_statistic=None,
        ks_pvalue=None,
        wasserstein=None,
        jensen_shannon=None,
        chi2_pvalue=None,
        null_rate_reference=ref_nulls / ref_rows if ref_rows else None,
        null_rate_current=cur.nulls / cur.rows if cur.rows else None,
        severity="significant",
        score=float("inf"),
        psi_severity="stable",
        rows_reference=ref_valid,
        rows_current=cur.rows - cur.nulls,
        reasons=(
            f"type changed: reference {_dtype(ref)} ({ref.kind}), current {cur_type.dtype}; "
            "distribution statistics not computed",
        ),
    )


def _dtype(ref: ColumnProfile) -> str:
    return ref.dtype if isinstance(ref, NumericProfile) else ref.column.dtype


def _compare_numeric(
    ref: NumericProfile,
    cur: ColumnSummary,
    cur_values: np.ndarray | None,
    cur_hist: Histogram | None,
    grid: Grid | None,
    thr: DriftThresholds,
) -> FeatureDrift:
    if ref.sorted_values is not None and cur_values is not None:
        # both sides in memory: exactly the in-memory path's numbers
        values = np.sort(cur_values)
        ref_col = NumericColumn(
            ref.name, ref.dtype, ref.rows, ref.nulls, ref.infinite, ref.sorted_values
        )
        cur_col = NumericColumn(ref.name, ref.dtype, cur.rows, cur.nulls, cur.infinite, values)
        return compare_numeric(
            NumericReference(ref_col, ref.interior_edges, ref.counts), cur_col, thr
        )
    reasons: list[str] = []
    stats: dict[str, Any] = {}
    evidence: dict[str, Any] = {}
    if ref.valid == 0 or cur.valid == 0:
        which = (
            "either sample"
            if ref.valid == cur.valid == 0
            else ("the reference" if ref.valid == 0 else "the current window")
        )
        reasons.append(f"no non-null values in {which}: distribution statistics not computed")
    else:
        assert cur_hist is not None and cur_hist.bin_counts is not None
        cur_counts = cur_hist.bin_counts
        assert grid is not None and cur_hist is not None
        assert ref.hist is not None and ref.grid is not None
        ref_hist = ref.hist if grid == ref.grid else to_grid(ref.hist, ref.grid, grid)
        dist = grid_distance(grid, ref_hist, cur_hist)
        pvalue = ks_pvalue_asymp(dist.ks, ref.valid, cur.valid)
        stats = {
            "psi": psi(ref.counts, cur_counts, thr.psi_floor),
            "ks_statistic": dist.ks,
            "ks_pvalue": pvalue,
            "wasserstein": dist.wasserstein,
            "jensen_shannon": jensen_shannon(ref.counts, cur_counts),
        }
        evidence = {
            "bin_edges": [float(e) for e in ref.interior_edges],
            "reference_proportions": (ref.counts / ref.valid).tolist(),
            "current_proportions": (cur_counts / cur.valid).tolist(),
            "reference_mean": ref.mean,
            "current_mean": cur.mean,
            "reference_median": ref.median,
            "current_median": grid_median(grid, cur_hist),
            "ks_error_bound": dist.ks_bound,
            "wasserstein_error_bound": dist.wasserstein_bound,
            "approximate": ["ks_statistic", "ks_pvalue", "wasserstein", "current_median"],
        }
    return finish_feature(
        ref.name,
        "numeric",
        ref.counts_tuple(),
        (cur.rows, cur.nulls, cur.infinite, cur.valid),
        thr,
        stats,
        reasons,
        evidence,
    )


def _compare_categorical(
    ref: CategoryProfile,
    cur: ColumnSummary,
    cur_cats: tuple[list[Any], list[int], int],
    cur_type: ColumnType,
    thr: DriftThresholds,
) -> FeatureDrift:
    cur_profile = _category_profile(ref.name, cur_type, cur.rows, cur.nulls, cur_cats)
    return compare_categorical(ref.column, cur_profile.column, thr)


def compare_window(
    profile: LogProfile,
    agg: LogAggregates,
    window: LogWindow,
    *,
    columns: Sequence[str] | None = None,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """Drift of ``window`` of ``agg`` against a fitted reference ``profile``.

    ``columns`` defaults to the profile's columns; a profiled column not in the window's
    log is listed as missing (a column that turned null is a null-rate finding). Raises
    :class:`EmptyInput` for an empty current window."""
    thr = thresholds or DriftThresholds()
    schema = {c.name: c for c in agg.columns(window)}
    names = list(columns) if columns is not None else list(profile.columns)
    for name in names:
        if name not in profile.columns:
            raise ColumnNotFound(name, "the reference", list(profile.columns))
    missing = [n for n in names if n not in schema]
    present = [n for n in names if n in schema]
    edges = _numeric_edges(profile, present, schema)
    # PSI counts come with the histograms (grid path) or from the values (exact path)
    summary = agg.summarize(window, present).get(ALL, {})
    rows = next(iter(summary.values())).rows if summary else _count(agg, window)
    if rows == 0:
        raise EmptyInput(
            f"the current window has no rows ({window.describe()})",
            hint="check the file or the window",
        )
    features: list[FeatureDrift] = []
    for name in present:
        ref = profile.columns[name]
        cur = summary[name]
        cur_type = schema[name]
        if isinstance(ref, NumericProfile):
            if not cur_type.numeric:
                if cur.rows - cur.nulls > 0:
                    features.append(_type_changed(ref, cur_type, cur))
                    continue
                cur = ColumnSummary(name, cur.rows, cur.nulls)
            features.append(_numeric_against(ref, cur, agg, window, edges.get(name), thr))
        else:
            if ref.column.numeric_source != cur_type.numeric and cur.rows - cur.nulls > 0:
                features.append(_type_changed(ref, cur_type, cur))
                continue
            cats = agg.categories(window, name).get(ALL, ([], [], 0))
            features.append(_compare_categorical(ref, cur, cats, cur_type, thr))
    ranked = rank_features(features)
    statuses = [STATUS_OF_SEVERITY[f.severity] for f in ranked]
    if missing:
        statuses.append("critical")
    return DriftReport(
        status=worst_status(*statuses),
        rows_reference=profile.rows,
        rows_current=rows,
        features=ranked,
        missing_columns=tuple(missing),
        added_columns=(),
        bins=profile.bins,
        thresholds=thr,
    )


def _numeric_against(
    ref: NumericProfile,
    cur: ColumnSummary,
    agg: LogAggregates,
    window: LogWindow,
    edges: list[float] | None,
    thr: DriftThresholds,
    by: Sequence[str] = (),
    key: str = ALL,
) -> FeatureDrift:
    if edges is None:  # the column was not summarised as a number (all null)
        cur = ColumnSummary(cur.name, cur.rows, cur.nulls)
    values = None
    hist = None
    grid = None
    if cur.valid and ref.valid:
        if ref.sorted_values is not None and cur.valid <= EXACT_LIMIT:
            got = agg.values(window, ref.name, by=by)
            values = got.get(key, np.empty(0)) if got is not None else None
        if values is None:
            assert ref.grid is not None and cur.minimum is not None and cur.maximum is not None
            # the reference's grid reaches any value (its cells go on past its range)
            grid = ref.grid
            hist = histogram_or_none(agg, window, ref.name, grid, by=by, key=key, edges=edges)
            if hist is None:  # a values grid, and the current window has many more values
                assert ref.minimum is not None and ref.maximum is not None
                grid = choose_grid(min(ref.minimum, cur.minimum), max(ref.maximum, cur.maximum))
                hist = histogram_or_none(agg, window, ref.name, grid, by=by, key=key, edges=edges)
    return _compare_numeric(ref, cur, values, hist, grid, thr)


def _count(agg: LogAggregates, window: LogWindow) -> int:
    return agg.rows(window).get(ALL, 0)


def drift_between(
    ref_agg: LogAggregates,
    ref_window: LogWindow,
    cur_agg: LogAggregates,
    cur_window: LogWindow,
    *,
    bins: int = 10,
    columns: Sequence[str] | None = None,
    categorical: Iterable[str] = (),
    segment_by: str | None = None,
    thresholds: DriftThresholds | None = None,
    min_rows: int = 50,
) -> DriftReport:
    """The drift report of two logs' windows (or two files), like
    :func:`console.diagnostics.report.drift_report` over frames: ``columns`` defaults to the
    columns both share (minus ``segment_by``), columns only in the reference are missing
    (critical), only in the current window added. With ``segment_by`` each segment is
    compared with the same segment of the reference."""
    ref_names = [c.name for c in ref_agg.columns(ref_window)]
    cur_names = [c.name for c in cur_agg.columns(cur_window)]
    skip = {segment_by} if segment_by else set()
    if columns is None:
        names = [c for c in ref_names if c in set(cur_names) and c not in skip]
        missing = tuple(c for c in ref_names if c not in set(cur_names) and c not in skip)
        added = tuple(c for c in cur_names if c not in set(ref_names) and c not in skip)
    else:
        names = list(columns)
        for n in names:
            if n not in ref_names:
                raise ColumnNotFound(n, "the reference", ref_names)
        missing = tuple(c for c in names if c not in set(cur_names))
        names = [c for c in names if c not in set(missing)]
        added = ()
    profile = fit_log_profile(ref_agg, ref_window, names, bins=bins, categorical=categorical)
    report = compare_window(profile, cur_agg, cur_window, columns=names, thresholds=thresholds)
    segments: tuple[Any, ...] = ()
    if segment_by is not None:
        segments = segment_drift_between(
            ref_agg,
            ref_window,
            cur_agg,
            cur_window,
            segment_by,
            columns=names,
            categorical=categorical,
            bins=bins,
            thresholds=thresholds,
            global_features=report.features,
            min_rows=min_rows,
        )
    statuses = [STATUS_OF_SEVERITY[f.severity] for f in report.features]
    if missing:
        statuses.append("critical")
    return DriftReport(
        status=worst_status(*statuses),
        rows_reference=report.rows_reference,
        rows_current=report.rows_current,
        features=report.features,
        missing_columns=missing,
        added_columns=added,
        segments=segments,
        segment_by=segment_by,
        bins=bins,
        thresholds=report.thresholds,
    )


def segment_drift_between(
    ref_agg: LogAggregates,
    ref_window: LogWindow,
    cur_agg: LogAggregates,
    cur_window: LogWindow,
    segment_by: str | Sequence[str],
    *,
    columns: Sequence[str],
    categorical: Iterable[str] = (),
    bins: int = 10,
    thresholds: DriftThresholds | None = None,
    global_features: Iterable[FeatureDrift] | None = None,
    min_rows: int = 50,
    max_segments: int = 50,
) -> tuple[Any, ...]:
    """Per-segment drift from aggregates grouped by the segment column(s), ranked like
    :func:`console.diagnostics.segments.segment_drift` (same statuses, ``insufficient``
    below ``min_rows``, ``hidden_by_global``)."""
    from console.diagnostics.segments import insufficient, judged, ranked_segments

    thr = thresholds or DriftThresholds()
    by = [segment_by] if isinstance(segment_by, str) else list(segment_by)
    label = "/".join(by)
    for agg, win, where in (
        (ref_agg, ref_window, "the reference"),
        (cur_agg, cur_window, "the current window"),
    ):
        names = [c.name for c in agg.columns(win)]
        for col in by:
            if col not in names:
                raise ColumnNotFound(col, where, names)
    names = [c for c in columns if c not in by]
    profile = fit_log_profile(
        ref_agg, ref_window, names, bins=bins, categorical=categorical, segment_by=by
    )
    schema = {c.name: c for c in cur_agg.columns(cur_window)}
    cur_summary = cur_agg.summarize(cur_window, names, by=by)
    global_by_name = {f.name: f for f in (global_features or ())}
    keys = list(dict.fromkeys([*cur_summary, *profile.segments]))
    keys.sort(key=lambda k: -(_rows(cur_summary.get(k)) or 0))
    results = []
    for key in keys[:max_segments]:
        seg_ref = profile.segments.get(key)
        n_ref = seg_ref.rows if seg_ref else 0
        n_cur = _rows(cur_summary.get(key))
        value = None if key == "None" else key
        if min(n_ref, n_cur) < min_rows:
            results.append(insufficient(label, value, n_ref, n_cur, min_rows))
            continue
        assert seg_ref is not None
        seg_window = _segment_window(cur_window, by, key)
        edges = _numeric_edges(seg_ref, names, schema)
        per = cur_agg.summarize(seg_window, names).get(ALL, {})
        features = []
        for name in names:
            ref = seg_ref.columns[name]
            cur = per[name]
            if isinstance(ref, NumericProfile):
                features.append(
                    _numeric_against(ref, cur, cur_agg, seg_window, edges.get(name), thr)
                )
            else:
                cats = cur_agg.categories(seg_window, name).get(ALL, ([], [], 0))
                features.append(_compare_categorical(ref, cur, cats, schema[name], thr))
        results.append(judged(label, value, n_ref, n_cur, features, global_by_name))
    return ranked_segments(results)


def _rows(per: Mapping[str, ColumnSummary] | None) -> int:
    return next(iter(per.values())).rows if per else 0


__all__ = [
    "CategoryProfile",
    "GridDistance",
    "LogProfile",
    "NumericProfile",
    "PSI_FLOOR",
    "compare_window",
    "drift_between",
    "fit_log_profile",
    "grid_distance",
    "segment_drift_between",
]
