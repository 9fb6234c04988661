"""Stores written by earlier Rollbooks open: a schema-2 SQLite file (one global hash chain)
is verified, then re-linked into per-incident chains, its old head kept in ``meta``; a
schema-2 file whose chain does not verify is not rewritten."""

from __future__ import annotations

import json
import sqlite3

import pytest

from console.errors import RollbookError
from console.store.audit import GENESIS, canonical, legacy_hash
from console.store.sqlite import SqliteStore
from tests.conftest import T0

V2_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE incidents (
    number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    model TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL,
    env TEXT NOT NULL, runbook TEXT, drill INTEGER NOT NULL DEFAULT 0, alert_fingerprint TEXT,
    created_at TEXT NOT NULL, onset_at TEXT, detected_at TEXT, acknowledged_at TEXT,
    mitigation_applied_at TEXT, mitigated_at TEXT, resolved_at TEXT, reviewed_at TEXT,
    data TEXT NOT NULL DEFAULT '{}');
CREATE TABLE events (seq INTEGER PRIMARY KEY, incident_id TEXT REFERENCES incidents (id),
    ts TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}', prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX events_incident ON events (incident_id, seq);
CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL,
    hash TEXT NOT NULL);
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'timeline events are append-only'); END;
INSERT INTO meta VALUES ('schema_version', '2');
"""


def write_v2(path, events, *, break_at: int | None = None, version: int = 2):
    db = sqlite3.connect(path)
    ddl = V2_DDL.replace("'schema_version', '2'", f"'schema_version', '{version}'")
    if version == 1:  # schema 1 had no mitigation_applied milestone
        ddl = ddl.replace("mitigation_applied_at TEXT, ", "")
    db.executescript(ddl)
    for n in (1, 2):
        db.execute(
            "INSERT INTO incidents (number, id, title, model, severity, status, phase, env, "
            "created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (n, f"INC-000{n}", "t", "churn", "SEV2", "open", "detect", "demo", T0.isoformat()),
        )
    prev = GENESIS
    for seq, (iid, msg) in enumerate(events, start=1):
        payload = canonical({"n": seq})
        h = legacy_hash(prev, seq, iid, T0.isoformat(), "a", "note", msg, payload)
        stored = "tampered" if seq == break_at else msg
        db.execute(
            "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)",
            (seq, iid, T0.isoformat(), "a", "note", stored, payload, prev, h),
        )
        prev = h
    db.execute("INSERT INTO audit_head VALUES (1, ?, ?)", (len(events), prev))
    db.commit()
    db.close()
    return prev


EVENTS = [("INC-0001", "a1"), ("INC-0002", "b1"), (None, "standalone"), ("INC-0001", "a2")]


@pytest.mark.parametrize("version", [1, 2])
def test_a_schema_2_store_is_verified_and_relinked_per_incident(tmp_path, version):
    path = tmp_path / "incidents.db"
    old_head = write_v2(path, EVENTS, version=version)
    with SqliteStore(path) as s:
        report = s.verify_chain()
        assert report.ok and report.checked == 4
        assert [(e.chain, e.position, e.message) for e in s.events("INC-0001")] == [
            ("INC-0001", 1, "a1"),
            ("INC-0001", 2, "a2"),
        ]
        assert [e.seq for e in s.events(all_incidents=True)] == [1, 2, 3, 4]  # seqs kept
        kept = json.loads(
            s._db.execute(
                "SELECT value FROM meta WHERE key = 'migrated_from_global_chain'"
            ).fetchone()[0]
        )
        assert kept == {"schema": version, "head_seq": 4, "head_hash": old_head, "events": 4}
        assert s.get("INC-0001").mitigation_applied_at is None
        s.append("INC-0002", "note", "after", actor="a", at=T0)
        assert s.verify_chain().ok
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            s._db.execute("DELETE FROM events")


def test_a_schema_2_store_that_does_not_verify_is_left_as_it_is(tmp_path):
    path = tmp_path / "incidents.db"
    write_v2(path, EVENTS, break_at=2)
    with pytest.raises(RollbookError, match="does not verify .*record 2"):
        SqliteStore(path)
    db = sqlite3.connect(path)  # untouched: still the old layout, for the investigation
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "2"
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 4


def test_store_migrate_copies_sqlite_into_postgres_chains_intact(
    rollbook_home, store_pg_server, monkeypatch
):
    from click.testing import CliRunner

    from console.cli.main import cli
    from console.store.postgres import PostgresStore
    from tests.store.conftest import fresh_database

    with SqliteStore(rollbook_home / "data" / "incidents.db") as s:
        a = s.create_incident(title="t", model="churn", severity="SEV2", env="e", actor="a", at=T0)
        b = s.create_incident(title="u", model="fraud", severity="SEV3", env="e", actor="a", at=T0)
        for i in range(5):
            s.append(a.id if i % 2 else b.id, "note", f"n{i}", actor="ana", at=T0)
        s.append(None, "action.noop", "standalone", actor="ana", at=T0)
        source = s.verify_chain()
    dsn = fresh_database(store_pg_server)
    monkeypatch.setenv("ROLLBOOK_STORE_DSN", dsn)
    r = CliRunner().invoke(cli, ["store", "migrate", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert (out["incidents"], out["events"], out["chains"]) == (2, 8, 3)
    with PostgresStore(dsn) as pg:
        copy = pg.verify_chain()
        assert copy.ok and copy.head_hash == source.head_hash == out["head"]
        assert [e.message for e in pg.events(a.id)][1:] == ["n1", "n3"]
        assert pg.get(b.id).severity == "SEV3"
        pg.append(a.id, "note", "after the move", actor="ben")  # the chain goes on
        assert pg.verify_chain().ok
    r = CliRunner().invoke(cli, ["store", "migrate"])  # not into a store that holds records
    assert r.exit_code == 1 and "not empty" in str(r.exception)
