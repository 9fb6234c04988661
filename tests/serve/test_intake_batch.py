"""``console.intake.intake``: the one function that turns alerts into incidents for both
``alerts --open`` (polled) and ``rollbook serve`` (pushed). Idempotent per fingerprint:
Alertmanager resends a whole group every repeat_interval."""

from __future__ import annotations

import pytest

from console.intake import intake
from console.intake_webhook import parse_payload
from console.workspace import open_workspace
from tests.serve.payloads import am_alert, body

NULLS = {"feature": "avg_order_value_90d", "signal": "positive_rate"}


@pytest.fixture
def ws(clock):
    with open_workspace("demo", clock=clock) as ws:
        yield ws


def alerts(*raw):
    return parse_payload(body(*raw)).alerts


def n_events(ws) -> int:
    return len(ws.store.events(all_incidents=True))


def alert_events(ws, incident_id):
    return [
        (e.kind, e.payload["fingerprint"])
        for e in ws.store.events(incident_id, kind_prefix="alert.")
    ]


def test_a_firing_alert_opens_one_incident_with_its_runbook_and_a_resend_writes_nothing(ws):
    (row,) = intake(ws, alerts(am_alert(**NULLS)))
    assert row.outcome == "opened" and row.created
    inc = row.incident
    assert inc.runbook == "null-feature" and inc.model == "churn"
    assert inc.alert_fingerprint == "a1b2c3d4e5f60718"
    # the alert says warning (SEV3 in the [severity] map); the runbook's SEV2 is more severe
    assert inc.severity == "SEV2"
    assert alert_events(ws, inc.id) == [("alert.firing", "a1b2c3d4e5f60718")]
    before = n_events(ws)
    for _ in range(3):  # Alertmanager's repeat_interval resends
        (again,) = intake(ws, alerts(am_alert(**NULLS)))
        assert again.outcome == "repeat" and again.incident.id == inc.id and not again.created
    assert n_events(ws) == before
    assert len(ws.store.list()) == 1


def test_a_group_opens_one_incident_for_its_model_the_most_severe_alert_first(ws):
    group = alerts(
        am_alert(fingerprint="00000000000000aa", **NULLS),
        am_alert("ModelPositiveRateShift", fingerprint="00000000000000bb", severity="critical"),
    )
    rows = intake(ws, group)
    assert [(r.alert.fingerprint, r.outcome) for r in rows] == [
        ("00000000000000bb", "opened"),  # critical before warning
        ("00000000000000aa", "joined"),
    ]
    assert rows[0].incident.id == rows[1].incident.id
    before = n_events(ws)
    assert [r.outcome for r in intake(ws, group)] == ["repeat", "repeat"]
    assert n_events(ws) == before


def test_a_resolved_alert_is_recorded_once_with_its_value_at_resolution(ws):
    (opened,) = intake(ws, alerts(am_alert(**NULLS)))
    (row,) = intake(ws, alerts(am_alert(status="resolved", **NULLS)))
    assert row.outcome == "resolved" and row.incident.id == opened.incident.id
    (ev,) = ws.store.events(opened.incident.id, kind_prefix="alert.resolved")
    assert ev.payload["fingerprint"] == "a1b2c3d4e5f60718"
    assert ev.payload["signal"] == "positive_rate"
    # read from the metrics backend at resolution, not the value the alert fired with
    assert isinstance(ev.payload["value"], float)
    assert ev.payload["firing_value"] == pytest.approx(0.942)
    assert "at resolution" in ev.message
    # the incident stays open: resolving it is a person's call (or the runbook's)
    assert ws.store.get(opened.incident.id).is_open
    before = n_events(ws)
    (again,) = intake(ws, alerts(am_alert(status="resolved", **NULLS)))
    assert again.outcome == "already_resolved" and n_events(ws) == before


def test_a_resolution_nobody_saw_fire_writes_nothing(ws):
    (row,) = intake(ws, alerts(am_alert(status="resolved", **NULLS)))
    assert row.outcome == "no_incident" and row.incident is None
    assert n_events(ws) == 0 and ws.store.list() == []


def test_an_alert_that_fires_again_after_resolving_is_recorded_firing_again(ws):
    (opened,) = intake(ws, alerts(am_alert(**NULLS)))
    intake(ws, alerts(am_alert(status="resolved", **NULLS)))
    (row,) = intake(ws, alerts(am_alert(**NULLS)))
    assert row.outcome == "refired" and row.incident.id == opened.incident.id
    assert [k for k, _ in alert_events(ws, opened.incident.id)] == [
        "alert.firing",
        "alert.resolved",
        "alert.firing",
    ]
    (again,) = intake(ws, alerts(am_alert(**NULLS)))
    assert again.outcome == "repeat"


def test_a_joined_alert_resolves_and_refires_on_its_models_incident(ws):
    intake(ws, alerts(am_alert("ModelPositiveRateShift", fingerprint="00000000000000bb")))
    side = dict(fingerprint="00000000000000aa", **NULLS)
    (joined,) = intake(ws, alerts(am_alert(**side)))
    assert joined.outcome == "joined"
    (resolved,) = intake(ws, alerts(am_alert(status="resolved", **side)))
    assert resolved.outcome == "resolved" and resolved.incident.id == joined.incident.id
    (refired,) = intake(ws, alerts(am_alert(**side)))
    assert refired.outcome == "refired"
    assert [k for k, fp in alert_events(ws, joined.incident.id) if fp.endswith("aa")] == [
        "alert.firing",
        "alert.resolved",
        "alert.firing",
    ]
    assert len(ws.store.list()) == 1


def test_without_open_incidents_nothing_is_written(ws):
    rows = intake(ws, alerts(am_alert(**NULLS)), open_incidents=False)
    assert [r.outcome for r in rows] == ["listed"] and rows[0].incident is None
    assert n_events(ws) == 0
    intake(ws, alerts(am_alert(**NULLS)))
    before = n_events(ws)
    (row,) = intake(ws, alerts(am_alert(status="resolved", **NULLS)), open_incidents=False)
    assert row.incident is not None and n_events(ws) == before


def test_alerts_open_goes_through_the_same_intake(ws, monkeypatch):
    """`alerts --open` (console.intake.intake_alerts) applies the backend's firing alerts
    with intake(), so both front ends record the same thing."""
    import console.intake as module

    seen = []
    real = module.intake

    def spy(ws_, batch, **kw):
        seen.append([a.fingerprint for a in batch])
        return real(ws_, batch, **kw)

    monkeypatch.setattr(module, "intake", spy)
    ws.backends.world.inject("pricing-zero")
    rows = module.intake_alerts(ws)
    assert rows and seen and sorted(seen[0]) == sorted(r.alert.fingerprint for r in rows)
    assert {r.outcome for r in rows} <= {"opened", "joined"}
