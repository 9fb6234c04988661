"""Fetching the incident window's signals for the charts; every failure becomes a note."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from console.backends.types import Point
from console.errors import BackendError
from console.reports.signals import fetch_series, incident_window, key_signals

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
        models=lambda: [SimpleNamespace(name="churn", key_signal="positive_rate")]
    )
    return SimpleNamespace(backends=SimpleNamespace(metrics=metrics, registry=registry))


def test_window_and_signals(drill_incident):
    inc, _ = drill_incident
    assert incident_window(inc, now=NOW) == (at(6, 15), at(7, 46))  # onset−15 → resolved+15
    assert key_signals(inc, "positive_rate") == [
        "null_rate:avg_order_value_90d",
        "positive_rate",
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
    assert list(series) == ["error_rate", "positive_rate"]
    assert len(series["error_rate"]) == 3
    assert "broken (timed out)" in note and "empty (no data)" in note
    assert all(c[1] == "churn" and c[4] == 60 for c in metrics.calls)
    series, note = fetch_series(SimpleNamespace(), inc, now=at(6, 30))
    assert series == {} and "No metrics backend" in note
