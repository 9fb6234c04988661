"""Faults a deploy brings: constant recommendations, the canary latency spike, pricing
returning 0.00 — and recovery when traffic moves back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.embedded.conftest import START
from tests.embedded.test_faults_data import alert


def test_constant_recommendations_collapse_diversity_and_cost_revenue(env, make_env):
    clean = make_env("clean")
    facts = env.world.inject("constant-recommendations")
    assert (facts["bad_version"], facts["good_version"]) == ("v8", "v7")
    assert env.q("output_diversity", "recommendations") < 0.01
    assert clean.q("output_diversity", "recommendations") == pytest.approx(0.85, abs=0.02)
    lost = clean.q("revenue_per_hour", "recommendations") - env.q(
        "revenue_per_hour", "recommendations"
    )
    assert lost == pytest.approx(50_000, abs=1)
    a = alert(env, "OutputDiversityCollapsed", "recommendations")
    assert a.severity == "critical" and a.labels["version"] == "v8"
    rows = env.predictions.samples("recommendations", START - timedelta(minutes=10), START)
    assert set(rows["prediction"]) == {facts["constant_item_id"]}
    assert {"new", "medium", "power"} == set(
        env.predictions.samples("recommendations", START - timedelta(hours=1), START)[
            "user_segment"
        ]
    )

    env.traffic.set_routes("recommendations", {"v7": 100}, actor="oncall")
    env.minutes(1)
    assert env.q("output_diversity", "recommendations") < 0.5
    env.minutes(9)
    assert env.q("output_diversity", "recommendations") > 0.8
    assert (
        env.q("revenue_per_hour", "recommendations")
        > clean.q("revenue_per_hour", "recommendations") - 5_000
    )
    assert alert(env, "OutputDiversityCollapsed") is None


def test_canary_latency_spike_and_routing_back(env):
    facts = env.world.inject("canary-latency-spike")
    assert facts["bad_version"] == "v22" and facts["routes"] == {"v21": 75.0, "v22": 25.0}
    assert env.traffic.routes("fraud") == {"v21": 75.0, "v22": 25.0}
    assert env.q("latency_p99_ms", "fraud", version="v22") == pytest.approx(120, abs=3)
    assert env.q("latency_p99_ms", "fraud", version="v21") == pytest.approx(35, abs=2)
    assert env.q("latency_p99_ms", "fraud") == pytest.approx(120, abs=5)
    share = env.q("request_rate", "fraud", version="v22") / env.q("request_rate", "fraud")
    assert share == pytest.approx(0.25, abs=0.005)
    assert env.q("request_rate", "fraud") * 60 == pytest.approx(5_000_000, rel=0.35)
    a = alert(env, "LatencyP99High", "fraud")
    assert a.labels["version"] == "v22" and a.severity == "critical"
    assert facts["onset"] < a.starts_at <= facts["onset"] + timedelta(minutes=2)

    env.traffic.set_routes("fraud", {"v21": 100}, actor="oncall")
    env.minutes(1)
    assert env.q("latency_p99_ms", "fraud") > 100
    env.minutes(9)
    assert env.q("latency_p99_ms", "fraud") < 40
    assert alert(env, "LatencyP99High") is None
    env.minutes(5)  # below 0.1% of traffic a route logs no series of its own
    assert env.metrics.query("latency_p99_ms", "fraud", version="v22") is None


def test_pricing_zero_probes_unhealthy_and_rollback_recovers(env):
    facts = env.world.inject("pricing-zero")
    assert (facts["bad_version"], facts["good_version"]) == ("v3", "v2")
    assert facts["last_good_deploy_hours_ago"] == 3.0
    assert env.q("prediction_mean", "pricing") < 0.5
    assert env.q("error_rate", "pricing") == pytest.approx(0.95, abs=0.01)
    bad, good = env.traffic.probe("pricing", "v3"), env.traffic.probe("pricing", "v2")
    assert not bad.healthy and "0.00" in bad.detail
    assert good.healthy and good.latency_ms == pytest.approx(8, abs=1)
    a = alert(env, "ErrorRateHigh", "pricing")
    assert a.labels["version"] == "v3" and a.summary == "error rate 95.0% (threshold 5.0%)"
    # Three hours ago pricing moved from v2 to v3: both series are in the history.
    before = START - timedelta(hours=3, minutes=5)
    assert env.metrics.query("request_rate", "pricing", version="v2", at=before) > 0
    assert env.metrics.query("request_rate", "pricing", version="v3", at=before) is None

    env.traffic.set_routes("pricing", {"v2": 100}, actor="oncall")
    env.minutes(10)
    assert env.q("error_rate", "pricing") < 0.01
    assert env.q("prediction_mean", "pricing") == pytest.approx(40, abs=1)
    assert not env.traffic.probe("pricing", "v3").healthy  # v3 itself is still broken
    env.world.clear("pricing-zero")
    env.minutes(10)
    assert env.traffic.probe("pricing", "v3").healthy
