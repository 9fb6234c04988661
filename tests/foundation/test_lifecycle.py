"""The incident's lifecycle rules (console.lifecycle): phases, milestones, what implies what."""

from datetime import timedelta

import pytest

from console import lifecycle
from console.errors import InvalidTransition
from console.store import IncidentStore
from tests.conftest import T0


@pytest.fixture
def store(tmp_path):
    with IncidentStore(tmp_path / "incidents.db") as s:
        yield s


def make(store):
    return store.create_incident(
        title="null rate", model="churn", severity="SEV2", env="demo", actor="alerting", at=T0
    )


def kinds(store, iid):
    return [e.kind for e in store.events(iid)]


def test_phases_only_move_forward_recording_each_phase_passed(store):
    inc = make(store)
    inc = lifecycle.enter_phase(store, inc.id, "mitigate", actor="a", at=T0)
    assert inc.phase == "mitigate"
    assert [e.payload for e in store.events(inc.id) if e.kind == "phase.changed"] == [
        {"from": "detect", "to": "triage"},
        {"from": "triage", "to": "mitigate"},
    ]
    n = len(store.events(inc.id))
    assert lifecycle.enter_phase(store, inc.id, "detect", actor="a", at=T0).phase == "mitigate"
    assert len(store.events(inc.id)) == n  # going back changes and writes nothing
    with pytest.raises(InvalidTransition, match="unknown phase"):
        lifecycle.enter_phase(store, inc.id, "panic", actor="a", at=T0)


def test_a_later_milestone_implies_the_required_earlier_ones_at_the_same_moment(store):
    inc = make(store)
    at = T0 + timedelta(minutes=6)
    inc = lifecycle.mark(store, inc.id, "mitigated", actor="a", at=at)
    assert inc.acknowledged_at == at and inc.mitigated_at == at
    assert inc.mitigation_applied_at is None  # never implied: nothing was applied
    assert inc.status == "mitigated" and inc.is_open
    assert kinds(store, inc.id)[-2:] == ["incident.acknowledged", "incident.mitigated"]
    # marking again changes nothing and writes nothing
    n = len(store.events(inc.id))
    lifecycle.mark(store, inc.id, "mitigated", actor="a", at=at + timedelta(minutes=3))
    assert store.get(inc.id).mitigated_at == at and len(store.events(inc.id)) == n
    inc = lifecycle.mark(store, inc.id, "resolved", actor="a", at=T0 + timedelta(minutes=30))
    assert not inc.is_open and inc.status == "resolved"


def test_a_milestone_time_never_precedes_an_earlier_milestone(store):
    inc = make(store)
    inc = lifecycle.acknowledge(store, inc.id, actor="a", at=T0 - timedelta(minutes=1))
    assert inc.acknowledged_at == T0  # raised to the detection
    with pytest.raises(InvalidTransition, match="unknown milestone"):
        lifecycle.mark(store, inc.id, "detected", actor="a", at=T0)


def test_mitigation_applied_moves_to_mitigate_and_implies_the_acknowledgement(store):
    inc = make(store)
    at = T0 + timedelta(minutes=3)
    inc = lifecycle.mitigation_applied(
        store, inc.id, actor="ana", at=at, action="rollback", summary="v13 → v12", action_id="x1"
    )
    assert inc.phase == "mitigate" and inc.status == "mitigating"
    assert inc.acknowledged_at == at and inc.mitigation_applied_at == at
    assert inc.mitigated_at is None  # applied is not recovered
    [ev] = [e for e in store.events(inc.id) if e.kind == "incident.mitigation_applied"]
    assert ev.payload["action"] == "rollback" and ev.payload["action_id"] == "x1"
    # a second mitigation keeps the first time
    later = at + timedelta(minutes=5)
    inc = lifecycle.mitigation_applied(
        store, inc.id, actor="ana", at=later, action="killswitch", summary="rules"
    )
    assert inc.mitigation_applied_at == at


def test_mitigated_takes_the_time_the_signal_was_seen_back(store):
    inc = make(store)
    lifecycle.mitigation_applied(
        store, inc.id, actor="ana", at=T0 + timedelta(minutes=3), action="rollback", summary="x"
    )
    seen = T0 + timedelta(minutes=7)
    inc = lifecycle.mitigated(
        store,
        inc.id,
        actor="rollbook",
        at=T0 + timedelta(minutes=9),
        observed_at=seen,
        message="positive_rate back",
    )
    assert inc.mitigated_at == seen and inc.status == "mitigated"
    [ev] = [e for e in store.events(inc.id) if e.kind == "incident.mitigated"]
    assert ev.ts == T0 + timedelta(minutes=9)  # the event is written when it was recorded


def test_status_never_moves_back(store):
    inc = make(store)
    lifecycle.mark(store, inc.id, "resolved", actor="a", at=T0 + timedelta(minutes=5))
    inc = lifecycle.mitigation_applied(
        store, inc.id, actor="a", at=T0 + timedelta(minutes=6), action="restore", summary="x"
    )
    assert inc.status == "resolved"
