"""Query semantics, fleet queries, the healthy baseline, and the prediction-log frame."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from console.errors import InvalidInput, NotFound
from plugins.embedded.fleet import FLEET
from tests.embedded.conftest import START


def test_every_signal_of_every_model_has_a_plausible_value(env):
    for model, spec in FLEET.items():
        for signal in spec.signals():
            value = env.q(signal, model)
            assert np.isfinite(value), (model, signal)
            if signal.startswith(
                ("null_rate", "error_rate", "positive_rate", "output_div", "false_positive")
            ):
                assert 0 <= value <= 1, (model, signal)
    assert env.q("null_rate:avg_order_value_90d", "churn") < 0.01
    assert env.q("output_diversity", "recommendations") == pytest.approx(0.85, abs=0.02)
    assert env.q("prediction_mean", "credit-score") == pytest.approx(645, abs=4)
    assert env.q("prediction_mean", "pricing") == pytest.approx(40, abs=1)
    assert env.q("revenue_per_hour", "recommendations") == pytest.approx(180_000, rel=0.25)
    assert env.q("request_rate", "churn") * 1440 == pytest.approx(2_100_000, rel=0.25)
    p50, p95, p99 = (env.q(f"latency_{q}_ms", "fraud") for q in ("p50", "p95", "p99"))
    assert p50 < p95 < p99 == pytest.approx(35, abs=2)
    assert env.metrics.query("revenue_per_hour", "churn") is None


def test_the_healthy_fleet_raises_no_alerts(env):
    assert env.metrics.active_alerts() == []
    env.minutes(12 * 60)
    assert env.metrics.active_alerts() == []


def test_query_returns_the_latest_tick_at_or_before_at(env):
    at = START - timedelta(hours=5, seconds=30)
    value = env.metrics.query("error_rate", "fraud", at=at)
    pts = env.metrics.query_range("error_rate", "fraud", at - timedelta(minutes=5), at)
    assert value == pts[-1].value
    assert pts[-1].at == at and len(pts) == 6
    assert env.metrics.query("error_rate", "fraud", at=START - timedelta(days=3)) is None
    with pytest.raises(NotFound):
        env.metrics.query("error_rate", "nope")


def test_query_range_steps_average_the_minute_ticks(env):
    start = START - timedelta(hours=3)
    minutes = env.metrics.query_range("request_rate", "pricing", start, START)
    assert len(minutes) == 181 and minutes[0].at == start and minutes[-1].at == START
    hours = env.metrics.query_range("request_rate", "pricing", start, START, step_seconds=3600)
    assert [p.at for p in hours] == [start + timedelta(hours=k) for k in range(4)]
    last_hour = np.mean([p.value for p in minutes[-60:]])
    assert hours[-1].value == pytest.approx(last_hour)
    early = env.metrics.query_range(
        "request_rate",
        "pricing",
        START - timedelta(days=2),
        START - timedelta(days=2) + timedelta(minutes=2),
    )
    assert [p.value for p in early] == [None, None, None]
    with pytest.raises(InvalidInput):
        env.metrics.query_range("request_rate", "pricing", start, START, step_seconds=0)


def test_a_sole_route_has_the_aggregate_series_and_idle_routes_none(env):
    assert env.q("error_rate", "fraud", version="v21") == env.q("error_rate", "fraud")
    assert env.metrics.query("error_rate", "fraud", version="v20") is None
    before = START - timedelta(hours=4)
    assert env.metrics.query("error_rate", "pricing", version="v2", at=before) == env.metrics.query(
        "error_rate", "pricing", at=before
    )


def test_query_fleet_answers_every_model_at_once(env):
    fleet = env.metrics.query_fleet("error_rate")
    assert list(fleet) == list(FLEET)
    assert all(fleet[m] == env.q("error_rate", m) for m in FLEET)
    revenue = env.metrics.query_fleet("revenue_per_hour")
    assert revenue["churn"] is None and revenue["pricing"] > 0


def test_prediction_log_frames(env):
    window = (START - timedelta(hours=2), START)
    for model, spec in FLEET.items():
        rows = env.predictions.samples(model, *window)
        assert len(rows) == 120 * spec.samples_per_minute
        assert {"ts", "version", "prediction", "label", *spec.info.features} <= set(rows.columns)
        assert set(spec.segments) <= set(rows.columns)
        assert str(rows["ts"].dt.tz) == "UTC" and rows["ts"].is_monotonic_increasing
        assert window[0] <= rows["ts"].min() and rows["ts"].max() <= window[1]
    fraud = env.predictions.samples("fraud", *window, limit=50)
    assert len(fraud) == 50 and fraud["ts"].max() > START - timedelta(minutes=3)
    assert fraud["label"].notna().all()
    v3 = env.predictions.samples("pricing", START - timedelta(hours=4), START, version="v3")
    assert set(v3["version"]) == {"v3"} and v3["ts"].min() >= START - timedelta(hours=3)
    empty = env.predictions.samples("churn", START - timedelta(days=5), START - timedelta(days=4))
    assert len(empty) == 0 and {"ts", "prediction", "avg_order_value_90d"} <= set(empty.columns)
    with pytest.raises(InvalidInput):
        env.predictions.samples("fraud", *window, segment={"country": "fr"})


def test_alert_thresholds_can_be_overridden(template, tmp_path):
    import shutil

    from tests.embedded.conftest import open_env

    shutil.copy(template, tmp_path / "w.db")
    strict = open_env(tmp_path / "w.db", thresholds={"latency_p99_ms_max": 32})
    found = [a for a in strict.metrics.active_alerts() if a.name == "LatencyP99High"]
    assert {a.model for a in found} == {"fraud", "credit-score", "recommendations"}
    fraud = next(a for a in found if a.model == "fraud")
    assert fraud.summary.endswith("(threshold 32 ms)")
    assert fraud.starts_at < START - timedelta(hours=11)  # breached all along


def test_any_categorical_column_filters_like_a_segment(env):
    rows = env.predictions.samples(
        "pricing", START - timedelta(hours=1), START, segment={"category": "toys"}
    )
    assert len(rows) > 20 and set(rows["category"]) == {"toys"}
