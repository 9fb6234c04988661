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
    ks_wasserstein,
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
        bin_counts(values, edges),
        grid,
        histogram_of(values, grid),
        median=float(values[(values.shape[0] - 1) // 2]),
        sorted_values=values,
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
        if mode == ALL and (_rows(summary.get(ALL)) if columns else _count(agg, window)) == 0:
            raise EmptyInput(
                f"the reference window has no rows ({window.describe()})",
                hint="pick a window in which the model was logging",
            )
        for key, per in summary.items():
            rows_by[key] = next(iter(per.values())).rows if per else 0
            out_by.setdefault(key, {})
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
    from console.diagnostics.results import SEVERITY_RANK, STATUS_RANK
    from console.diagnostics.segments import SegmentDrift, _rank_key

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
    edges_all: dict[str, list[float]] = {}
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
            side = "reference" if n_ref < min_rows else "current window"
            results.append(
                SegmentDrift(
                    label,
                    value,
                    n_ref,
                    n_cur,
                    "insufficient",
                    None,
                    None,
                    None,
                    (),
                    (),
                    reason=f"fewer than {min_rows} rows in the {side}",
                )
            )
            continue
        assert seg_ref is not None
        seg_window = _segment_window(cur_window, by, key)
        edges = _numeric_edges(seg_ref, names, schema)
        edges_all.update(edges)
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
        ranked = rank_features(features)
        hidden = tuple(
            f.name
            for f in ranked
            if f.severity != "stable"
            and f.name in global_by_name
            and global_by_name[f.name].severity == "stable"
            and SEVERITY_RANK[f.severity] > SEVERITY_RANK[global_by_name[f.name].severity]
        )
        top = ranked[0] if ranked else None
        status = max(
            (STATUS_OF_SEVERITY[f.severity] for f in ranked),
            key=STATUS_RANK.__getitem__,
            default="healthy",
        )
        results.append(
            SegmentDrift(
                segment=label,
                value=value,
                rows_reference=n_ref,
                rows_current=n_cur,
                status=status,
                top_feature=top.name if top else None,
                top_severity=top.severity if top else None,
                top_psi=top.psi if top else None,
                hidden_by_global=hidden,
                features=ranked,
                reason=(
                    f"{', '.join(hidden)} drift here while the global figure is stable"
                    if hidden
                    else None
                ),
            )
        )
    return tuple(sorted(results, key=_rank_key))


def _rows(per: Mapping[str, ColumnSummary] | None) -> int:
    return next(iter(per.values())).rows if per else 0


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
    from console.diagnostics.schema import RenameSuggestion, SchemaDiff, TypeChange, name_similarity

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
    candidates = []
    for src in missing:
        for dst in added:
            name_sim, name_why = name_similarity(src, dst)
            dist_sim, dist_why = _similarity(
                ref_agg, ref_window, ref_types[src], cur_agg, cur_window, cur_types[dst]
            )
            confidence = name_sim / 2 if dist_sim is None else (name_sim + dist_sim) / 2
            if confidence >= min_confidence:
                reason = f"{src!r} is missing and {dst!r} is new: {name_why}; {dist_why}"
                candidates.append(
                    RenameSuggestion(src, dst, confidence, reason, name_sim, dist_sim)
                )
    renames, used_src, used_dst = [], set(), set()
    for cand in sorted(candidates, key=lambda c: (-c.confidence, c.source, c.target)):
        if cand.source not in used_src and cand.target not in used_dst:
            renames.append(cand)
            used_src.add(cand.source)
            used_dst.add(cand.target)
    return SchemaDiff(missing, added, changed, tuple(renames))


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
    from console.diagnostics.quality import ColumnQuality, QualityReport
    from console.diagnostics.results import percent

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
        reasons: list[str] = []
        statuses: list[Any] = []
        rows = s.rows
        null_rate = s.nulls / rows if rows else None
        if null_rate is None:
            reasons.append("no rows: nothing to check")
        elif null_rate > null_rate_critical:
            statuses.append("critical")
            reasons.append(f"null rate {percent(null_rate)} > {percent(null_rate_critical)}")
        elif null_rate > null_rate_warning:
            statuses.append("warning")
            reasons.append(f"null rate {percent(null_rate)} > {percent(null_rate_warning)}")
        bounds = None
        below = above = 0
        out_rate = None
        if name in edges and s.below:
            low, high = edges[name][0], highs[name]
            below = s.below[0] + s.negative_infinite
            above = s.valid - s.below[1] + (s.infinite - s.negative_infinite)
            out_rate = (below + above) / rows if rows else None
            bounds = (low, high)
            if out_rate is not None and out_rate > out_of_range_warning:
                statuses.append("critical" if out_rate > out_of_range_critical else "warning")
                reasons.append(
                    f"{percent(out_rate, 2)} of values outside [{low:g}, {high:g}] "
                    f"({below} below, {above} above)"
                )
        results.append(
            ColumnQuality(
                name=name,
                dtype=schema[name].dtype,
                rows=rows,
                null_rate=null_rate,
                out_of_range_rate=out_rate,
                below=below,
                above=above,
                expected_range=bounds,
                status=worst_status(*statuses),
                reasons=tuple(reasons),
            )
        )
    order = {"critical": 0, "warning": 1, "healthy": 2}
    results.sort(key=lambda c: (order[c.status], -(c.null_rate or 0.0), c.name))
    breaker = any(c.null_rate is not None and c.null_rate > null_rate_critical for c in results)
    rows_all = results[0].rows if results else row_count(agg, cur_window)
    return QualityReport(
        worst_status(*(c.status for c in results)), rows_all, tuple(results), breaker
    )


def row_count(agg: LogAggregates, window: LogWindow) -> int:
    """Rows in ``window``."""
    return _count(agg, window)


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
    "CategoryProfile",
    "GridDistance",
    "LogProfile",
    "NumericProfile",
    "PSI_FLOOR",
    "compare_window",
    "drift_between",
    "fit_log_profile",
    "grid_distance",
    "null_rates",
    "schema_between",
    "segment_drift_between",
    "two_sample_ks",
]
