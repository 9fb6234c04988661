"""Healthy baselines of every signal, per model and per route (version or fallback).

A value at tick t is ``base · (1 + diurnal · d(t)) + wander · W(hour) + noise · N(t)``, clipped
to [lo, hi]: d is a daily sine peaking at 14:00 UTC, W a keyed random level per hour
(interpolated, so it moves smoothly) and N keyed per-minute noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from plugins.embedded.fleet import FLEET
from plugins.embedded.scenarios import FALLBACK_MANUAL, FALLBACK_RULES, FALLBACKS


@dataclass(frozen=True)
class Sig:
    base: float
    noise: float = 0.0
    diurnal: float = 0.0
    wander: float = 0.0
    lo: float = 0.0
    hi: float = math.inf


def _rate(base: float, noise: float) -> Sig:
    return Sig(base, noise, lo=0.0, hi=1.0)


_NULL = {"null_rate": _rate(0.002, 0.0005)}

# Model-wide demand (requests/min) — split across routes by traffic share.
DEMAND: dict[str, Sig] = {
    "churn": Sig(2_100_000 / 1440, 8.0, diurnal=0.15, wander=10.0),
    "recommendations": Sig(42_000.0, 250.0, diurnal=0.3, wander=400.0),
    "credit-score": Sig(350.0, 6.0, diurnal=0.3, wander=4.0),
    "fraud": Sig(5_000_000 / 60, 400.0, diurnal=0.2, wander=600.0),
    "pricing": Sig(12_000.0, 90.0, diurnal=0.3, wander=120.0),
}

_BASE: dict[str, dict[str, Sig]] = {
    "churn": {
        "error_rate": _rate(0.001, 0.0002),
        "latency_p50_ms": Sig(4.0, 0.08),
        "latency_p99_ms": Sig(18.0, 0.4),
        "prediction_mean": Sig(0.16, 0.0015, diurnal=0.01, lo=0, hi=1),
        "positive_rate": _rate(0.14, 0.0015),
        "output_diversity": _rate(0.97, 0.002),
    },
    "recommendations": {
        "error_rate": _rate(0.002, 0.0003),
        "latency_p50_ms": Sig(28.0, 0.5),
        "latency_p99_ms": Sig(85.0, 1.2),
        "prediction_mean": Sig(0.42, 0.003, diurnal=0.01, lo=0, hi=1),
        "positive_rate": _rate(0.31, 0.003),
        "output_diversity": _rate(0.85, 0.004),
        "revenue_per_hour": Sig(180_000.0, 900.0, diurnal=0.2, wander=1500.0),
    },
    "credit-score": {
        "error_rate": _rate(0.0015, 0.0003),
        "latency_p50_ms": Sig(22.0, 0.4),
        "latency_p99_ms": Sig(70.0, 1.2),
        "prediction_mean": Sig(645.0, 1.5, diurnal=0.0015, lo=300, hi=850),
        "positive_rate": _rate(0.58, 0.004),
        "output_diversity": _rate(0.93, 0.003),
    },
    "fraud": {
        "error_rate": _rate(0.0008, 0.0001),
        "latency_p50_ms": Sig(12.0, 0.2),
        "latency_p99_ms": Sig(35.0, 0.5),
        "prediction_mean": Sig(0.073, 0.0006, diurnal=0.01, lo=0, hi=1),
        "positive_rate": _rate(0.024, 0.0003),
        "output_diversity": _rate(0.99, 0.001),
        "fraud_loss_rate": Sig(0.0015, 0.00002, wander=0.00002),
        "false_positive_rate": _rate(0.02, 0.0001),
        "false_positive_rate:mobile_new": _rate(0.021, 0.0008),
    },
    "pricing": {
        "error_rate": _rate(0.001, 0.0002),
        "latency_p50_ms": Sig(8.0, 0.15),
        "latency_p99_ms": Sig(30.0, 0.6),
        "prediction_mean": Sig(40.0, 0.12, diurnal=0.005, lo=0),
        "positive_rate": _rate(0.35, 0.004),
        "output_diversity": _rate(0.62, 0.004),
        "revenue_per_hour": Sig(420_000.0, 2500.0, diurnal=0.25, wander=4000.0),
    },
}

# Small, plausible differences between versions of one model (base values only).
_VERSION_BASE: dict[tuple[str, str], dict[str, float]] = {
    ("churn", "v11"): {"positive_rate": 0.139, "latency_p99_ms": 19.0},
    ("churn", "v12"): {"positive_rate": 0.141},
    ("recommendations", "v7"): {
        "output_diversity": 0.84,
        "latency_p50_ms": 27.0,
        "revenue_per_hour": 178_000.0,
    },
    ("credit-score", "v4"): {"prediction_mean": 645.5, "latency_p50_ms": 21.0},
    ("fraud", "v20"): {"latency_p99_ms": 34.0, "fraud_loss_rate": 0.00155},
    ("fraud", "v22"): {"latency_p50_ms": 12.5, "latency_p99_ms": 36.0, "fraud_loss_rate": 0.00145},
    ("pricing", "v2"): {"prediction_mean": 39.8, "revenue_per_hour": 418_000.0},
}

# Fallback routes: fast rules with weaker outputs; the manual queue only enqueues.
_FALLBACK_BASE: dict[str, dict[str, dict[str, float]]] = {
    FALLBACK_RULES: {
        "*": {"latency_p50_ms": 1.5, "latency_p99_ms": 6.0, "error_rate": 0.0005},
        "churn": {"positive_rate": 0.18, "prediction_mean": 0.19, "output_diversity": 0.05},
        "recommendations": {
            "output_diversity": 0.12,
            "revenue_per_hour": 150_000.0,
            "prediction_mean": 0.3,
            "positive_rate": 0.24,
        },
        "credit-score": {"prediction_mean": 630.0, "positive_rate": 0.5, "output_diversity": 0.2},
        "fraud": {
            "positive_rate": 0.04,
            "prediction_mean": 0.09,
            "output_diversity": 0.15,
            "fraud_loss_rate": 0.0018,
            "false_positive_rate": 0.035,
            "false_positive_rate:mobile_new": 0.04,
        },
        "pricing": {
            "prediction_mean": 41.5,
            "output_diversity": 0.3,
            "revenue_per_hour": 390_000.0,
        },
    },
    FALLBACK_MANUAL: {
        "*": {"latency_p50_ms": 3.0, "latency_p99_ms": 9.0, "error_rate": 0.0},
        "churn": {"positive_rate": 0.14, "prediction_mean": 0.16, "output_diversity": 0.01},
        "recommendations": {"output_diversity": 0.3, "revenue_per_hour": 120_000.0},
        "credit-score": {"prediction_mean": 645.0, "positive_rate": 0.4, "output_diversity": 0.5},
        "fraud": {
            "positive_rate": 0.06,
            "prediction_mean": 0.1,
            "fraud_loss_rate": 0.0012,
            "false_positive_rate": 0.05,
            "false_positive_rate:mobile_new": 0.05,
        },
        "pricing": {
            "prediction_mean": 40.0,
            "output_diversity": 0.1,
            "revenue_per_hour": 250_000.0,
        },
    },
}


def route_profile(model: str, route: str) -> dict[str, Sig]:
    """Signal -> Sig for one route of ``model`` (every signal of the model except
    ``request_rate`` and ``latency_p95_ms``, which are derived)."""
    spec = FLEET[model]
    prof = dict(_BASE[model])
    for feature in spec.info.features:
        prof[f"null_rate:{feature}"] = _NULL["null_rate"]
    if route in FALLBACKS:
        fb = _FALLBACK_BASE[route]
        overrides = {**fb["*"], **fb.get(model, {})}
        # Rules and the manual queue do not read the model's features.
        for feature in spec.info.features:
            prof[f"null_rate:{feature}"] = Sig(0.0)
    else:
        overrides = _VERSION_BASE.get((model, route), {})
    for signal, base in overrides.items():
        old = prof[signal]
        scale = base / old.base if old.base else 1.0
        prof[signal] = replace(old, base=base, noise=old.noise * scale, wander=old.wander * scale)
    return prof
