"""The embedded store: one SQLite file (WAL, ``synchronous=FULL``).

Every write takes SQLite's write lock up front (``BEGIN IMMEDIATE``), so seq, positions and
hashes are read and written atomically even with the console, the CLI and a drill writing to
the same file; waiting writers queue on ``busy_timeout`` instead of failing with "database is
locked". Triggers refuse UPDATE and DELETE on events and move each chain's head.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.errors import RollbookError
from console.store.audit import GENESIS, canonical, chain_of, event_hash, verify_legacy
from console.store.base import Store
from console.store.locks import LockHolder

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SCHEMA_VERSION = 4  # 3: one chain per incident; 4: presence

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
CREATE TABLE IF NOT EXISTS presence (
    incident_id TEXT NOT NULL,
    person TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (incident_id, person)
);
"""

EVENTS_DDL = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    chain TEXT NOT NULL,
    position INTEGER NOT NULL,
    incident_id TEXT REFERENCES incidents (id),
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (chain, position),
    UNIQUE (chain, prev_hash)
);
CREATE INDEX events_incident ON events (incident_id, seq);
CREATE INDEX events_kind ON events (kind, seq);
CREATE TABLE chain_heads (
    chain TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
"""

TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'timeline events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'timeline events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_move_head AFTER INSERT ON events
BEGIN
    INSERT INTO chain_heads (chain, position, seq, hash)
    VALUES (NEW.chain, NEW.position, NEW.seq, NEW.hash)
    ON CONFLICT (chain) DO UPDATE SET position = excluded.position, seq = excluded.seq,
        hash = excluded.hash;
END;
CREATE TRIGGER IF NOT EXISTS chain_heads_forward_only BEFORE UPDATE ON chain_heads
WHEN NEW.position <= OLD.position
BEGIN SELECT RAISE(ABORT, 'a chain head only moves forward'); END;
CREATE TRIGGER IF NOT EXISTS chain_heads_no_delete BEFORE DELETE ON chain_heads
BEGIN SELECT RAISE(ABORT, 'a chain head is never deleted'); END;
"""


class SqliteStore(Store):
    backend = "sqlite"
    kind_range = True  # TEXT compares with BINARY: a range on the kind is an exact prefix

    def __init__(self, path: Path | str, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(clock)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fds: dict[str, int] = {}
        self._db = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=30000")
        with self._tx():  # schema and migrations under the write lock: openers never race
            self._create_and_migrate()

    # ---- the backend's primitives -------------------------------------------------------
    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._lock:
            self._db.execute(sql, tuple(params))

    @contextmanager
    def _tx(self) -> Iterator[None]:
        # BEGIN IMMEDIATE takes the write lock up front, so everything read inside is current
        # until COMMIT; a nested call (a transition's append) joins the transaction.
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _lock_chain(self, chain: str) -> None:
        pass  # BEGIN IMMEDIATE already holds the file's one write lock

    def _lock_numbering(self) -> None:
        pass

    def _now_in_lock(self) -> datetime:
        return self.clock() if self.clock is not None else datetime.now(UTC)

    def close(self) -> None:
        for fd in self._lock_fds.values():
            os.close(fd)
        self._lock_fds.clear()
        self._db.close()

    # ---- model locks: flock on a file per model beside the database -------------------
    def _lock_path(self, model: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
        return self.path.parent / "locks" / f"{safe}.lock"

    def _try_model_lock(self, model: str, holder: LockHolder) -> LockHolder | None:
        path = self._lock_path(model)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return self._read_holder(path) or LockHolder("someone", "an action", _EPOCH)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode().encode(), 0)
        self._lock_fds[model] = fd
        return None

    def _release_model_lock(self, model: str) -> None:
        fd = self._lock_fds.pop(model, None)
        if fd is not None:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _other_holder(self, model: str) -> LockHolder | None:
        path = self._lock_path(model)
        if not path.exists():
            return None
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._read_holder(path) or LockHolder("someone", "an action", _EPOCH)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    @staticmethod
    def _read_holder(path: Path) -> LockHolder | None:
        try:
            return LockHolder.decode(path.read_text())
        except OSError:
            return None

    # ---- schema -------------------------------------------------------------------------
    def _script(self, sql: str) -> None:
        """Statements one by one (``executescript`` would commit the open transaction)."""
        for stmt in _statements(sql):
            self._db.execute(stmt)

    def _create_and_migrate(self) -> None:
        self._script(DDL)
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        version = int(
            self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        )
        tables = {
            r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "events" not in tables:
            self._script(EVENTS_DDL)
        elif version < 3 and "chain_heads" not in tables:
            self._migrate_global_chain(version, tables)
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(incidents)")}
        if "mitigation_applied_at" not in cols:  # schema 1
            self._db.execute("ALTER TABLE incidents ADD COLUMN mitigation_applied_at TEXT")
        # a kind's events of one incident without reading the rest (created once, on the
        # first open after an upgrade: a few seconds for a million events)
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS events_incident_kind ON events (incident_id, kind, seq)"
        )
        self._script(TRIGGERS)
        self._db.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
        )

    def _migrate_global_chain(self, version: int, tables: set[str]) -> None:
        """Schema 1–2 kept one global chain; 3 keeps one per incident. The old chain is
        verified first (a broken one is not rewritten: the error says how to look at it), its
        head is kept in ``meta`` for the record, and every event is re-linked into its
        incident's chain in seq order, times and contents unchanged."""
        old = self._db.execute(
            "SELECT seq, incident_id, ts, actor, kind, message, payload, prev_hash, hash "
            "FROM events ORDER BY seq"
        ).fetchall()
        ok, problem, head_seq, head_hash = verify_legacy(old)
        if not ok:
            raise RollbookError(
                f"{self.path}: the audit log does not verify ({problem}); it was not migrated "
                "to per-incident chains",
                hint="keep this file for the investigation and point ROLLBOOK_HOME elsewhere",
            )
        for name in (
            "events_no_update",
            "events_no_delete",
            "events_move_head",
            "audit_head_forward_only",
            "audit_head_no_delete",
        ):
            self._db.execute(f"DROP TRIGGER IF EXISTS {name}")
        self._db.execute("ALTER TABLE events RENAME TO events_v2")
        self._db.execute("DROP INDEX IF EXISTS events_incident")
        self._script(EVENTS_DDL)
        heads: dict[str, tuple[int, str]] = {}
        for seq, iid, ts, actor, kind, message, payload, _ph, _h in old:
            chain = chain_of(iid)
            pos, prev = heads.get(chain, (0, GENESIS))
            pos += 1
            h = event_hash(prev, chain, pos, iid, ts, actor, kind, message, payload)
            self._db.execute(
                "INSERT INTO events (seq, chain, position, incident_id, ts, actor, kind, "
                "message, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (seq, chain, pos, iid, ts, actor, kind, message, payload, prev, h),
            )
            self._db.execute(
                "INSERT INTO chain_heads (chain, position, seq, hash) VALUES (?,?,?,?) "
                "ON CONFLICT (chain) DO UPDATE SET position = excluded.position, "
                "seq = excluded.seq, hash = excluded.hash",
                (chain, pos, seq, h),
            )
            heads[chain] = (pos, h)
        self._db.execute("DROP TABLE events_v2")
        if "audit_head" in tables:
            self._db.execute("DROP TABLE audit_head")
        self._db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('migrated_from_global_chain', ?)",
            (
                canonical(
                    {
                        "schema": version,
                        "head_seq": head_seq,
                        "head_hash": head_hash,
                        "events": len(old),
                    }
                ),
            ),
        )


def _statements(sql: str) -> list[str]:
    """Split a DDL script into statements (triggers keep their inner ``;``)."""
    out, buf, in_trigger = [], [], False
    for line in sql.strip().splitlines():
        buf.append(line)
        upper = line.strip().upper()
        if upper.startswith("CREATE TRIGGER"):
            in_trigger = True
        if in_trigger:
            if upper.endswith("END;"):
                out.append("\n".join(buf))
                buf, in_trigger = [], False
        elif upper.endswith(";"):
            out.append("\n".join(buf))
            buf = []
    if buf and "".join(buf).strip():
        out.append("\n".join(buf))
    return out
