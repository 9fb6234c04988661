"""The injectable faults: which routes they hit, how fast, and what they do to which signal.

A fault's strength on a route at time t is ``severity(t)`` (a ramp from onset, decaying with
the traffic lag once cleared) when the route is affected, else 0. A model's aggregate signal
is the traffic-weighted mix of its routes, with shares that follow route changes through a
first-order lag — so the aggregate effect is severity × lagged exposure, and a rollback or a
kill switch lets the signal recover over the next few simulated minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES

HOUR = 3600.0
FALLBACKS = (FALLBACK_RULES, FALLBACK_MANUAL)


@dataclass(frozen=True)
class Effect:
    signal: str
    kind: str  # "target": move towards value · "add": add value · "mul": multiply by value
    value: float
    #: An effect on published outputs, reverted while the model's batch job is paused.
    output: bool = False
    #: Std of the noise around a target (kept tiny where a number must read exactly).
    noise: float = 0.0


@dataclass(frozen=True)
class Scenario:
    name: str
    model: str
    description: str
    lead_s: float  # default onset = (now floored to the minute) - lead_s
    ramp_s: float
    effects: tuple[Effect, ...]
    bad_version: str | None
    good_version: str | None
    feature: str | None = None
    #: Affected route keys; None means every model version (a data fault), never a fallback.
    routes: tuple[str, ...] | None = None
    ramp_power: float = 1.0
    #: Routes the injection itself sets at onset (the canary promotion).
    set_routes: dict[str, float] | None = None
    mitigation: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def affects(self, route: str) -> bool:
        if route in FALLBACKS:
            return False
        return self.routes is None or route in self.routes


#: Exponent of the credit-score drift ramp. The drift accelerates as more applicants are
#: refreshed from the bad income feed; with x**1.47 the last hour's mean sits z≈4.7 away from
#: the 23 trailing hourly means (which include the drift's own early hours) — see
#: ``alerts.hourly_zscore`` and tests/embedded/test_faults.py.
CREDIT_RAMP_POWER = 1.47

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "athena-null-feature",
            "churn",
            "Upstream renamed total_order_amount to order_total_amount; avg_order_value_90d "
            "becomes 94.2% null and the churn positive rate jumps from 14% to 62%.",
            lead_s=6 * 60,
            ramp_s=60,
            effects=(
                Effect("null_rate:avg_order_value_90d", "target", 0.942, noise=0.0001),
                Effect("positive_rate", "target", 0.62, output=True, noise=0.0005),
                Effect("prediction_mean", "target", 0.58, output=True, noise=0.001),
            ),
            bad_version="v13",
            good_version="v13",
            feature="avg_order_value_90d",
            mitigation="pause the churn batch job (scores revert to the last good run), then "
            "fix the column mapping",
            facts={
                "old_column": "total_order_amount",
                "new_column": "order_total_amount",
                "null_rate": 0.942,
                "positive_rate_before": 0.14,
                "positive_rate_after": 0.62,
                "customers_per_run": 2_100_000,
                "kind": "data",
            },
        ),
        Scenario(
            "constant-recommendations",
            "recommendations",
            "v8 returns the same item for every user; output diversity collapses and revenue "
            "falls by $50,000 per hour.",
            lead_s=15 * 60,
            ramp_s=120,
            effects=(
                Effect("output_diversity", "target", 0.001, noise=0.0002),
                Effect("revenue_per_hour", "add", -50_000.0),
            ),
            bad_version="v8",
            good_version="v7",
            routes=("v8",),
            mitigation="roll back to v7",
            facts={
                "constant_item_id": 48213,
                "revenue_loss_per_hour": 50_000.0,
                "output_diversity_before": 0.85,
                "kind": "model",
            },
        ),
        Scenario(
            "credit-score-shift",
            "credit-score",
            "v5's new income feed sends bad income data; the mean score drifts from 645 to 580 "
            "over 6 hours (z-score 4.7 against a threshold of 3.0).",
            lead_s=6 * HOUR,
            ramp_s=6 * HOUR,
            ramp_power=CREDIT_RAMP_POWER,
            effects=(
                Effect("prediction_mean", "add", -65.0),
                Effect("positive_rate", "add", -0.08),
            ),
            bad_version="v5",
            good_version="v4",
            feature="income",
            routes=("v5",),
            mitigation="roll back to v4 (old income source), then fix the partner feed",
            facts={
                "prediction_mean_before": 645.0,
                "prediction_mean_after": 580.0,
                "zscore": 4.7,
                "bad_source": "partner-x.income_feed_v2",
                "kind": "data",
            },
        ),
        Scenario(
            "canary-error-creep",
            "fraud",
            "Canary v22 fails about 3% of requests against the champion's ~0.1%: under the "
            "5% error guardrail, but clearly worse — what a progressive rollout must catch.",
            lead_s=0,
            ramp_s=60,
            effects=(Effect("error_rate", "target", 0.03, noise=0.0005),),
            bad_version="v22",
            good_version="v21",
            routes=("v22",),
            mitigation="stop the rollout: route everything back to v21",
            facts={"kind": "model"},
        ),
        Scenario(
            "canary-latency-spike",
            "fraud",
            "Canary v22 promoted to 25% of 5,000,000 requests/hour; its p99 latency is 120 ms "
            "against a 35 ms baseline.",
            lead_s=10 * 60,
            ramp_s=60,
            effects=(
                Effect("latency_p50_ms", "target", 110.0, noise=0.5),
                Effect("latency_p99_ms", "target", 120.0, noise=0.8),
            ),
            bad_version="v22",
            good_version="v21",
            routes=("v22",),
            set_routes={"v21": 75.0, "v22": 25.0},
            mitigation="route 100% back to v21",
            facts={
                "canary_share": 25.0,
                "requests_per_hour": 5_000_000,
                "latency_p99_before_ms": 35.0,
                "latency_p99_after_ms": 120.0,
                "kind": "code",
            },
        ),
        Scenario(
            "pricing-zero",
            "pricing",
            "v3 returns 0.00 for every product; error rate 95%; the last good deployment (v2) "
            "was 3 hours ago.",
            lead_s=20 * 60,
            ramp_s=60,
            effects=(
                Effect("prediction_mean", "target", 0.0),
                Effect("error_rate", "target", 0.95, noise=0.002),
                Effect("output_diversity", "target", 0.0005, noise=0.0001),
                Effect("revenue_per_hour", "mul", 0.05),
            ),
            bad_version="v3",
            good_version="v2",
            routes=("v3",),
            mitigation="roll back to v2 first, then investigate",
            facts={"last_good_deploy_hours_ago": 3.0, "kind": "code"},
        ),
        Scenario(
            "segment-drift",
            "fraud",
            "False-positive rate for mobile / new users rises from 2% to 9% while the global "
            "rate holds; device_risk_score drifts in that segment only.",
            lead_s=3 * HOUR,
            ramp_s=30 * 60,
            effects=(
                Effect("false_positive_rate:mobile_new", "target", 0.09, noise=0.001),
                Effect("false_positive_rate", "add", 0.00175),
            ),
            bad_version="v21",
            good_version="v20",
            feature="device_risk_score",
            routes=("v21",),
            mitigation="roll back to v20, then retrain with recent mobile traffic",
            facts={
                "segment": {"channel": "mobile", "user_tenure": "new"},
                "segment_share": 0.025,
                "fpr_before": 0.02,
                "fpr_after": 0.09,
                "kind": "data",
            },
        ),
        Scenario(
            "fraud-concept-drift",
            "fraud",
            "A new fraud pattern: losses up 40% while error and flag rates stay flat — accuracy "
            "misleads.",
            lead_s=2 * HOUR,
            ramp_s=30 * 60,
            effects=(Effect("fraud_loss_rate", "mul", 1.4),),
            bad_version="v21",
            good_version=FALLBACK_RULES,
            routes=None,
            mitigation="route to the rule-based fallback while retraining on fresh labels",
            facts={
                "loss_increase": 0.40,
                "pattern": "gift_cards with low device risk",
                "kind": "concept",
            },
        ),
    )
}
