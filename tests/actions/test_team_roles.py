"""Roles and severity changes go on the timeline; presence says who is looking now and
expires on its own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from console.demo import start_demo
from console.errors import InvalidInput
from console.team import assign, here, roles, set_severity


def test_roles_and_severity_are_recorded(ws, rollbook):
    state = start_demo(ws, "athena-null-feature")
    iid = state.incident.id
    code, out, _ = rollbook("incident", "assign", iid, "ana", "--role", "commander", "--json")
    assert code == 0 and json.loads(out)["incident"]["data"]["roles"] == {"commander": "ana"}
    inc = assign(ws, iid, "commander", "ben")
    assert roles(inc) == {"commander": "ben"}
    [first, second] = ws.store.events(iid, kind_prefix="incident.assigned")
    assert second.message == "commander: ben (was ana)" and second.payload["before"] == "ana"
    code, _, err = rollbook("incident", "severity", iid, "SEV1", "--why", "revenue at risk")
    assert code == 0, err
    [ev] = ws.store.events(iid, kind_prefix="incident.severity")
    assert ev.payload == {**ev.payload, "from": "SEV2", "to": "SEV1", "why": "revenue at risk"}
    assert ws.store.get(iid).severity == "SEV1"
    with pytest.raises(InvalidInput, match="say why"):
        set_severity(ws, iid, "SEV2", " ")
    code, _, _ = rollbook("incident", "assign", iid, "x", "--role", "janitor")
    assert code == 2


def test_presence_expires_on_its_own(ws, clock):
    state = start_demo(ws, "athena-null-feature")
    iid = state.incident.id
    assert here(ws, iid) == ["tester"]
    ws.store.heartbeat(iid, "ana", ws.now())
    assert here(ws, iid) == ["ana", "tester"]
    clock.advance(seconds=45)
    assert here(ws, iid) == ["tester"]  # ana left 45 s ago; tester just looked again
    assert ws.store.viewers(iid, ws.now() - timedelta(seconds=1)) == [("tester", ws.now())]


def test_the_postmortem_lists_the_responders_and_their_roles(ws, clock):
    from console.reports.postmortem import build_postmortem, render_postmortem

    state = start_demo(ws, "athena-null-feature")
    iid = state.incident.id
    assign(ws, iid, "commander", "ana")
    assign(ws, iid, "scribe", "ben")
    clock.advance(minutes=20)
    handed = ws.now()
    assign(ws, iid, "commander", "cleo")  # ana hands command on
    ws.store.append(iid, "note", "looked at the feature store", actor="dee", at=ws.now())
    inc = ws.store.get(iid)
    events = ws.store.events(iid)
    rows = build_postmortem(inc, events, now=ws.now())["responders"]
    assert rows[:3] == [
        {"person": "cleo", "roles": ["commander"]},
        {"person": "ben", "roles": ["scribe"]},
        {"person": "ana", "roles": [f"commander until {handed:%H:%M}"]},
    ]
    assert {"person": "dee", "roles": []} in rows
    md = render_postmortem(inc, events, now=ws.now(), fmt="md")
    line = next(x for x in md.splitlines() if x.startswith("| Responders |"))
    assert "cleo (commander), ben (scribe), ana (commander until" in line and "dee" in line


def test_presence_lasts_30_wall_seconds_under_a_faster_demo_clock(ws):
    import time

    from console.clock import ScaledClock
    from console.team import presence_ttl

    assert presence_ttl(ws) == timedelta(seconds=30)  # a clock at wall speed
    ws.backends.clock = ScaledClock(ws.now(), time.time(), speed=120)
    iid = start_demo(ws, "athena-null-feature").incident.id
    ws.store.heartbeat(iid, "ana", ws.now())
    # ana's heartbeat is 10 wall seconds old: 20 simulated minutes at 120x
    ws.backends.clock = ScaledClock(ws.now() + timedelta(minutes=20), time.time(), speed=120)
    assert presence_ttl(ws) == timedelta(hours=1)
    assert "ana" in here(ws, iid)
