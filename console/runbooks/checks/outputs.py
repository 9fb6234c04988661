"""Checks over what the model says: prediction shift (z-score, positive-rate points),
output diversity, and the canary's two-proportion test."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from console.errors import BackendError, InvalidInput
from console.runbooks.checks.signals import finite, fmt, mean_over, query, routed_versions
from console.runbooks.context import StepContext
from console.runbooks.registry import CheckOutcome, Param, check


def hourly_means(ctx: StepContext, signal: str, end, hours: int) -> list[float]:
    """Means of ``signal`` over the ``hours`` whole hours before ``end``, oldest first
    (hours without data are left out)."""
    pts = ctx.backends.metrics.query_range(
        signal, ctx.model, end - timedelta(hours=hours), end, step_seconds=60
    )
    buckets: dict[int, list[float]] = {}
    for p in pts:
        v = finite(p.value)
        if v is None or p.at >= end:
            continue
        idx = int((end - p.at).total_seconds() // 3600)
        buckets.setdefault(idx, []).append(v)
    return [sum(b) / len(b) for _, b in sorted(buckets.items(), reverse=True) if b]


@check(
    "prediction_shift",
    params={
        "signal": Param("string", False, "prediction_mean (default)"),
        "history_hours": Param("number", False, "trailing hourly windows (default 23)"),
        "current_hours": Param("number", False, "latest window, from the onset (default 1)"),
        "threshold_z": Param("number", False, "z-score alarm (default thresholds.prediction_z)"),
        "threshold_pp": Param("number", False, "positive-rate alarm in points (default 10)"),
    },
)
def prediction_shift(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """The latest window's mean prediction as a z-score against the trailing hourly means,
    and the positive rate's deviation in percentage points."""
    from console.diagnostics.prediction import mean_shift, positive_rate_shift

    signal = params.get("signal", "prediction_mean")
    z_thr = float(params.get("threshold_z", ctx.thresholds["prediction_z"]))
    pp_thr = float(params.get("threshold_pp", ctx.thresholds["positive_rate_pp"]))
    start, end = ctx.current_window(float(params.get("current_hours", 1.0)))
    history_hours = int(params.get("history_hours", 23))
    latest = mean_over(ctx, signal, start, end)
    history = hourly_means(ctx, signal, start, history_hours)
    if latest is None:
        raise BackendError(f"no {signal} data for {ctx.model} in the current window")
    shift = mean_shift(history, latest, threshold=z_thr)
    rate_latest = mean_over(ctx, "positive_rate", start, end)
    rate_hist = hourly_means(ctx, "positive_rate", start, history_hours)
    rate = (
        positive_rate_shift(rate_hist, rate_latest, threshold_pp=pp_thr)
        if rate_latest is not None
        else None
    )
    parts = [
        f"{signal} {fmt(signal, latest)} vs trailing {fmt(signal, shift.history_mean)}: "
        + (f"z = {shift.z:.1f}" if shift.z is not None else shift.reason)
        + f" (threshold {z_thr:g})"
    ]
    if rate is not None and rate.deviation_pp is not None:
        parts.append(
            f"positive rate {rate.latest_rate:.1%} vs {rate.trailing_rate:.1%} "
            f"({rate.deviation_pp:+.1f} pp, threshold {pp_thr:g})"
        )
    anomalous = shift.anomalous or bool(rate and rate.anomalous)
    return CheckOutcome(
        "; ".join(parts),
        {
            "z": shift.z,
            "anomalous": anomalous,
            "mean_anomalous": shift.anomalous,
            "latest": latest,
            "history_mean": shift.history_mean,
            "rate_deviation_pp": rate.deviation_pp if rate else None,
            "rate_anomalous": bool(rate and rate.anomalous),
            "positive_rate": rate.latest_rate if rate else None,
            "positive_rate_before": rate.trailing_rate if rate else None,
        },
        {
            "mean_shift": shift.to_dict(),
            "positive_rate": rate.to_dict() if rate else None,
            "window": [start.isoformat(), end.isoformat()],
            "history_windows": len(history),
        },
        not anomalous,
    )


