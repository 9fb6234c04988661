"""Checks over metric signals: thresholds, latency, errors, null rates, business metrics and
recovery (polling until a signal is back within its threshold)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from console.errors import BackendError, InvalidInput
from console.runbooks.context import StepContext
from console.runbooks.registry import CheckOutcome, Param, check

OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def finite(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def compare(value: float | None, op: str, threshold: float) -> bool | None:
    if op not in OPS:
        raise InvalidInput(f"unknown comparison {op!r}", hint=f"use one of {', '.join(OPS)}")
    return None if value is None else bool(OPS[op](value, float(threshold)))


def fmt(signal: str, value: float | None) -> str:
    """A signal's value in a check's summary: ``console.formatting.format_signal`` (one
    formatter for every screen and command), with "no data" for a missing value."""
    from console.formatting import format_signal

    return format_signal(signal, value, missing="no data")


def query(
    ctx: StepContext, signal: str, *, version: str | None = None, at: datetime | None = None
) -> float | None:
    return finite(
        ctx.backends.metrics.query(signal, ctx.model, version=version, at=at or ctx.now())
    )


def mean_over(
    ctx: StepContext, signal: str, start: datetime, end: datetime, *, version: str | None = None
) -> float | None:
    """Mean of a signal's points in [start, end] (None when there are none)."""
    pts = ctx.backends.metrics.query_range(
        signal, ctx.model, start, end, step_seconds=60, version=version
    )
    vals = [v for p in pts if (v := finite(p.value)) is not None]
    return sum(vals) / len(vals) if vals else None


def routed_versions(ctx: StepContext) -> list[str]:
    """Model versions (not fallbacks) that receive traffic now."""
    routes = ctx.backends.traffic.routes(ctx.model)
    return [k for k, w in routes.items() if w > 0 and not k.startswith("fallback:")]


