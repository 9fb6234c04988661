import sqlite3
from datetime import timedelta

import pytest

from console.errors import InvalidTransition, NotFound
from console.store import IncidentStore
from tests.conftest import T0


@pytest.fixture
def store(tmp_path):
    with IncidentStore(tmp_path / "incidents.db") as s:
        yield s


def make(store, **kw):
    args = dict(
        title="null rate", model="churn", severity="SEV2", env="demo", actor="alerting", at=T0
    )
    args.update(kw)
    return store.create_incident(**args)


def test_ids_are_sequential_and_padded(store):
    assert make(store).id == "INC-0001"
    assert make(store).id == "INC-0002"


def test_opening_writes_the_first_event(store):
    inc = make(store, alert_fingerprint="fp1")
    [ev] = store.events(inc.id)
    assert ev.kind == "incident.opened" and ev.seq == 1 and ev.payload["alert_fingerprint"] == "fp1"
    assert inc.status == "open" and inc.phase == "detect" and inc.detected_at == T0


def test_event_time_never_goes_backwards(store):
    inc = make(store)
    store.append(inc.id, "note", "later", actor="a", at=T0 + timedelta(minutes=3))
    with pytest.raises(InvalidTransition, match="precedes the previous event"):
        store.append(inc.id, "note", "earlier", actor="a", at=T0 + timedelta(minutes=1))
    # a failed append leaves nothing behind
    assert [e.message for e in store.events(inc.id)][-1] == "later"


def test_events_are_append_only_at_the_sql_level(store):
    inc = make(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._db.execute("UPDATE events SET message = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._db.execute("DELETE FROM events")
    assert len(store.events(inc.id)) == 1


def test_hash_chain_detects_edit_and_names_record(store, tmp_path):
    inc = make(store)
    for i in range(4):
        store.append(inc.id, "note", f"n{i}", actor="a", at=T0)
    assert store.verify_chain().ok
    store._db.executescript(
        "DROP TRIGGER events_no_update;UPDATE events SET message = 'tampered' WHERE seq = 3;"
    )
    report = store.verify_chain()
    assert not report.ok and report.first_bad_seq == 3 and "edited" in report.problem


def test_hash_chain_detects_deletion(store):
    inc = make(store)
    for i in range(3):
        store.append(inc.id, "note", f"n{i}", actor="a", at=T0)
    store._db.executescript("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 2;")
    report = store.verify_chain()
    assert not report.ok and report.first_bad_seq == 2


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


def test_two_connections_see_each_others_commits(tmp_path):
    with IncidentStore(tmp_path / "s.db") as a, IncidentStore(tmp_path / "s.db") as b:
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


def test_head_anchor_catches_a_deleted_last_record(store):
    inc = make(store)
    for i in range(3):
        store.append(inc.id, "note", f"n{i}", actor="a", at=T0)
    last = store.last_seq()
    good = store.verify_chain()
    assert good.ok and good.head_seq == last and good.to_dict()["head"]["seq"] == last
    store._db.executescript(f"DROP TRIGGER events_no_delete;DELETE FROM events WHERE seq = {last};")
    report = store.verify_chain()
    assert not report.ok and report.first_bad_seq == last
    assert report.problem == f"record {last} (the last) is missing"
    store._db.execute(f"DELETE FROM events WHERE seq = {last - 1}")
    report = store.verify_chain()
    assert report.first_bad_seq == last - 1 and "(the last) are missing" in report.problem


def test_head_anchor_catches_a_replaced_last_record_and_its_own_deletion(store):
    inc = make(store)
    store.append(inc.id, "note", "n", actor="a", at=T0)
    last = store.last_seq()
    store._db.executescript(f"DROP TRIGGER events_no_delete;DELETE FROM events WHERE seq = {last};")
    with pytest.raises(sqlite3.IntegrityError):  # the anchor never moves back
        store.append(inc.id, "note", "forged", actor="a", at=T0)
    store._db.executescript("DROP TRIGGER events_move_head;")
    store.append(inc.id, "note", "forged", actor="a", at=T0)  # a valid link, a new hash
    report = store.verify_chain()
    assert not report.ok and report.first_bad_seq == last and "replaced" in report.problem
    store._db.executescript("DROP TRIGGER audit_head_no_delete; DELETE FROM audit_head;")
    report = store.verify_chain()
    assert not report.ok and "anchor is missing" in report.problem


def test_a_store_from_before_the_anchor_gets_one_on_open(tmp_path):
    path = tmp_path / "old.db"
    with IncidentStore(path) as s:
        inc = make(s)
        s.append(inc.id, "note", "n", actor="a", at=T0)
        last = s.last_seq()
        s._db.executescript(
            "DROP TRIGGER events_move_head; DROP TRIGGER audit_head_no_delete;"
            "DROP TABLE audit_head; DELETE FROM meta WHERE key = 'audit_head';"
        )
    with IncidentStore(path) as s:
        report = s.verify_chain()
        assert report.ok and report.head_seq == last
        s.append(inc.id, "note", "after", actor="a", at=T0)
        assert s.verify_chain().ok
        s._db.executescript(
            f"DROP TRIGGER events_no_delete;DELETE FROM events WHERE seq = {last + 1};"
        )
        assert s.verify_chain().problem == f"record {last + 1} (the last) is missing"


def test_audit_verify_cli_names_the_missing_last_record_and_prints_the_head(rollbook_home):
    import json

    from click.testing import CliRunner

    from console.cli.main import cli

    with IncidentStore(rollbook_home / "data" / "incidents.db") as s:
        inc = make(s)
        ev = s.append(inc.id, "note", "n", actor="a", at=T0)
    r = CliRunner().invoke(cli, ["audit", "verify", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["head"] == {"seq": ev.seq, "hash": ev.hash}
    db = sqlite3.connect(rollbook_home / "data" / "incidents.db")
    db.executescript(f"DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = {ev.seq};")
    db.close()
    r = CliRunner().invoke(cli, ["audit", "verify"])
    assert r.exit_code == 1
    assert f"record {ev.seq} (the last) is missing" in r.output
