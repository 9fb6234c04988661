"""SQLite schema of the incident store. Events are append-only: triggers refuse UPDATE and
DELETE, and every event carries the hash of the one before it (see ``audit.py``). The chain's
head (last seq and hash) is anchored in ``audit_head``, moved by a trigger in the same
transaction as each insert, so deleting the last records is caught too."""

SCHEMA_VERSION = 2

# Migrations from the version in ``meta.schema_version`` to the next, applied in one write
# transaction on open. Version 2 adds the ``mitigation_applied`` milestone.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE incidents ADD COLUMN mitigation_applied_at TEXT",),
}

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
    number INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('SEV1','SEV2','SEV3','SEV4')),
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    env TEXT NOT NULL,
    runbook TEXT,
    drill INTEGER NOT NULL DEFAULT 0,
    alert_fingerprint TEXT,
    created_at TEXT NOT NULL,
    onset_at TEXT,
    detected_at TEXT,
    acknowledged_at TEXT,
    mitigation_applied_at TEXT,
    mitigated_at TEXT,
    resolved_at TEXT,
    reviewed_at TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (status, model);
CREATE INDEX IF NOT EXISTS incidents_fp ON incidents (alert_fingerprint);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    incident_id TEXT REFERENCES incidents (id),
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_incident ON events (incident_id, seq);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'timeline events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'timeline events are append-only'); END;
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_move_head AFTER INSERT ON events
BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NEW.seq <= OLD.seq
BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END;
CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'the audit head is never deleted'); END;
"""
