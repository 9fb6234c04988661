"""Alert rules over a model's aggregate signals on a 1-minute grid (pure functions).

Every rule gives a breach flag per tick; an alert fires when the breach holds for the last
``hold_minutes`` ticks, and ``starts_at`` is the first tick of that unbroken breach.

Trailing baselines leave out the last hour, so a fresh breach does not dilute its own
baseline: the *trailing 24 h mean* at t is the mean over (t − 25 h, t − 1 h]; the prediction
mean *z-score* compares the mean of the last hour (t − 1 h, t] with the 23 hourly means
before it (needs at least 12 of them): z = (current − mean(hourly)) / std(hourly, ddof=1).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from console.backends.types import Alert

DEFAULT_THRESHOLDS: dict[str, float] = {
    "null_rate_warning": 0.02,  # DOMAIN: any feature's null rate > 2% warns
    "null_rate_critical": 0.05,  # > 5% trips the batch circuit breaker
    "positive_rate_delta": 0.10,  # 10 percentage points from the trailing mean
    "prediction_mean_z": 3.0,
    "output_diversity_min": 0.1,
    "error_rate_max": 0.05,
    "latency_p99_ms_max": 100.0,
    "fraud_loss_ratio": 1.25,  # × trailing mean
    "segment_fpr_max": 0.05,  # false_positive_rate:mobile_new
    "hold_minutes": 2,
}
SEGMENT = "channel=mobile,user_tenure=new"
HOUR_TICKS = 60
LONG_SIGNALS = ("prediction_mean", "positive_rate", "fraud_loss_rate")  # need 24 h+ history


def thresholds(overrides: Mapping[str, float] | None) -> dict[str, float]:
    return {**DEFAULT_THRESHOLDS, **{k: float(v) for k, v in (overrides or {}).items()}}


def _windowed(v: np.ndarray, lo: int, hi: int, min_count: int) -> np.ndarray:
    """Mean of v[i-hi+1 .. i-lo] for every i (NaN-aware; NaN when fewer than min_count)."""
    ok = ~np.isnan(v)
    cs = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
    cn = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(len(v))
    end = np.clip(i - lo + 1, 0, len(v))
    start = np.clip(i - hi + 1, 0, len(v))
    n = cn[end] - cn[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= min_count, (cs[end] - cs[start]) / np.maximum(n, 1), np.nan)


def trailing_mean(v: np.ndarray) -> np.ndarray:
    """Mean over (t − 25 h, t − 1 h] at each tick (needs ≥ 1 h of data)."""
    return _windowed(v, HOUR_TICKS, 25 * HOUR_TICKS, HOUR_TICKS)


def hourly_zscore(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, last-hour mean, mean of trailing hourly means) at each tick."""
    current = _windowed(v, 0, HOUR_TICKS, HOUR_TICKS // 2)
    shifted = np.full((23, len(v)), np.nan)
    for k in range(1, 24):
        shifted[k - 1, k * HOUR_TICKS :] = current[: len(v) - k * HOUR_TICKS]
    valid = (~np.isnan(shifted)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns early in history
        mu = np.nanmean(shifted, axis=0)
        sd = np.nanstd(shifted, axis=0, ddof=1)
        z = (current - mu) / np.maximum(sd, 1e-9 + 1e-6 * np.abs(mu))
    z = np.where(valid >= 12, z, np.nan)
    return z, current, mu


def run_start(breach: np.ndarray, hold: int) -> int | None:
    """Index of the first tick of the breach that holds at the last ``hold`` ticks."""
    if len(breach) < hold or not breach[-hold:].all():
        return None
    calm = np.flatnonzero(~breach)
    return int(calm[-1]) + 1 if len(calm) else 0


@dataclass(frozen=True)
class Rule:
    name: str
    signal: str
    severity: str
    worse: str  # "high" | "low" | "far" (from the baseline): picks the version label


def fingerprint(name: str, model: str, key: str = "") -> str:
    return hashlib.sha256(f"{name}|{model}|{key}".encode()).hexdigest()[:16]


def _fmt_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def evaluate(
    model: str,
    ticks: np.ndarray,
    data: Mapping[str, np.ndarray],
    th: Mapping[str, float],
    route_values: Mapping[str, Mapping[str, float]],
    features: tuple[str, ...],
) -> list[Alert]:
    """Alerts firing at the last tick of ``ticks`` for ``model``. ``data`` maps signal -> values
    on the grid (NaN = no data); ``route_values`` the routes now serving traffic -> their own
    latest values (to name the version an alert is about)."""
    hold = max(int(th["hold_minutes"]), 1)
    out: list[Alert] = []

    def fire(
        rule: Rule,
        breach: np.ndarray,
        value: float,
        summary: str,
        description: str,
        key: str = "",
        baseline: float | None = None,
        **labels: str,
    ) -> None:
        start = run_start(breach, hold)
        if start is None:
            return
        severity = labels.pop("severity", rule.severity)
        version = _version(rule, route_values, baseline)
        lab = {
            "alertname": rule.name,
            "model": model,
            "severity": severity,
            "signal": rule.signal,
            **labels,
        }
        if version:
            lab["version"] = version
        out.append(
            Alert(
                rule.name,
                model,
                fingerprint(rule.name, model, key),
                datetime.fromtimestamp(int(ticks[start]), UTC),
                severity,
                "firing",
                lab,
                {"summary": summary, "description": description},
                float(value),
            )
        )

    for f in features:
        v = data.get(f"null_rate:{f}")
        if v is None:
            continue
        warn, crit = th["null_rate_warning"], th["null_rate_critical"]
        breach = v > warn
        last = v[-1]
        start = run_start(breach, hold)
        since = _fmt_time(ticks[start]) if start is not None else ""
        fire(
            Rule("FeatureNullRateHigh", f"null_rate:{f}", "warning", "high"),
            breach,
            last,
            f"feature {f} null rate {last:.1%} (threshold {warn:.1%})",
            f"{model}: {last:.1%} of {f} values are null since {since} UTC (critical above "
            f"{crit:.1%}, where the batch circuit breaker trips). A null spike without a "
            "deploy usually means an upstream schema or pipeline change.",
            key=f,
            feature=f,
            severity="critical" if last > crit else "warning",
        )

    simple = (
        (
            Rule("ErrorRateHigh", "error_rate", "critical", "high"),
            "error_rate_max",
            "error rate",
            lambda x: f"{x:.1%}",
            False,
        ),
        (
            Rule("OutputDiversityCollapsed", "output_diversity", "critical", "low"),
            "output_diversity_min",
            "output diversity",
            lambda x: f"{x:.1%}",
            True,
        ),
        (
            Rule("LatencyP99High", "latency_p99_ms", "critical", "high"),
            "latency_p99_ms_max",
            "p99 latency",
            lambda x: f"{x:.0f} ms",
            False,
        ),
        (
            Rule(
                "SegmentFalsePositiveRateHigh", "false_positive_rate:mobile_new", "warning", "high"
            ),
            "segment_fpr_max",
            f"false-positive rate for segment {SEGMENT}",
            lambda x: f"{x:.1%}",
            False,
        ),
    )
    for rule, key, label, fmt, below in simple:
        v = data.get(rule.signal)
        if v is None:
            continue
        thr = th[key]
        breach = v < thr if below else v > thr
        extra = {"segment": SEGMENT} if rule.signal.endswith(":mobile_new") else {}
        glob = data.get("false_positive_rate")
        note = f" while the global rate is {glob[-1]:.1%}" if extra and glob is not None else ""
        fire(
            rule,
            breach,
            v[-1],
            f"{label} {fmt(v[-1])} (threshold {fmt(thr)})",
            f"{model}: {label} {'below' if below else 'above'} {fmt(thr)} for "
            f"{hold}+ minutes{note}.",
            key=extra.get("segment", ""),
            **extra,
        )

    v = data.get("positive_rate")
    if v is not None:
        base = trailing_mean(v)
        delta = th["positive_rate_delta"]
        breach = np.abs(v - base) > delta
        fire(
            Rule("PositiveRateShift", "positive_rate", "warning", "far"),
            breach,
            v[-1],
            f"positive rate {v[-1]:.1%} vs trailing 24 h mean {base[-1]:.1%} "
            f"(threshold ±{delta * 100:.0f} pp)",
            f"{model}: the share of positive predictions moved "
            f"{(v[-1] - base[-1]) * 100:+.1f} pp from its trailing mean.",
            baseline=base[-1],
        )

    v = data.get("prediction_mean")
    if v is not None:
        z, cur, mu = hourly_zscore(v)
        thr = th["prediction_mean_z"]
        breach = np.abs(z) > thr
        fire(
            Rule("PredictionMeanZScore", "prediction_mean", "warning", "far"),
            breach,
            z[-1],
            f"prediction mean {cur[-1]:.4g} (last hour) z-score {z[-1]:+.1f} against trailing "
            f"hourly means {mu[-1]:.4g} (threshold {thr:.1f})",
            f"{model}: the mean prediction moved away from its trailing baseline; check the "
            "inputs (a feed, a pipeline) before the model.",
            baseline=mu[-1],
        )

    v = data.get("fraud_loss_rate")
    if v is not None:
        base = trailing_mean(v)
        ratio = th["fraud_loss_ratio"]
        breach = v > ratio * base
        fire(
            Rule("FraudLossRateHigh", "fraud_loss_rate", "critical", "high"),
            breach,
            v[-1],
            f"fraud loss rate {v[-1]:.3%} is {v[-1] / base[-1]:.2f}× its trailing 24 h mean "
            f"{base[-1]:.3%} (threshold {ratio:.2f}×)",
            f"{model}: losses are up while error and flag rates may look normal — check for "
            "concept drift with fresh labels.",
        )
    return out


def _version(
    rule: Rule, route_values: Mapping[str, Mapping[str, float]], baseline: float | None
) -> str | None:
    """The serving route whose own value is worst for this rule."""
    scored = []
    for route, values in route_values.items():
        x = values.get(rule.signal)
        if x is None or np.isnan(x):
            continue
        if rule.worse == "high":
            scored.append((x, route))
        elif rule.worse == "low":
            scored.append((-x, route))
        elif baseline is not None and not np.isnan(baseline):
            scored.append((abs(x - baseline), route))
    if not scored:
        return next(iter(route_values), None)
    return max(scored, key=lambda s: s[0])[1]
