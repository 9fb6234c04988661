"""Which signal shows an incident (one function for the post-mortem's charts and the
console's incident view), and fetching the incident window's signals for the charts; every
failure becomes a note."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from console.backends.types import ModelInfo, Point
from console.errors import BackendError
from console.reports.signals import (
    chart_signals,
    fetch_series,
    incident_signal,
    incident_window,
)

from .conftest import NOW, at


class FakeMetrics:
    def __init__(self):
        self.calls = []

    def query_range(self, signal, model, start, end, *, step_seconds=60):
        self.calls.append((signal, model, start, end, step_seconds))
        if signal == "broken":
            raise BackendError("timed out")
        if signal == "empty":
            return [Point(start, None)]
        return [Point(start + timedelta(minutes=i), 0.1 * i) for i in range(3)]


def workspace(metrics):
    registry = SimpleNamespace(
        models=lambda: [ModelInfo("churn", serving_pattern="batch", key_signal="positive_rate")]
    )
    return SimpleNamespace(backends=SimpleNamespace(metrics=metrics, registry=registry))


def test_window_and_signals(drill_incident):
    inc, events = drill_incident
    assert incident_window(inc, now=NOW) == (at(6, 15), at(7, 46))  # onset−15 → resolved+15
    churn = ModelInfo("churn", serving_pattern="batch", key_signal="positive_rate")
    # the null-rate alert names the cause; the impact shows in the positive rate
    assert incident_signal(inc, churn) == "positive_rate"
    assert chart_signals(inc, churn, events) == [
        "positive_rate",
        "null_rate:avg_order_value_90d",
    ]
    # never the simulated world's own list of signals (its facts)
    assert inc.data["facts"]["signals"]
    inc.data["facts"]["signals"] = ["latency_p99_ms"]
    assert "latency_p99_ms" not in chart_signals(inc, churn, events)


def incident(store, labels=None, **data):
    alert = {"name": "A", "labels": labels} if labels is not None else None
    return store.create_incident(
        title="t",
        model="fraud",
        severity="SEV2",
        env="demo",
        actor="alerting",
        at=at(7, 0),
        data={**({"alert": alert} if alert else {}), **data},
    )


FRAUD = ModelInfo("fraud", key_signal="latency_p99_ms")


@pytest.mark.parametrize(
    ("labels", "info", "expected"),
    [
        # the alert's own signal, not the model's fixed key signal (latency for fraud)
        ({"signal": "fraud_loss_rate"}, FRAUD, "fraud_loss_rate"),
        (
            {"signal": "false_positive_rate:mobile_new", "segment": "x"},
            FRAUD,
            "false_positive_rate:mobile_new",
        ),
        ({"signal": "latency_p99_ms"}, FRAUD, "latency_p99_ms"),
        ({"signal": "output_diversity"}, None, "output_diversity"),
        # an alert on an input: what the model says shows the impact
        (
            {"signal": "null_rate:f", "feature": "f"},
            ModelInfo("c", key_signal="positive_rate"),
            "positive_rate",
        ),
        ({"feature": "f"}, ModelInfo("c", key_signal="positive_rate"), "positive_rate"),
        # ... unless nothing else is known
        ({"feature": "f"}, None, "null_rate:f"),
        # no signal on the alert (a Prometheus rule without a signal label): the key signal
        ({"severity": "page"}, FRAUD, "latency_p99_ms"),
        ({}, None, "error_rate"),
    ],
)
def test_incident_signal_is_the_alerts_own_signal(store, labels, info, expected):
    assert incident_signal(incident(store, labels), info) == expected


def test_an_incident_without_an_alert_shows_the_key_signal(store):
    inc = incident(store)
    assert incident_signal(inc, FRAUD) == "latency_p99_ms"
    assert incident_signal(inc, None) == "error_rate"


def test_the_charts_add_the_signal_the_recovery_watch_judged(store):
    from console.enums import EventKind

    inc = incident(store, {"signal": "null_rate:f", "feature": "f"}, signals=["error_rate"])
    store.append(
        inc.id,
        EventKind.RECOVERY_WATCHING,
        "watching recovery",
        actor="rollbook",
        at=at(7, 5),
        payload={"rule": {"signal": "prediction_mean", "op": "within"}},
    )
    info = ModelInfo("fraud", key_signal="positive_rate")
    assert chart_signals(inc, info, store.events(inc.id)) == [
        "positive_rate",
        "null_rate:f",
        "prediction_mean",
        "error_rate",
    ]


def test_fetch_series_keeps_what_answers_and_notes_the_rest(store):
    inc = store.create_incident(
        title="t",
        model="churn",
        severity="SEV3",
        env="demo",
        actor="alerting",
        at=at(6, 0),
        data={"signals": ["broken", "empty", "error_rate"]},
    )
    metrics = FakeMetrics()
    series, note = fetch_series(workspace(metrics), inc, now=at(6, 30))
    assert list(series) == ["positive_rate", "error_rate"]
    assert len(series["error_rate"]) == 3
    assert "broken (timed out)" in note and "empty (no data)" in note
    assert all(c[1] == "churn" and c[4] == 60 for c in metrics.calls)
    series, note = fetch_series(SimpleNamespace(), inc, now=at(6, 30))
    assert series == {} and "No metrics backend" in note
