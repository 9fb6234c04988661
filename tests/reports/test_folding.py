"""The post-mortem folds repeated events: every distinct event keeps its row, the rows say
how many events they stand for, nothing folds across an action or a milestone, and the
record's readers answer over the one-pass digest as over the whole timeline."""

from __future__ import annotations

import random
from datetime import timedelta

from console import lifecycle
from console.reports import record
from console.reports.postmortem import build_postmortem, read_record, render_postmortem
from console.reports.timeline import TimelineFolder, is_boundary

from .conftest import NOW, at, build_drill_incident

BOT = "still degraded: churn positive rate above 24%"


def _open(store):
    return store.create_incident(
        title="churn positive rate 62%",
        model="churn",
        severity="SEV2",
        env="demo",
        actor="alerting",
        at=at(6, 47),
        detected_at=at(6, 47),
    ).id


def _event_rows(rows):
    return [r for r in rows if r["seq"] is not None]


def test_identical_events_fold_into_one_row_that_counts_them(store):
    iid = _open(store)
    t = at(6, 50)
    for i in range(5):
        store.append(iid, "note", BOT, actor="bot", at=t + timedelta(minutes=i))
    store.append(
        iid, "note", "checked the orders table", actor="alice", at=t + timedelta(minutes=5)
    )
    for i in range(6, 9):
        store.append(iid, "note", BOT, actor="bot", at=t + timedelta(minutes=i))
    events = store.events(iid)
    pm = build_postmortem(store.get(iid), events, now=NOW)
    rows = _event_rows(pm["timeline"])
    bot = [r for r in rows if r["message"] == BOT]
    assert len(bot) == 1
    [row] = bot
    assert row["count"] == 8 and row["at"] == t and row["last_at"] == t + timedelta(minutes=8)
    assert row["seq"] == events[1].seq and row["last_seq"] == events[-1].seq
    alice = [r for r in rows if r["actor"] == "alice"]
    assert len(alice) == 1 and alice[0]["count"] == 1 and alice[0]["last_at"] is None
    assert pm["supporting"]["folded"] == 7
    assert pm["supporting"]["event_count"] == len(events)
    md = render_postmortem(store.get(iid), events, now=NOW, fmt="md")
    assert "7 repeated events are folded" in md
    assert f"(×8, last at 06:58, #{events[1].seq}–#{events[-1].seq})" in md
    assert "7 repeats folded" in md
    html = render_postmortem(store.get(iid), events, now=NOW, fmt="html")
    assert "(×8, last at 06:58" in html and "7 repeated events are folded" in html


def test_nothing_folds_across_an_action_or_a_milestone(store):
    iid = _open(store)
    store.append(iid, "note", BOT, actor="bot", at=at(6, 50))
    store.append(iid, "note", BOT, actor="bot", at=at(6, 51))
    lifecycle.mark(store, iid, "acknowledged", actor="alice", at=at(6, 52), message="ack")
    store.append(iid, "note", BOT, actor="bot", at=at(6, 53))
    common = {"action_id": "a1", "action": "rollback", "model": "churn"}
    store.append(iid, "action.requested", "roll back", actor="alice", at=at(6, 54), payload=common)
    store.append(iid, "action.noop", "nothing", actor="engine", at=at(6, 54), payload=common)
    store.append(iid, "note", BOT, actor="bot", at=at(6, 55))
    store.append(iid, "note", BOT, actor="bot", at=at(6, 56))
    rows = _event_rows(build_postmortem(store.get(iid), store.events(iid), now=NOW)["timeline"])
    assert [r["count"] for r in rows if r["message"] == BOT] == [2, 1, 2]
    assert [r["kind"] for r in rows] == [
        "incident.opened",
        "note",
        "incident.acknowledged",
        "note",
        "action.requested",
        "action.noop",
        "note",
    ]


def test_an_alert_that_keeps_firing_folds_but_stays_a_row_of_its_own(store):
    iid = _open(store)
    flap = "alert fired again: feature null rate 94.2%"
    for i in range(4):
        store.update(iid, actor="alerting", at=at(7, i), message=flap)
        store.append(iid, "note", BOT, actor="bot", at=at(7, i))
    rows = _event_rows(build_postmortem(store.get(iid), store.events(iid), now=NOW)["timeline"])
    assert [(r["kind"], r["count"]) for r in rows] == [
        ("incident.opened", 1),
        ("incident.updated", 4),
        ("note", 4),
    ]
    assert not is_boundary(store.events(iid)[1])


