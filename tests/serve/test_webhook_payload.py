"""Reading Alertmanager's webhook payload (``console.intake_webhook.parse_payload``): the
envelope must be version 4 JSON with a list of alerts; a malformed alert is skipped with
its reason, the group's other alerts are kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from console.intake_webhook import PayloadError, parse_payload, parse_rfc3339
from tests.serve.payloads import T_FIRE, am_alert, body, payload


def test_a_firing_alert_is_read_as_the_alertmanager_plugin_reads_one():
    batch = parse_payload(body(am_alert(feature="avg_order_value_90d")))
    assert batch.receiver == "rollbook" and batch.status == "firing" and not batch.skipped
    (a,) = batch.alerts
    assert a.name == "FeatureNullRateHigh" and a.model == "churn"
    assert a.fingerprint == "a1b2c3d4e5f60718"  # Alertmanager's own, not recomputed
    assert a.state == "firing" and a.severity == "warning"
    assert a.starts_at == T_FIRE.replace(microsecond=123456)  # nanoseconds cut, UTC kept
    assert a.value == pytest.approx(0.942)
    assert a.labels["feature"] == "avg_order_value_90d"
    assert a.summary == "churn: FeatureNullRateHigh"


def test_resolved_alerts_and_the_model_label_from_config():
    doc = payload(am_alert(status="resolved", model="", service="pricing"))
    batch = parse_payload(json.dumps(doc), model_label="service")
    (a,) = batch.alerts
    assert a.state == "resolved" and a.model == "pricing"
    # the same alert read with the default label has no model: skipped, with the reason
    batch = parse_payload(json.dumps(doc))
    assert not batch.alerts
    assert "no 'model' label" in batch.skipped[0].reason


def test_severity_defaults_to_warning_and_values_that_are_no_number_are_none():
    alerts = [
        am_alert(fingerprint="f1", value="NaN"),
        am_alert(fingerprint="f2", value="+Inf"),
        am_alert(fingerprint="f3", value="churn is high"),
        am_alert(fingerprint="f4", value=None),
    ]
    alerts[0]["labels"].pop("severity")
    batch = parse_payload(body(*alerts))
    assert [a.value for a in batch.alerts] == [None, None, None, None]
    assert batch.alerts[0].severity == "warning"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),  # not UTF-8
        (b"", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # nesting deeper than the parser goes
        (b"[]", "a JSON list, not an object"),
        (json.dumps(payload(am_alert(), version="5")).encode(), "version '5' is not supported"),
        (json.dumps(payload(am_alert(), version=4)).encode(), "version 4 is not supported"),
        (json.dumps({"alerts": []}).encode(), "has no version"),
        (json.dumps(payload(alerts={"a": 1})).encode(), "no list of alerts"),
    ],
)
def test_an_envelope_that_is_not_a_version_4_payload_is_refused_with_the_reason(raw, reason):
    with pytest.raises(PayloadError) as err:
        parse_payload(raw)
    assert reason in err.value.message
    assert err.value.exit_code == 7  # InvalidInput


def test_a_malformed_alert_is_skipped_with_its_reason_and_the_others_kept():
    good = am_alert(fingerprint="0000000000000001")
    no_fp = am_alert(fingerprint="")
    bad_status = am_alert(fingerprint="0000000000000003", status="pending")
    bad_time = am_alert(fingerprint="0000000000000004")
    bad_time["startsAt"] = "yesterday"
    no_labels = am_alert(fingerprint="0000000000000005")
    no_labels["labels"] = {}
    batch = parse_payload(body(good, no_fp, bad_status, bad_time, no_labels, "oops"))
    assert [a.fingerprint for a in batch.alerts] == ["0000000000000001"]
    reasons = {s.index: s.reason for s in batch.skipped}
    assert reasons == {
        1: "no fingerprint",
        2: "status 'pending' is neither firing nor resolved",
        3: "startsAt 'yesterday' is not an RFC 3339 time",
        4: "no labels",
        5: "not an object but a JSON str",
    }
    assert batch.skipped[1].fingerprint == "0000000000000003"


def test_truncated_alerts_are_reported():
    assert parse_payload(body(am_alert(), truncatedAlerts=7)).truncated == 7
    assert parse_payload(body(am_alert(), truncatedAlerts="x")).truncated == 0


def test_rfc3339_times():
    assert parse_rfc3339("2026-11-22T06:47:00Z") == T_FIRE
    assert parse_rfc3339("2026-11-22T08:47:00.5+02:00") == T_FIRE + timedelta(seconds=0.5)
    assert parse_rfc3339("2026-11-22T06:47:00.999999999Z") == T_FIRE.replace(microsecond=999999)
    # Go's zero time is "not set" (a firing alert's endsAt), not the year 1
    assert parse_rfc3339("0001-01-01T00:00:00Z") is None
    for bad in ("", None, 1700000000, "2026-11-22T06:47:00", "2026-13-01T00:00:00Z"):
        assert parse_rfc3339(bad) is None, bad
    assert parse_rfc3339("2026-11-22T06:47:00Z").tzinfo is not None
    assert datetime(2026, 11, 22, 6, 47, tzinfo=UTC) == parse_rfc3339(" 2026-11-22T06:47:00Z ")
