"""Route validation, the kill switch, and injected backend failures."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES
from console.errors import BackendError, InvalidInput, NotFound


@pytest.mark.parametrize(
    "weights",
    [
        {"v21": 90, "v19": 10},  # unknown version
        {"v21": 90, "v20": 9},  # sums to 99
        {"v21": 110, "v20": -10},  # out of range
        {"v21": "lots"},  # not a number
        {},
    ],
)
def test_set_routes_rejects_bad_weights(env, weights):
    with pytest.raises(InvalidInput):
        env.traffic.set_routes("fraud", weights, actor="t")
    assert env.traffic.routes("fraud") == {"v21": 100.0}


def test_set_routes_accepts_versions_fallbacks_and_rounding(env):
    env.traffic.set_routes(
        "fraud", {"v21": 33.333, "v20": 33.333, FALLBACK_RULES: 33.339}, actor="t"
    )
    assert sum(env.traffic.routes("fraud").values()) == pytest.approx(100.005)
    env.traffic.set_routes("fraud", {FALLBACK_MANUAL: 100}, actor="t")
    assert env.traffic.routes("fraud") == {FALLBACK_MANUAL: 100.0}
    with pytest.raises(NotFound):
        env.traffic.set_routes("nope", {"v1": 100}, actor="t")


def test_kill_switch_moves_the_aggregate_to_the_fallback(env):
    assert env.q("latency_p50_ms", "fraud") == pytest.approx(12, abs=1)
    env.traffic.set_routes("fraud", {FALLBACK_RULES: 100}, actor="oncall")
    env.minutes(10)
    assert env.q("latency_p50_ms", "fraud") == pytest.approx(1.5, abs=0.3)
    assert env.q("latency_p50_ms", "fraud", version=FALLBACK_RULES) == pytest.approx(1.5, abs=0.3)
    probe = env.traffic.probe("fraud", FALLBACK_RULES)
    assert probe.healthy and probe.latency_ms < 3
    now = env.clock.now()
    rows = env.predictions.samples("fraud", now - timedelta(minutes=2), now)
    assert set(rows["version"]) == {FALLBACK_RULES}


def test_break_backend_errors_then_recovers(env):
    env.world.break_backend("traffic", "set_routes", times=2)
    for _ in range(2):
        with pytest.raises(BackendError):
            env.traffic.set_routes("fraud", {"v20": 100}, actor="t")
    assert env.traffic.routes("fraud") == {"v21": 100.0}
    env.traffic.set_routes("fraud", {"v20": 100}, actor="t")
    assert env.traffic.routes("fraud") == {"v20": 100.0}


def test_break_backend_timeout_sleeps_then_raises(env):
    env.world.break_backend("metrics", "active_alerts", mode="timeout", delay_s=0.2)
    t0 = time.perf_counter()
    with pytest.raises(BackendError, match="timed out"):
        env.metrics.active_alerts()
    assert time.perf_counter() - t0 >= 0.2
    assert env.metrics.active_alerts() == []


def test_break_backend_unhealthy_probe_of_one_route(env):
    env.world.break_backend("traffic", "probe", mode="unhealthy", times=-1, route="v21")
    assert not env.traffic.probe("fraud", "v21").healthy
    assert not env.traffic.probe("fraud", "v21").healthy
    assert env.traffic.probe("fraud", "v20").healthy
    env.world.repair_backend("traffic", "probe")
    assert env.traffic.probe("fraud", "v21").healthy
    with pytest.raises(InvalidInput):
        env.world.break_backend("traffic", "set_routes", mode="unhealthy")
    with pytest.raises(InvalidInput):
        env.world.break_backend("nope", "x")
    with pytest.raises(NotFound):
        env.traffic.probe("fraud", "v99")


def test_silent_failures_still_probe_healthy(env):
    env.world.inject("constant-recommendations")
    assert env.traffic.probe("recommendations", "v8").healthy