def test_repeated_step_runs_fold_and_their_starts_stay_out(store):
    iid = _open(store)
    check = {"step": "recovery", "kind": "check", "check": "recovery"}
    finished = {**check, "state": "failed", "passed": False, "summary": "61.8% (needs ≤ 24%)"}
    for i in range(5):
        t = at(7, i)
        store.append(iid, "step.started", "Is it back?", actor="engine", at=t, payload=check)
        msg = "Is it back?: failed — 61.8% (needs ≤ 24%)"
        store.append(iid, "step.finished", msg, actor="engine", at=t, payload=finished)
    store.append(iid, "step.started", "Is it back?", actor="engine", at=at(7, 9), payload=check)
    pm = build_postmortem(store.get(iid), store.events(iid), now=NOW)
    rows = _event_rows(pm["timeline"])
    assert [(r["kind"], r["label"], r["count"]) for r in rows] == [
        ("incident.opened", "opened", 1),
        ("step.finished", "finding", 5),
        ("step.started", "step started", 1),  # it never finished: its start row stays
    ]
    assert rows[1]["message"] == "Is it back? — yes: 61.8% (needs ≤ 24%)"
    assert pm["supporting"]["folded"] == 4
    [c] = pm["supporting"]["checks"]
    assert c["runs"] == 5 and c["at"] == at(7, 0) and c["last_at"] == at(7, 4)
    md = render_postmortem(store.get(iid), store.events(iid), now=NOW, fmt="md")
    assert "(×5 with this result, last at 07:04)" in md


def test_every_distinct_event_keeps_a_row_and_the_counts_add_up(store):
    """Random timelines over a small alphabet of notes, updates and actions: each distinct
    (kind, actor, message) of each stretch between two boundaries has exactly one row, and
    the rows' counts add up to the events that make rows."""
    rng = random.Random(19)
    iid = _open(store)
    t = at(6, 50)
    for i in range(600):
        r = rng.random()
        if r < 0.03:
            p = {"action_id": f"a{i}", "action": "rollback", "model": "churn"}
            store.append(iid, "action.noop", f"noop {i % 3}", actor="engine", at=t, payload=p)
        elif r < 0.5:
            store.append(iid, "note", f"n{rng.randrange(4)}", actor=rng.choice("xy"), at=t)
        else:
            store.update(iid, actor="alerting", at=t, message=f"fired {rng.randrange(3)}")
        t += timedelta(seconds=rng.randrange(0, 90))
    events = store.events(iid)
    folder = TimelineFolder()
    for e in events:
        folder.add(e)
    rows = _event_rows(folder.rows(store.get(iid)))
    stretches, stretch = [], set()
    for e in events:
        if is_boundary(e):
            stretches.append(stretch)
            stretches.append({(e.kind, e.actor, e.message, e.seq)})
            stretch = set()
        else:
            stretch.add((e.kind, e.actor, e.message))
    stretches.append(stretch)
    assert len(rows) == sum(len(s) for s in stretches)
    assert {(r["kind"], r["actor"], r["message"]) for r in rows} == {
        (e.kind, e.actor, e.message) for e in events
    }
    assert sum(r["count"] for r in rows) == len(events) == folder.events
    assert folder.folded == len(events) - len(rows) and folder.left_out == 0
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


def test_the_digest_answers_as_the_whole_timeline(store):
    """The readers get only the events they use (``kept``); over them they answer as over
    every event, a check run again with the same result included."""
    iid = build_drill_incident(store)
    events = store.events(iid)
    last = events[-1].ts
    lineage = next(e for e in events if e.payload.get("check") == "lineage_diff")
    again = [(lineage.message, lineage.payload)] * 3
    for msg, payload in again:
        store.append(iid, "step.finished", msg, actor="engine", at=last, payload=payload)
        store.append(iid, "note", BOT, actor="bot", at=last)
    events = store.events(iid)
    digest = record.RecordDigest().add_all(events)
    kept = digest.kept
    assert len(kept) < len(events)
    assert record.notes_by_tag(kept) == record.notes_by_tag(events)
    assert record.action_items(kept) == record.action_items(events)
    assert record.actions(kept) == record.actions(events)
    assert record.lineage_diff(kept) == record.lineage_diff(events)
    assert record.drift_evidence(kept) == record.drift_evidence(events)
    inc = store.get(iid)
    data = {**inc.data, "model": inc.model}
    assert record.versions_involved(kept, data) == record.versions_involved(events, data)
    assert digest.people == record.participants(events)
    assert (digest.count, digest.first_seq, digest.last_seq, digest.last_hash) == (
        len(events),
        events[0].seq,
        events[-1].seq,
        events[-1].hash,
    )
    # the three repeats of the lineage check count against the original run
    assert digest.check_runs == {lineage.seq: (4, last)}
    assert len(record.checks(kept)) == len(record.checks(events)) - 3


def test_the_timeline_is_read_once_so_a_generator_will_do(store):
    iid = build_drill_incident(store)
    events = store.events(iid)
    once = build_postmortem(store.get(iid), iter(events), now=NOW)
    assert once["timeline"] == build_postmortem(store.get(iid), events, now=NOW)["timeline"]
    assert once["supporting"]["event_count"] == len(events)
    digest, folder = read_record(iter(events))
    assert digest.count == folder.events == len(events)