@check(
    "metric_threshold",
    params={
        "signal": Param("string", True, "signal name, e.g. positive_rate"),
        "op": Param("string", False, "comparison that holds when healthy (default <=)"),
        "threshold": Param("number", True, "healthy when `value op threshold`"),
        "version": Param("string", False, "one version instead of the model aggregate"),
    },
)
def metric_threshold(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """A signal's latest value against a threshold."""
    signal, op = params["signal"], params.get("op", "<=")
    value = query(ctx, signal, version=params.get("version"))
    ok = compare(value, op, params["threshold"])
    shown = fmt(signal, finite(params["threshold"]))
    return CheckOutcome(
        f"{signal} {fmt(signal, value)} (healthy when {op} {shown})",
        {"value": value, "threshold": params["threshold"], "op": op},
        {"signal": signal, "value": value, "threshold": params["threshold"], "op": op},
        ok,
        no_data=value is None,
    )


def _by_version(ctx: StepContext, signal: str) -> dict[str, float | None]:
    return {v: query(ctx, signal, version=v) for v in routed_versions(ctx)}


@check(
    "latency",
    params={
        "threshold_ms": Param("number", False, "p99 budget in ms (default: thresholds)"),
        "signal": Param(
            "string", False, "latency_p99_ms (default), latency_p95_ms, latency_p50_ms"
        ),
    },
)
def latency(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Latency of the model and of each version that takes traffic (a canary shows here)."""
    signal = params.get("signal", "latency_p99_ms")
    limit = float(params.get("threshold_ms", ctx.thresholds["latency_p99_ms_max"]))
    value = query(ctx, signal)
    per = _by_version(ctx, signal)
    worst = max(per, key=lambda k: per[k] or 0.0) if per else None
    routes = ctx.backends.traffic.routes(ctx.model)
    ok = compare(value, "<=", limit)
    summary = f"{signal} {fmt(signal, value)} (budget {limit:.0f} ms)"
    if worst is not None and len(per) > 1:
        summary += (
            f"; worst version {worst} at {fmt(signal, per[worst])} with "
            f"{routes.get(worst, 0):g}% of traffic"
        )
    return CheckOutcome(
        summary,
        {
            "value": value,
            "threshold": limit,
            "worst_version": worst,
            "worst_value": per.get(worst) if worst else None,
            "by_version": per,
        },
        {
            "signal": signal,
            "value": value,
            "threshold_ms": limit,
            "by_version": per,
            "routes": routes,
            "worst_version": worst,
        },
        ok,
        no_data=value is None,
    )


@check(
    "error_rate",
    params={
        "threshold": Param("number", False, "highest healthy error rate (default: thresholds)")
    },
)
def error_rate(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Error rate of the model and of each version taking traffic."""
    limit = float(params.get("threshold", ctx.thresholds["error_rate_max"]))
    value = query(ctx, "error_rate")
    per = _by_version(ctx, "error_rate")
    worst = max(per, key=lambda k: per[k] or 0.0) if per else None
    ok = compare(value, "<=", limit)
    return CheckOutcome(
        f"error rate {fmt('error_rate', value)} (threshold "
        f"{fmt('error_rate', limit)})"
        + (f"; worst version {worst}" if worst and len(per) > 1 else ""),
        {"value": value, "threshold": limit, "worst_version": worst, "by_version": per},
        {"value": value, "threshold": limit, "by_version": per},
        ok,
        no_data=value is None,
    )


@check(
    "null_rate",
    params={
        "features": Param("list", False, "features to read (default: all the model's features)"),
        "threshold": Param("number", False, "highest healthy null rate (default null_rate_warn)"),
    },
)
def null_rate(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Per-feature null rates now and before the incident; the top offenders first."""
    threshold = float(params.get("threshold", ctx.thresholds["null_rate_warn"]))
    features = params.get("features")
    if not features:
        info = ctx.model_info()
        features = list(info.features) if info else []
    ref_start, ref_end = ctx.reference_window(1.0)
    rows = []
    for f in features:
        signal = f"null_rate:{f}"
        now_v = query(ctx, signal)
        ref_v = mean_over(ctx, signal, ref_start, ref_end)
        rows.append(
            {
                "feature": f,
                "null_rate": now_v,
                "reference": ref_v,
                "over": now_v is not None and now_v > threshold,
            }
        )
    rows.sort(key=lambda r: -(r["null_rate"] or 0.0))
    if (not rows or all(r["null_rate"] is None for r in rows)) and ctx.backends.predictions:
        # no null-rate signal exported: count the nulls in the prediction log itself
        from console.runbooks.checks.data import log_null_rates

        rows = log_null_rates(ctx, features, threshold)
    if not rows or all(r["null_rate"] is None for r in rows):
        raise BackendError(
            f"no null-rate signals for {ctx.model}",
            hint="does the metrics backend export null_rate:<feature>?",
        )
    top = rows[0]
    over = [r["feature"] for r in rows if r["over"]]
    summary = (
        f"{top['feature']} null rate {fmt('null_rate', top['null_rate'])} (threshold "
        f"{fmt('null_rate', threshold)}, before {fmt('null_rate', top['reference'])})"
    )
    if len(over) > 1:
        summary += f"; {len(over)} features over the threshold"
    return CheckOutcome(
        summary,
        {
            "max_null_rate": top["null_rate"],
            "top_feature": top["feature"],
            "over": over,
            "count_over": len(over),
            "threshold": threshold,
            "breaker": (top["null_rate"] or 0.0) > ctx.thresholds["null_rate_breaker"],
        },
        {
            "features": rows[:10],
            "top_feature": top["feature"],
            "threshold": threshold,
            "breaker_threshold": ctx.thresholds["null_rate_breaker"],
        },
        not over,
    )


@check(
    "business_metric",
    params={
        "signal": Param("string", True, "e.g. fraud_loss_rate, revenue_per_hour"),
        "direction": Param("string", False, "the bad direction: up (default) or down"),
        "max_change_pct": Param("number", False, "largest healthy change vs baseline, % (20)"),
        "baseline_hours": Param("number", False, "length of the pre-incident baseline (6)"),
        "over": Param("string", False, "now (default) or incident: the mean since the onset"),
    },
)
def business_metric(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """A business signal now against its pre-incident mean (accuracy can mislead)."""
    signal = params["signal"]
    direction = params.get("direction", "up")
    if direction not in ("up", "down"):
        raise InvalidInput(f"direction must be up or down, got {direction!r}")
    limit = float(params.get("max_change_pct", 20.0))
    start, end = ctx.reference_window(float(params.get("baseline_hours", 6.0)))
    baseline = mean_over(ctx, signal, start, end)
    over = params.get("over", "now")
    if over not in ("now", "incident"):
        raise InvalidInput(f"over must be now or incident, got {over!r}")
    if over == "incident":
        since = ctx.onset() or ctx.incident.detected_at or ctx.now()
        value = mean_over(ctx, signal, since, ctx.now())
    else:
        value = query(ctx, signal)
    change = None
    if value is not None and baseline:
        change = (value - baseline) / abs(baseline) * 100.0
    bad = change is not None and (change > limit if direction == "up" else change < -limit)
    shown = "n/a" if change is None else f"{change:+.1f}%"
    return CheckOutcome(
        f"{signal} {fmt(signal, value)}{' since the onset' if over == 'incident' else ''} vs "
        f"baseline {fmt(signal, baseline)} ({shown}; "
        f"alarm beyond {'+' if direction == 'up' else '-'}{limit:g}%)",
        {
            "value": value,
            "baseline": baseline,
            "change_pct": change,
            "max_change_pct": limit,
            "lost_per_hour": None if value is None or baseline is None else baseline - value,
        },
        {
            "signal": signal,
            "value": value,
            "baseline": baseline,
            "change_pct": change,
            "baseline_window": [start.isoformat(), end.isoformat()],
        },
        None if change is None else not bad,
        no_data=value is None or baseline is None,
    )