@check(
    "output_diversity",
    params={
        "min": Param("number", False, "lowest healthy unique ratio (thresholds)"),
        "max_top_share": Param("number", False, "share of one answer that means collapse (0.9)"),
        "current_hours": Param("number", False, "sample window from the onset (default 1)"),
    },
)
def output_diversity(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Is the model giving everyone the same answer? The diversity signal plus the
    prediction log's most common output and its share."""
    from console.diagnostics.prediction import output_diversity as diversity

    limit = float(params.get("min", ctx.thresholds["output_diversity_min"]))
    value = query(ctx, "output_diversity")
    sample = None
    if ctx.backends.predictions is not None:
        start, end = ctx.current_window(float(params.get("current_hours", 1.0)))
        frame = ctx.samples(start, end)
        if frame.shape[0] and "prediction" in frame.columns:
            sample = diversity(
                frame["prediction"], max_top_share=float(params.get("max_top_share", 0.9))
            )
    collapsed = (value is not None and value < limit) or bool(sample and sample.collapsed)
    summary = (
        f"output diversity {fmt('output_diversity', value)} (min {fmt('output_diversity', limit)})"
    )
    if sample is not None and sample.top_share is not None:
        summary += f"; {sample.top_share:.0%} of answers are {sample.to_dict()['top_value']!r}"
    return CheckOutcome(
        summary,
        {
            "diversity": value,
            "collapsed": collapsed,
            "min": limit,
            "top_value": sample.to_dict()["top_value"] if sample else None,
            "top_share": sample.top_share if sample else None,
        },
        {"signal": value, "sample": sample.to_dict() if sample else None},
        not collapsed,
    )


def _arm(ctx: StepContext, signal: str, version: str, start, end):
    from console.diagnostics.canary import Arm

    m = ctx.backends.metrics
    rates = {
        p.at: finite(p.value) for p in m.query_range(signal, ctx.model, start, end, version=version)
    }
    reqs = {
        p.at: finite(p.value)
        for p in m.query_range("request_rate", ctx.model, start, end, version=version)
    }
    trials = successes = 0.0
    for at, n in reqs.items():
        r = rates.get(at)
        if n and r is not None:
            trials += n
            successes += n * r
    if trials < 1:
        raise BackendError(f"no traffic on {ctx.model} {version} in the window")
    return Arm(int(round(successes)), int(round(trials)))


@check(
    "canary",
    params={
        "signal": Param("string", False, "a rate signal (default error_rate)"),
        "control": Param("string", False, "champion version (default: production)"),
        "treatment": Param("string", False, "canary version (default: the other routed one)"),
        "minutes": Param("number", False, "window length (default 30)"),
        "higher_is_better": Param("bool", False, "false for errors (default false)"),
        "margin": Param("number", False, "non-inferiority margin δ (a rate difference)"),
        "alpha": Param("number", False, "significance level (0.05)"),
    },
)
def canary(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Two-proportion z-test of the canary against the champion on a rate."""
    from console.diagnostics.canary import two_proportion_test

    signal = params.get("signal", "error_rate")
    control = params.get("control") or ctx.versions()["production"]
    routed = [v for v in routed_versions(ctx) if v != control]
    treatment = params.get("treatment") or (routed[0] if routed else None)
    if not control or not treatment:
        raise InvalidInput(
            f"{ctx.model} has no canary taking traffic next to {control}",
            hint="name it with params treatment: VERSION",
        )
    end = ctx.now()
    start = end - timedelta(minutes=float(params.get("minutes", 30)))
    a, b = _arm(ctx, signal, control, start, end), _arm(ctx, signal, treatment, start, end)
    res = two_proportion_test(
        a,
        b,
        alpha=float(params.get("alpha", 0.05)),
        margin=params.get("margin"),
        higher_is_better=bool(params.get("higher_is_better", False)),
    )
    share = ctx.backends.traffic.routes(ctx.model).get(treatment, 0.0)
    summary = (
        f"canary {treatment} ({share:g}% of traffic) {signal} "
        f"{res.treatment_rate:.3%} vs {control} {res.control_rate:.3%}: {res.decision}"
        f" — {res.reason}"
    )
    return CheckOutcome(
        summary,
        {
            "decision": res.decision,
            "z": res.z,
            "p_value": res.p_value,
            "control": control,
            "treatment": treatment,
            "share": share,
            "control_rate": res.control_rate,
            "treatment_rate": res.treatment_rate,
        },
        {
            **res.to_dict(),
            "control": control,
            "treatment": treatment,
            "signal": signal,
            "trials": {"control": a.trials, "treatment": b.trials},
            "share": share,
        },
        res.decision != "rollback",
    )
