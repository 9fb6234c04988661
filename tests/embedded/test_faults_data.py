"""Data faults: the reference null-feature incident (with the batch pause), the credit-score
drift (z ≈ 4.7) and recovery after rollback, segment drift and concept drift."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from console.backends.types import FALLBACK_RULES
from console.errors import ActionRefused
from tests.embedded.conftest import START


def alert(env, name: str, model: str | None = None):
    found = [
        a
        for a in env.metrics.active_alerts()
        if a.name == name and (model is None or a.model == model)
    ]
    return found[0] if found else None


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """DOMAIN.md: bins on the reference quantiles, empty bins floored."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    r = np.histogram(reference, edges)[0] / len(reference)
    c = np.histogram(current, edges)[0] / len(current)
    r, c = np.maximum(r, 1e-4), np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def test_psi_helper_matches_the_worked_value():
    r, c = np.array([0.30, 0.25, 0.25, 0.20]), np.array([0.22, 0.28, 0.30, 0.20])
    assert float(np.sum((c - r) * np.log(c / r))) == pytest.approx(0.0373, abs=1e-4)


def test_athena_alert_reads_0647_with_the_exact_summary(env):
    assert env.q("positive_rate", "churn") == pytest.approx(0.14, abs=0.01)
    facts = env.world.inject("athena-null-feature")
    assert facts["onset"] == START - timedelta(minutes=6)
    assert (facts["model"], facts["feature"], facts["bad_version"]) == (
        "churn",
        "avg_order_value_90d",
        "v13",
    )
    assert facts["old_column"] == "total_order_amount"
    assert facts["new_column"] == "order_total_amount"
    a = alert(env, "FeatureNullRateHigh", "churn")
    assert a is not None
    assert a.summary == "feature avg_order_value_90d null rate 94.2% (threshold 2.0%)"
    assert a.starts_at == START.replace(minute=47)
    assert a.severity == "critical" and a.state == "firing"
    assert a.labels["feature"] == "avg_order_value_90d" and a.labels["version"] == "v13"
    assert a.labels["alertname"] == "FeatureNullRateHigh" and a.labels["model"] == "churn"
    assert a.annotations["description"] and a.value == pytest.approx(0.942, abs=5e-4)
    assert env.q("positive_rate", "churn") == pytest.approx(0.62, abs=0.01)
    assert alert(env, "PositiveRateShift", "churn") is not None
    # The same alert a few minutes later: same identity, same start.
    assert env.world.inject("athena-null-feature") == facts
    assert len(env.world.active_faults()) == 1
    env.minutes(3)
    later = alert(env, "FeatureNullRateHigh", "churn")
    assert (later.fingerprint, later.starts_at) == (a.fingerprint, a.starts_at)


def test_athena_prediction_logs_show_the_renamed_column(env):
    env.world.inject("athena-null-feature")
    now = env.minutes(30)
    after = env.predictions.samples("churn", START - timedelta(minutes=5), now)
    assert len(after) == 350
    assert "order_total_amount" in after.columns and "total_order_amount" not in after.columns
    assert after["avg_order_value_90d"].isna().mean() == pytest.approx(0.942, abs=0.04)
    assert (after["prediction"] > 0.5).mean() == pytest.approx(0.62, abs=0.07)
    before = env.predictions.samples(
        "churn", START - timedelta(hours=3), START - timedelta(minutes=10)
    )
    assert "total_order_amount" in before.columns and "order_total_amount" not in before.columns
    assert before["avg_order_value_90d"].isna().mean() < 0.02
    assert {"plan_type", "region", "ts", "version", "prediction", "label"} <= set(before.columns)
    basic = env.predictions.samples(
        "churn", START - timedelta(hours=1), START, segment={"plan_type": "basic"}
    )
    assert len(basic) and set(basic["plan_type"]) == {"basic"}


def test_pausing_the_batch_job_reverts_scores_but_not_the_nulls(env):
    env.world.inject("athena-null-feature")
    env.traffic.pause_batch("churn", actor="oncall")
    assert env.traffic.batch_paused("churn")
    env.minutes(1)
    assert env.q("positive_rate", "churn") > 0.4  # scores drain over a few minutes
    env.minutes(9)
    assert env.q("positive_rate", "churn") == pytest.approx(0.14, abs=0.01)
    assert env.q("null_rate:avg_order_value_90d", "churn") == pytest.approx(0.942, abs=5e-4)
    assert alert(env, "PositiveRateShift", "churn") is None
    assert alert(env, "FeatureNullRateHigh", "churn") is not None
    env.traffic.resume_batch("churn", actor="oncall")
    env.minutes(10)
    assert env.q("positive_rate", "churn") == pytest.approx(0.62, abs=0.01)
    env.world.clear("athena-null-feature")
    assert env.world.active_faults() == []
    env.minutes(1)
    assert env.q("null_rate:avg_order_value_90d", "churn") > 0.5
    env.minutes(10)
    assert env.q("null_rate:avg_order_value_90d", "churn") < 0.02
    assert alert(env, "FeatureNullRateHigh", "churn") is None
    with pytest.raises(ActionRefused):
        env.traffic.pause_batch("fraud", actor="oncall")


