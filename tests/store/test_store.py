"""The incident store, the same tests on SQLite and on the real PostgreSQL: incidents, the
append-only timeline, one hash chain per incident with its head, and times that never run
backwards (taken inside the append's lock, or raised to the chain's last)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.errors import InvalidTransition, NotFound
from tests.conftest import T0
from tests.store.conftest import tamper


def make(store, **kw):
    args = dict(
        title="null rate", model="churn", severity="SEV2", env="demo", actor="alerting", at=T0
    )
    args.update(kw)
    return store.create_incident(**args)


def test_ids_are_sequential_and_padded(store):
    assert make(store).id == "INC-0001"
    assert make(store).id == "INC-0002"


def test_opening_writes_the_first_event_of_the_incidents_own_chain(store):
    inc = make(store, alert_fingerprint="fp1")
    [ev] = store.events(inc.id)
    assert ev.kind == "incident.opened" and ev.payload["alert_fingerprint"] == "fp1"
    assert (ev.chain, ev.position) == (inc.id, 1)
    assert inc.status == "open" and inc.phase == "detect" and inc.detected_at == T0


def test_each_incident_has_its_own_chain_and_standalone_records_theirs(store):
    a, b = make(store), make(store, model="fraud")
    for i in range(3):
        store.append(a.id, "note", f"a{i}", actor="x", at=T0)
        store.append(b.id, "note", f"b{i}", actor="x", at=T0)
    store.append(None, "action.noop", "standalone", actor="x", at=T0)
    assert [e.position for e in store.events(a.id)] == [1, 2, 3, 4]
    assert [e.position for e in store.events(b.id)] == [1, 2, 3, 4]
    [audit] = store.events(None)
    assert (audit.chain, audit.position) == ("audit", 1)
    report = store.verify_chain()
    assert report.ok and report.checked == 9 and set(report.heads) == {a.id, b.id, "audit"}
    assert [e.message for e in store.chain_events(a.id, after_position=2)] == ["a1", "a2"]


def test_an_earlier_time_is_raised_to_the_chains_last_never_refused(store):
    inc = make(store)
    store.append(inc.id, "note", "later", actor="a", at=T0 + timedelta(minutes=3))
    ev = store.append(inc.id, "note", "earlier", actor="a", at=T0 + timedelta(minutes=1))
    assert ev.ts == T0 + timedelta(minutes=3)
    other = make(store, model="fraud")  # another chain keeps its own times
    assert store.append(other.id, "note", "x", actor="a", at=T0).ts == T0
    assert store.verify_chain().ok


def test_without_a_time_the_store_takes_it_inside_the_lock(open_store_at):
    times = iter([T0 + timedelta(seconds=s) for s in (5, 9)])
    store = open_store_at(clock=lambda: next(times))
    inc = make(store)
    ev = store.append(inc.id, "note", "now", actor="a")
    assert ev.ts == T0 + timedelta(seconds=5)


def test_events_are_append_only_in_the_database(store):
    inc = make(store)
    for sql in ("UPDATE events SET message = 'x'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"):
            _raw(store, sql)
    if store.backend == "postgres":
        with pytest.raises(Exception, match="append-only"):
            _raw(store, "TRUNCATE events CASCADE")
    assert len(store.events(inc.id)) == 1


def _raw(store, sql):
    if store.backend == "sqlite":
        store._db.execute(sql)
    else:
        store._conn.execute(sql)


def test_a_duplicate_position_or_a_fork_is_refused_by_the_database(store):
    inc = make(store)
    ev = store.append(inc.id, "note", "n", actor="a", at=T0)
    with pytest.raises(Exception, match="(?i)unique"):
        _raw(
            store,
            "INSERT INTO events (chain, position, incident_id, ts, actor, kind, message, "
            f"payload, prev_hash, hash) VALUES ('{inc.id}', {ev.position}, '{inc.id}', "
            f"'{T0.isoformat()}', 'a', 'note', 'fork', '{{}}', 'x', 'y')",
        )
    with pytest.raises(Exception, match="(?i)unique"):
        _raw(
            store,
            "INSERT INTO events (chain, position, incident_id, ts, actor, kind, message, "
            f"payload, prev_hash, hash) VALUES ('{inc.id}', 99, '{inc.id}', "
            f"'{T0.isoformat()}', 'a', 'note', 'fork', '{{}}', '{ev.prev_hash}', 'y')",
        )


def test_an_edited_record_is_named(store):
    inc = make(store)
    for i in range(4):
        store.append(inc.id, "note", f"n{i}", actor="a", at=T0)
    assert store.verify_chain().ok
    target = store.events(inc.id)[2]
    tamper(store, f"UPDATE events SET message = 'tampered' WHERE seq = {target.seq}")
    report = store.verify_chain()
    assert not report.ok and report.first_bad_seq == target.seq and "edited" in report.problem


def test_a_deleted_record_is_named(store):
    inc = make(store)
    for i in range(3):
        store.append(inc.id, "note", f"n{i}", actor="a", at=T0)
    gone = store.events(inc.id)[1]
    tamper(store, f"DELETE FROM events WHERE seq = {gone.seq}")
    report = store.verify_chain()
    assert not report.ok and f"record 2 of {inc.id} is missing" in report.problem


def test_the_heads_catch_a_deleted_last_record(store):
    inc = make(store)
    for i in range(3):
        store.append(inc.id, "note", f"n{i}", actor="a", at=T0)
    last = store.events(inc.id)[-1]
    good = store.verify_chain()
    assert good.ok and good.head_seq == last.seq
    assert good.to_dict()["chains"][inc.id]["hash"] == last.hash
    tamper(store, f"DELETE FROM events WHERE seq = {last.seq}")
    report = store.verify_chain()
    assert not report.ok and report.first_bad_seq == last.seq
    assert report.problem == f"record {last.seq} (the last of {inc.id}) is missing"


def test_the_heads_catch_a_replaced_last_record_and_their_own_deletion(store):
    inc = make(store)
    store.append(inc.id, "note", "n", actor="a", at=T0)
    last = store.events(inc.id)[-1]
    tamper(store, f"DELETE FROM events WHERE seq = {last.seq}")
    with pytest.raises(Exception, match="only moves forward"):  # the head never moves back
        store.append(inc.id, "note", "forged", actor="a", at=T0)
    if store.backend == "sqlite":
        store._db.executescript("DROP TRIGGER events_move_head;")
    else:
        store._conn.execute("ALTER TABLE events DISABLE TRIGGER events_move_head")
    store.append(inc.id, "note", "forged", actor="a", at=T0)  # a valid link, a new hash
    report = store.verify_chain()
    assert not report.ok and "replaced" in report.problem
    tamper(store, "DELETE FROM chain_heads")
    report = store.verify_chain()
    assert not report.ok and "no head" in report.problem


def test_unknown_incident_and_bad_severity(store):
    with pytest.raises(NotFound):
        store.get("INC-9999")
    with pytest.raises(NotFound):
        store.append("INC-9999", "note", "x", actor="a", at=T0)
    with pytest.raises(InvalidTransition, match="SEV1"):
        make(store, severity="P1")


def test_find_open_by_fingerprint_and_update(store):
    a = make(store, alert_fingerprint="fp-a")
    make(store, alert_fingerprint="fp-b", model="fraud")
    assert store.find_open(fingerprint="fp-a").id == a.id
    assert store.find_open(fingerprint="fp-zzz") is None
    store.update(a.id, actor="a", at=T0, message="sev up", severity="SEV1", data={"k": 1})
    got = store.get(a.id)
    assert got.severity == "SEV1" and got.data == {"k": 1}


def test_two_connections_see_each_others_commits(open_store_at):
    a, b = open_store_at(), open_store_at()
    inc = make(a)
    b.append(inc.id, "note", "from b", actor="b", at=T0)
    assert [e.message for e in a.events(inc.id)][-1] == "from b"
    assert a.verify_chain().ok


def test_tail_reads_only_the_end(store):
    inc = make(store)
    for i in range(30):
        store.append(inc.id, "note", f"n{i}", actor="a", at=T0)
    last, total = store.tail(inc.id, 5)
    assert total == 31
    assert [e.message for e in last] == [f"n{i}" for i in range(25, 30)]
    assert store.tail(None, 5) == ([], 0)


def test_kind_prefix_and_after_seq(store):
    inc = make(store)
    store.append(inc.id, "action.requested", "r", actor="a", at=T0)
    mark = store.last_seq()
    store.append(inc.id, "action.finished", "f", actor="a", at=T0)
    store.append(inc.id, "note", "n", actor="a", at=T0)
    assert [e.message for e in store.events(all_incidents=True, kind_prefix="action.")] == [
        "r",
        "f",
    ]
    assert [e.message for e in store.events(inc.id, after_seq=mark)] == ["f", "n"]
