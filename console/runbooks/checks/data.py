"""Checks over what the model is fed: schema diff (renames), per-feature drift, data quality
and segment drift.

Every check asks the prediction log for aggregates (:mod:`console.backends.aggregates`):
computed by the engine that holds the log when its plugin has the ``aggregates``
capability, else by DuckDB over ``samples`` in process — one code path either way.
``windows``/``inputs``/``features_of`` still hand out sample frames for the drift screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.backends.aggregates import LogAggregates, LogWindow
from console.errors import InvalidInput
from console.runbooks.context import CORE_COLUMNS, StepContext
from console.runbooks.registry import CheckOutcome, Param, check

#: A column (almost) entirely null in a window is treated as absent from it: downstream of
#: an upstream rename the old column is still in the table, only empty.
ABSENT_NULL_SHARE = 0.98

WINDOW_PARAMS = {
    "reference_hours": Param("number", False, "hours of data before the onset (default 6)"),
    "current_hours": Param("number", False, "at most this many recent hours (default 1)"),
}


@dataclass
class LogWindows:
    """The reference and current windows of a check, and the aggregates that answer for
    them: the plugin's own (capability ``aggregates``, computed where the log lives), else
    the same questions over ``ctx.samples`` in process."""

    agg: LogAggregates
    reference: LogWindow
    current: LogWindow
    where: dict[str, Any]
    pushdown: bool


def log_aggregates(ctx: StepContext) -> tuple[LogAggregates, bool]:
    """The model's log as aggregates, and whether the engine computes them (pushdown)."""
    from console.backends.framelog import SamplesAggregates
    from console.errors import BackendError

    log = ctx.backends.predictions
    if log is None:
        raise BackendError(
            f"environment {ctx.ws.env.name!r} has no prediction log",
            hint="configure a predictions plugin for this environment",
        )
    if "aggregates" in log.capabilities:
        agg = log.aggregates(ctx.model)
        if agg is not None:
            return agg, True

    def sampler(start, end, version, segment):
        return log.samples(ctx.model, start, end, version=version, segment=segment, limit=50_000)

    return SamplesAggregates(sampler, engine=f"{ctx.model} samples"), False


def log_windows(
    ctx: StepContext, params: dict[str, Any], *, current_hours: float = 1.0
) -> LogWindows:
    """Reference and current windows of the prediction log, checked to hold rows."""
    from console.diagnostics.errors import EmptyInput
    from console.diagnostics.logchecks import row_count

    r0, r1 = ctx.reference_window(float(params.get("reference_hours", 6.0)))
    c0, c1 = ctx.current_window(float(params.get("current_hours", current_hours)))
    agg, pushdown = log_aggregates(ctx)
    ref, cur = LogWindow(r0, r1), LogWindow(c0, c1)
    rows = {"reference": row_count(agg, ref), "current": row_count(agg, cur)}
    where: dict[str, Any] = {
        "reference": [r0.isoformat(), r1.isoformat()],
        "current": [c0.isoformat(), c1.isoformat()],
        "rows": rows,
        "computed": "pushdown" if pushdown else "samples",
    }
    for side in ("reference", "current"):
        if rows[side] == 0:
            raise EmptyInput(
                f"the {side} window of {ctx.model}'s prediction log is empty "
                f"({where[side][0]} → {where[side][1]})",
                hint="is the prediction log enabled for this model?",
            )
    return LogWindows(agg, ref, cur, where, pushdown)


@check(
    "schema_diff",
    params={
        **WINDOW_PARAMS,
        "min_confidence": Param("number", False, "lowest rename confidence to suggest (0.6)"),
    },
)
def schema_diff(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Columns missing, added or retyped between the reference and current windows, with
    rename suggestions (a missing expected column plus a new, similar one). A column that
    is (almost) entirely null in a window counts as absent from it."""
    from console.diagnostics.logchecks import schema_between

    w = log_windows(ctx, params)
    diff = schema_between(
        w.agg,
        w.reference,
        w.agg,
        w.current,
        min_confidence=float(params.get("min_confidence", 0.6)),
        skip=CORE_COLUMNS,
        absent_share=ABSENT_NULL_SHARE,
    )
    where = w.where
    top = diff.renames[0] if diff.renames else None
    if top is not None:
        summary = (
            f"{top.source} → {top.target} looks like a rename (confidence "
            f"{top.confidence:.0%}): {top.reason}"
        )
    elif diff.clean:
        summary = "schema unchanged"
    else:
        summary = (
            f"{len(diff.missing)} columns missing, {len(diff.added)} added, "
            f"{len(diff.type_changed)} retyped"
        )
    evidence = {
        **diff.to_dict(),
        **where,
        "suggestion": f"{top.source} → {top.target}" if top else None,
    }
    return CheckOutcome(
        summary,
        {
            "clean": diff.clean,
            "missing": list(diff.missing),
            "added": list(diff.added),
            "type_changed": [t.name for t in diff.type_changed],
            "renames": len(diff.renames),
            "rename_from": top.source if top else None,
            "rename_to": top.target if top else None,
            "rename_confidence": top.confidence if top else None,
        },
        evidence,
        diff.clean,
    )


def log_null_rates(ctx: StepContext, features: list[str], threshold: float) -> list[dict[str, Any]]:
    """The ``null_rate`` check's rows from the prediction log (for a metrics backend that
    exports no ``null_rate:<feature>``): the current hour against the hour before the
    onset, worst first. Features default to the log's configured ones, else every input."""
    from console.diagnostics.logchecks import null_rates, present_columns

    agg, _ = log_aggregates(ctx)
    ref = LogWindow(*ctx.reference_window(1.0))
    cur = LogWindow(*ctx.current_window(1.0))
    if not features:
        log = ctx.backends.predictions
        features = (log.features(ctx.model) if log is not None else []) or list(
            present_columns(agg, ref, skip=CORE_COLUMNS)[0]
        )
    now, before = null_rates(agg, cur, features), null_rates(agg, ref, features)
    rows: list[dict[str, Any]] = []
    for f in features:
        rate = now[f]  # None: the log has no such column, or the window no rows
        rows.append(
            {
                "feature": f,
                "null_rate": rate,
                "reference": before[f],
                "over": rate is not None and rate > threshold,
                "source": "prediction log",
            }
        )
    rows.sort(key=lambda r: -(r["null_rate"] or 0.0))
    return rows


