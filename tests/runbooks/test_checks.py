"""Each check on the embedded world, against the scenario that exercises it."""

from __future__ import annotations

import json
import math

from tests.runbooks.helpers import open_scenario, run_check


def json_safe(outcome) -> None:
    text = json.dumps(
        {"values": outcome.values, "evidence": outcome.evidence}, default=str, allow_nan=False
    )
    assert text


def test_null_feature_checks_find_the_feature_and_the_rename(ws):
    inc, rb = open_scenario(ws, "athena-null-feature")
    assert rb.id == "null-feature"

    nulls = run_check(ws, inc.id, "null_rate", threshold=0.02)
    assert nulls.values["top_feature"] == "avg_order_value_90d"
    assert math.isclose(nulls.values["max_null_rate"], 0.942, abs_tol=0.005)
    assert nulls.healthy is False and nulls.values["breaker"] is True

    schema = run_check(ws, inc.id, "schema_diff")
    assert schema.values["rename_from"] == "total_order_amount"
    assert schema.values["rename_to"] == "order_total_amount"
    assert "total_order_amount → order_total_amount" in schema.summary
    assert schema.evidence["suggestion"] == "total_order_amount → order_total_amount"

    drift = run_check(ws, inc.id, "drift")
    assert drift.values["top_feature"] == "avg_order_value_90d"
    assert drift.values["top_severity"] == "significant"
    assert drift.evidence["features"][0]["name"] == "avg_order_value_90d"
    json_safe(drift)

    quality = run_check(ws, inc.id, "data_quality")
    assert quality.values["worst_column"] == "avg_order_value_90d"
    assert quality.values["breaker"] is True

    lineage = run_check(ws, inc.id, "lineage_diff")
    assert lineage.values["deployed_recently"] is False  # nothing deployed: the data moved
    assert "nothing deployed" in lineage.summary
    assert lineage.values["from"] == "v12" and lineage.values["to"] == "v13"

    shift = run_check(ws, inc.id, "prediction_shift")
    assert shift.values["rate_anomalous"] is True and shift.healthy is False
    assert shift.values["rate_deviation_pp"] > 10
    for o in (nulls, schema, quality, lineage, shift):
        json_safe(o)


def test_recovery_polls_on_the_manual_clock(ws, clock):
    inc, _ = open_scenario(ws, "athena-null-feature")
    ws.backends.traffic.pause_batch("churn", actor="tester")
    before = clock.now()
    out = run_check(ws, inc.id, "recovery", signal="positive_rate", op="<=", threshold=0.24)
    assert out.healthy is True and out.values["recovered"] is True
    assert 1 <= (clock.now() - before).total_seconds() / 60 <= 10
    assert out.evidence["readings"][-1]["value"] <= 0.24

    never = run_check(
        ws,
        inc.id,
        "recovery",
        signal="null_rate:avg_order_value_90d",
        op="<=",
        threshold=0.02,
        deadline_minutes=3,
    )
    assert never.healthy is False and "still" in never.summary


def test_output_diversity_and_revenue(ws):
    inc, rb = open_scenario(ws, "constant-recommendations")
    assert rb.id == "constant-output"
    div = run_check(ws, inc.id, "output_diversity")
    assert div.healthy is False and div.values["collapsed"] is True
    assert div.values["top_value"] == 48213
    revenue = run_check(
        ws,
        inc.id,
        "business_metric",
        signal="revenue_per_hour",
        direction="down",
        max_change_pct=10,
    )
    assert revenue.healthy is False and revenue.values["change_pct"] < -10


def test_latency_and_canary_name_the_canary(ws):
    inc, rb = open_scenario(ws, "canary-latency-spike")
    assert rb.id == "canary-latency"
    lat = run_check(ws, inc.id, "latency")
    assert lat.healthy is False and lat.values["worst_version"] == "v22"
    assert lat.values["by_version"]["v22"] > 100 > lat.values["by_version"]["v21"]
    canary = run_check(ws, inc.id, "canary", signal="error_rate", minutes=5)
    assert canary.values["treatment"] == "v22" and canary.values["control"] == "v21"
    assert canary.values["decision"] in ("promote", "rollback", "inconclusive")
    json_safe(canary)


def test_error_rate_and_recent_deploy(ws):
    inc, rb = open_scenario(ws, "pricing-zero")
    assert rb.id == "pricing-zero"
    err = run_check(ws, inc.id, "error_rate")
    assert err.healthy is False and err.values["value"] > 0.9
    lineage = run_check(ws, inc.id, "lineage_diff")
    assert lineage.values["deployed_recently"] is True
    assert 2.5 < lineage.values["hours_since_deploy"] < 3.5
    assert lineage.values["code_changed"] is True
    mt = run_check(ws, inc.id, "metric_threshold", signal="error_rate", op="<=", threshold=0.05)
    assert mt.healthy is False


def test_prediction_shift_and_bad_feed(ws):
    inc, rb = open_scenario(ws, "credit-score-shift")
    assert rb.id == "prediction-shift"
    shift = run_check(ws, inc.id, "prediction_shift")
    assert shift.values["mean_anomalous"] is True and abs(shift.values["z"]) > 3
    quality = run_check(ws, inc.id, "data_quality")
    assert {"income", "debt_to_income"} & set(quality.values["critical"])
    drift = run_check(ws, inc.id, "drift")
    assert drift.values["top_feature"] in ("income", "debt_to_income")


def test_segment_drift_is_hidden_by_global(ws):
    inc, rb = open_scenario(ws, "segment-drift")
    assert rb.id == "segment-drift"
    seg = run_check(ws, inc.id, "segment_drift", by=["channel", "user_tenure"], current_hours=3)
    assert seg.values["worst_segment"] == "mobile/new"
    assert seg.values["worst_feature"] == "device_risk_score"
    assert "mobile/new" in seg.values["hidden"]
    assert seg.healthy is False
    json_safe(seg)


def test_business_metric_and_alert_cleared(ws):
    inc, rb = open_scenario(ws, "fraud-concept-drift")
    assert rb.id == "concept-drift"
    loss = run_check(ws, inc.id, "business_metric", signal="fraud_loss_rate")
    assert loss.healthy is False and loss.values["change_pct"] > 20
    ws.backends.world.clear("fraud-concept-drift")
    cleared = run_check(ws, inc.id, "alert_cleared", deadline_minutes=30)
    assert cleared.healthy is True and cleared.values["cleared"] is True