def test_credit_score_drift_has_z_4_7_and_recovers_after_rollback(env):
    facts = env.world.inject("credit-score-shift")
    assert facts["onset"] == START - timedelta(hours=6) and facts["good_version"] == "v4"
    assert env.q("prediction_mean", "credit-score") == pytest.approx(580, abs=4)
    hourly = env.hourly("prediction_mean", "credit-score")
    z = (hourly[-1] - hourly[:-1].mean()) / hourly[:-1].std(ddof=1)
    assert z == pytest.approx(-4.7, abs=0.2)
    a = alert(env, "PredictionMeanZScore", "credit-score")
    assert a.value == pytest.approx(z, abs=1e-6) and a.labels["version"] == "v5"
    assert a.summary.endswith("(threshold 3.0)")

    env.traffic.set_routes("credit-score", {"v4": 100}, actor="oncall")
    env.minutes(1)
    assert env.q("prediction_mean", "credit-score") < 630  # still draining
    env.minutes(9)
    assert env.q("prediction_mean", "credit-score") == pytest.approx(645, abs=4)
    assert env.q("prediction_mean", "credit-score", version="v4") == pytest.approx(645, abs=4)
    env.traffic.set_routes("credit-score", {"v5": 100}, actor="oncall")
    env.minutes(10)
    assert env.q("prediction_mean", "credit-score") == pytest.approx(580, abs=4)


def test_segment_drift_hides_from_global_metrics(env, make_env):
    clean = make_env("clean")
    facts = env.world.inject("segment-drift")
    assert facts["segment"] == {"channel": "mobile", "user_tenure": "new"}
    assert env.q("false_positive_rate:mobile_new", "fraud") == pytest.approx(0.09, abs=0.004)
    drift = env.q("false_positive_rate", "fraud") - clean.q("false_positive_rate", "fraud")
    assert 0.001 < drift <= 0.002
    a = alert(env, "SegmentFalsePositiveRateHigh", "fraud")
    assert a.labels["segment"] == "channel=mobile,user_tenure=new"
    onset = facts["onset"]
    now = env.minutes(180)
    ref = env.predictions.samples("fraud", START - timedelta(hours=20), onset)
    cur = env.predictions.samples("fraud", onset + timedelta(minutes=30), now)
    seg = {"channel": "mobile", "user_tenure": "new"}
    ref_seg = env.predictions.samples("fraud", START - timedelta(hours=20), onset, segment=seg)
    cur_seg = env.predictions.samples("fraud", onset + timedelta(minutes=30), now, segment=seg)
    assert len(cur_seg) > 100 and set(cur_seg["channel"]) == {"mobile"}
    col = "device_risk_score"
    assert psi(ref[col].to_numpy(), cur[col].to_numpy()) < 0.1
    assert psi(ref_seg[col].to_numpy(), cur_seg[col].to_numpy()) > 0.2
    env.traffic.set_routes("fraud", {"v20": 100}, actor="oncall")
    env.minutes(10)
    assert env.q("false_positive_rate:mobile_new", "fraud") < 0.03


def test_concept_drift_raises_losses_while_accuracy_signals_hold(env, make_env):
    clean = make_env("clean")
    facts = env.world.inject("fraud-concept-drift")
    ratio = env.q("fraud_loss_rate", "fraud") / clean.q("fraud_loss_rate", "fraud")
    assert ratio == pytest.approx(1.4, abs=0.005)
    for signal in ("error_rate", "positive_rate", "prediction_mean"):
        assert env.q(signal, "fraud") == clean.q(signal, "fraud")
    assert alert(env, "FraudLossRateHigh", "fraud") is not None
    assert alert(clean, "FraudLossRateHigh", "fraud") is None
    window = (facts["onset"], START)
    rows = env.predictions.samples("fraud", *window)
    base = clean.predictions.samples("fraud", *window)
    pattern = (rows["merchant_category"] == "gift_cards") & (rows["device_risk_score"] < 0.3)
    assert rows.loc[pattern, "label"].mean() > base.loc[pattern, "label"].mean() + 0.05
    drifted = env.q("fraud_loss_rate", "fraud")
    env.traffic.set_routes("fraud", {FALLBACK_RULES: 100}, actor="oncall")
    env.minutes(10)
    assert env.q("fraud_loss_rate", "fraud") < 0.9 * drifted