def log_features(ctx: StepContext, params: dict[str, Any], w: LogWindows) -> list[str]:
    """The features to compare: ``params.columns``, else the registry's lineage, else the
    log's configured features, else every input column — those the reference window has
    (with values), in that order."""
    from console.diagnostics.logchecks import present_columns

    present, _ = present_columns(
        w.agg, w.reference, skip=CORE_COLUMNS, absent_share=ABSENT_NULL_SHARE
    )
    wanted = params.get("columns")
    if not wanted:
        info = ctx.model_info()
        log = ctx.backends.predictions
        configured = log.features(ctx.model) if log is not None else []
        wanted = (
            list(info.features) if info and info.features else (list(configured) or list(present))
        )
    return [c for c in wanted if c in present]


def _thresholds(ctx: StepContext):
    from console.diagnostics.drift import DriftThresholds

    t = ctx.thresholds
    return DriftThresholds(
        psi_moderate=t["psi_moderate"],
        psi_significant=t["psi_significant"],
        null_rate_warning=t["null_rate_warn"],
        null_rate_critical=t["null_rate_breaker"],
    )


@check(
    "drift",
    params={**WINDOW_PARAMS, "columns": Param("list", False, "features (default: the model's)")},
)
def drift(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Per-feature drift (PSI, KS, null rates) of the current window against the reference;
    evidence lists every feature, worst first."""
    from console.diagnostics.pushdown import drift_between

    w = log_windows(ctx, params)
    where = w.where
    cols = log_features(ctx, params, w)
    report = drift_between(
        w.agg, w.reference, w.agg, w.current, columns=cols, thresholds=_thresholds(ctx)
    )
    top = report.top
    flagged = {
        s: [f.name for f in report.features if f.severity == s] for s in ("significant", "moderate")
    }
    if top is None or top.severity == "stable":
        summary = f"no feature drifted ({len(report.features)} compared)"
    else:
        why = top.reasons[0] if top.reasons else f"PSI {top.psi:.2f}"
        summary = f"{top.name} drifted most ({top.severity}): {why}"
        others = [n for n in flagged["significant"] if n != top.name]
        if others:
            summary += f"; also significant: {', '.join(others[:4])}"
        if flagged["moderate"]:
            summary += f" ({len(flagged['moderate'])} moderate)"
    if report.missing_columns:
        summary += f"; missing: {', '.join(report.missing_columns)}"
    if report.sample_note:
        summary += f"; {report.sample_note}"
    out = report.to_dict()
    return CheckOutcome(
        summary,
        {
            "status": report.status,
            "top_feature": top.name if top else None,
            "top_severity": top.severity if top else None,
            "top_psi": top.psi if top else None,
            "top_null_rate": top.null_rate_current if top else None,
            "significant": flagged["significant"],
            "moderate": flagged["moderate"],
        },
        {
            "features": out["features"],
            "missing_columns": out["missing_columns"],
            "status": report.status,
            **where,
        },
        report.status == "healthy",
    )


@check(
    "data_quality",
    params={
        **WINDOW_PARAMS,
        "columns": Param("list", False, "features (default: the model's)"),
        "out_of_range_critical": Param("number", False, "share outside the range (0.01)"),
    },
)
def data_quality(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Null rates and values outside the reference window's observed range, per feature —
    what a feed sending values in the wrong unit looks like before drift shows it."""
    from console.diagnostics.logchecks import quality_between

    w = log_windows(ctx, params)
    where = w.where
    current = {c.name for c in w.agg.columns(w.current)}
    cols = [c for c in log_features(ctx, params, w) if c in current]
    t = ctx.thresholds
    report = quality_between(
        w.agg,
        w.reference,
        w.current,
        columns=cols,
        null_rate_warning=t["null_rate_warn"],
        null_rate_critical=t["null_rate_breaker"],
        out_of_range_critical=float(params.get("out_of_range_critical", 0.01)),
    )
    worst = report.columns[0] if report.columns else None
    critical = [c.name for c in report.columns if c.status == "critical"]
    if worst is None or worst.status == "healthy":
        summary = f"no quality problem in {len(report.columns)} features"
    else:
        summary = f"{worst.name}: {'; '.join(worst.reasons)}"
        if len(critical) > 1:
            summary += f"; also {', '.join(c for c in critical if c != worst.name)}"
    return CheckOutcome(
        summary,
        {
            "status": report.status,
            "worst_column": worst.name if worst else None,
            "worst_out_of_range": worst.out_of_range_rate if worst else None,
            "worst_null_rate": worst.null_rate if worst else None,
            "critical": critical,
            "breaker": report.breaker_tripped,
        },
        {**report.to_dict(), **where},
        not critical,
    )


@check(
    "segment_drift",
    params={
        **WINDOW_PARAMS,
        "by": Param("list", True, "segment column(s); several are combined, e.g. channel/tenure"),
        "columns": Param("list", False, "features (default: the model's)"),
        "min_rows": Param("number", False, "rows a segment needs on each side (30)"),
        "alpha": Param("number", False, "significance a segment finding needs (0.01)"),
    },
)
def segment_drift(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Drift within each segment, flagging segments that drift while the global figure
    holds (what global monitoring hides)."""
    from console.diagnostics.pushdown import drift_between, segment_drift_between

    by = params["by"] if isinstance(params["by"], list) else [params["by"]]
    w = log_windows(ctx, params, current_hours=3.0)
    where = w.where
    for win in (w.reference, w.current):
        names = {c.name for c in w.agg.columns(win)}
        for col in by:
            if col not in names:
                raise InvalidInput(f"segment column {col!r} is not in {ctx.model}'s prediction log")
    key = "/".join(by)
    cols = [c for c in log_features(ctx, params, w) if c not in by]
    thr = _thresholds(ctx)
    glob = drift_between(w.agg, w.reference, w.agg, w.current, columns=cols, thresholds=thr)
    segs = segment_drift_between(
        w.agg,
        w.reference,
        w.agg,
        w.current,
        by,
        columns=cols,
        thresholds=thr,
        global_features=glob.features,
        min_rows=int(params.get("min_rows", 30)),
    )
    alpha = float(params.get("alpha", 0.01))
    findings = []  # (segment, its significant drifting features)
    for seg in segs:
        if seg.status not in ("warning", "critical"):
            continue
        real = [f for f in seg.features if f.severity != "stable" and _significant(f, alpha)]
        if real:
            findings.append((seg, real))
    hidden = [
        (seg, real) for seg, real in findings if any(f.name in seg.hidden_by_global for f in real)
    ]
    thin = [s for s in segs if s.status == "insufficient"]
    worst, feats = (hidden or findings or [(None, [])])[0]
    if worst is None:
        summary = f"no segment of {key} drifted significantly"
    else:
        top = feats[0]
        summary = (
            f"segment {key}={worst.value} drifts on {top.name} ({top.severity}"
            + (f", PSI {top.psi:.2f}" if top.psi is not None else "")
            + ")"
            + (" while the global figure is stable" if hidden else "")
        )
    if thin:
        summary += "; too few rows to judge: " + ", ".join(
            f"{s.value} ({s.rows_current})" for s in thin[:4]
        )
    return CheckOutcome(
        summary,
        {
            "segment_by": key,
            "worst_segment": worst.value if worst else None,
            "worst_feature": feats[0].name if feats else None,
            "worst_psi": feats[0].psi if feats else None,
            "worst_status": worst.status if worst else None,
            "hidden": [seg.value for seg, _ in hidden],
            "insufficient": [s.value for s in thin],
            "global_status": glob.status,
        },
        {
            "segment_by": key,
            "global_status": glob.status,
            "segments": [_trim(s.to_dict()) for s in segs[:8]],
            **where,
        },
        not findings,
    )


def _significant(f: Any, alpha: float) -> bool:
    """PSI on a few dozen rows is noisy: a segment finding also needs its two-sample test
    (KS, or chi-squared for categories) to reject at ``alpha``, or a null-rate finding."""
    p = f.ks_pvalue if f.ks_pvalue is not None else f.chi2_pvalue
    if (f.null_rate_current or 0.0) - (f.null_rate_reference or 0.0) > 0.01:
        return True
    return p is None or p < alpha


def _trim(seg: dict[str, Any]) -> dict[str, Any]:
    seg["features"] = [
        {k: f[k] for k in ("name", "severity", "psi", "null_rate_current")}
        for f in seg["features"][:3]
    ]
    return seg
