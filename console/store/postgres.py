"""A team's store: PostgreSQL (psycopg 3), shared by every console and CLI of the team.

- One hash chain per incident: an append takes a transaction-scoped advisory lock on its
  chain only (``pg_advisory_xact_lock``), so incidents never serialise each other, and reads
  its time from the server's clock inside that lock (``clock_timestamp()``) — or takes the
  caller's simulated time, raised to the chain's last one.
- Append-only by the database: triggers refuse UPDATE and DELETE on events and TRUNCATE on
  the table; unique (chain, position) and (chain, prev_hash) back the chain up.
- Schema versions apply under an advisory lock, so eight consoles starting at once do not
  race the ``CREATE TABLE``s.
- Every append NOTIFYs ``rollbook_events`` with the chain and position only (notifications
  sent while a listener is disconnected are lost: a listener catches up by position on every
  (re)connect — ``console.live``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from console.errors import BackendError
from console.store.base import Store
from console.store.locks import LockHolder

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SCHEMA_VERSION = 5  # 3: one chain per incident; 4: presence; 5: (incident, kind) index
CHANNEL = "rollbook_events"
#: advisory lock keys (``pg_advisory_xact_lock(key)``); chains lock on hashtext(chain)
MIGRATION_LOCK = 7_331_001
NUMBERING_LOCK = 7_331_002
MODEL_LOCKS = 7331  # pg_try_advisory_lock(MODEL_LOCKS, hashtext(model)): one action a model

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
    number BIGINT PRIMARY KEY,
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
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain TEXT NOT NULL,
    position BIGINT NOT NULL,
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
CREATE INDEX IF NOT EXISTS events_incident ON events (incident_id, seq);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, seq);
CREATE INDEX IF NOT EXISTS events_incident_kind ON events (incident_id, kind text_pattern_ops, seq);
CREATE TABLE IF NOT EXISTS chain_heads (
    chain TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
CREATE OR REPLACE FUNCTION rollbook_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline events are append-only (% refused)', TG_OP;
END $$;
CREATE OR REPLACE FUNCTION rollbook_move_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chain_heads (chain, position, seq, hash)
    VALUES (NEW.chain, NEW.position, NEW.seq, NEW.hash)
    ON CONFLICT (chain) DO UPDATE SET position = EXCLUDED.position, seq = EXCLUDED.seq,
        hash = EXCLUDED.hash;
    PERFORM pg_notify('rollbook_events', NEW.chain || ' ' || NEW.position);
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION rollbook_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a chain head is never deleted';
    END IF;
    IF NEW.position <= OLD.position THEN
        RAISE EXCEPTION 'a chain head only moves forward';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS events_no_change ON events;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION rollbook_refuse();
DROP TRIGGER IF EXISTS events_no_truncate ON events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION rollbook_refuse();
DROP TRIGGER IF EXISTS events_move_head ON events;
CREATE TRIGGER events_move_head AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION rollbook_move_head();
DROP TRIGGER IF EXISTS chain_heads_forward ON chain_heads;
CREATE TRIGGER chain_heads_forward BEFORE UPDATE OR DELETE ON chain_heads
    FOR EACH ROW EXECUTE FUNCTION rollbook_head_forward();
DROP TRIGGER IF EXISTS chain_heads_no_truncate ON chain_heads;
CREATE TRIGGER chain_heads_no_truncate BEFORE TRUNCATE ON chain_heads
    FOR EACH STATEMENT EXECUTE FUNCTION rollbook_refuse();
"""


class PostgresStore(Store):
    backend = "postgres"
    # ~>=~ and ~<~ compare byte-wise whatever the database's collation (an exact prefix
    # range) and are what the text_pattern_ops index serves, in generic plans too
    kind_range = True
    kind_ops = ("~>=~", "~<~")
    seq_unindexed = "seq + 0"

    def __init__(
        self,
        dsn: str,
        *,
        clock: Callable[[], datetime] | None = None,
        connect_timeout: float = 10.0,
        application_name: str = "rollbook",
    ) -> None:
        super().__init__(clock)
        import psycopg

        self.dsn = dsn
        self._tx_depth = threading.local()
        try:
            self._conn = psycopg.connect(
                dsn,
                autocommit=True,
                connect_timeout=max(1, int(connect_timeout)),
                application_name=application_name,
            )
        except psycopg.Error as exc:
            raise BackendError(
                f"cannot connect to the PostgreSQL store: {exc}".strip(),
                hint="check the DSN in the variable [store] dsn_env names, and that the "
                "server is up",
            ) from None
        if not self._schema_current():  # the common case reads one row and changes nothing
            with self._tx():
                self._execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                if not self._schema_current():  # another console may have just done it
                    self._migrate()

    def _schema_current(self) -> bool:
        row = self._fetchone("SELECT to_regclass('meta')")
        if row is None or row[0] is None:
            return False
        version = self._fetchone("SELECT value FROM meta WHERE key = 'schema_version'")
        return version is not None and int(version[0]) >= SCHEMA_VERSION

    def _migrate(self) -> None:
        # DDL only under the migration lock and only when the schema is not current: DDL
        # takes exclusive locks that would deadlock with other consoles' appends
        self._conn.execute(DDL)
        self._execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE "
            "SET value = EXCLUDED.value",
            (str(SCHEMA_VERSION),),
        )

    # ---- the backend's primitives -------------------------------------------------------
    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def _run(self, sql: str, params: Sequence[Any], fetch: bool) -> list[tuple]:
        import psycopg

        with self._lock:
            try:
                cur = self._conn.execute(self._sql(sql), tuple(params))
                return cur.fetchall() if fetch and cur.description else []
            except psycopg.OperationalError as exc:
                raise BackendError(f"the PostgreSQL store: {exc}".strip()) from None

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._run(sql, params, True)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._run(sql, params, False)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with self._lock:
            depth = getattr(self._tx_depth, "n", 0)
            self._tx_depth.n = depth + 1
            try:
                if depth:
                    yield  # a nested call (a transition's append) joins the transaction
                else:
                    with self._conn.transaction():
                        yield
            finally:
                self._tx_depth.n = depth

    def _lock_chain(self, chain: str) -> None:
        self._execute("SELECT pg_advisory_xact_lock(hashtext(?))", (chain,))

    def _lock_numbering(self) -> None:
        self._execute("SELECT pg_advisory_xact_lock(?)", (NUMBERING_LOCK,))

    def _now_in_lock(self) -> datetime:
        if self.clock is not None:
            return self.clock()
        row = self._fetchone("SELECT clock_timestamp()")
        assert row is not None
        return row[0].astimezone(UTC)

    def close(self) -> None:
        self._conn.close()

    # ---- model locks: session advisory locks, the holder in application_name ----------
    def _try_model_lock(self, model: str, holder: LockHolder) -> LockHolder | None:
        self._execute("SELECT set_config('application_name', ?, false)", (holder.app_name(),))
        row = self._fetchone("SELECT pg_try_advisory_lock(?, hashtext(?))", (MODEL_LOCKS, model))
        if row and row[0]:
            return None
        self._execute("SELECT set_config('application_name', 'rollbook', false)")
        return self._other_holder(model) or LockHolder("someone", "an action", _EPOCH)

    def _release_model_lock(self, model: str) -> None:
        if self._conn.closed:
            return  # the session, and its lock, are gone already
        self._execute("SELECT pg_advisory_unlock(?, hashtext(?))", (MODEL_LOCKS, model))
        self._execute("SELECT set_config('application_name', 'rollbook', false)")

    def _other_holder(self, model: str) -> LockHolder | None:
        row = self._fetchone(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ? "
            "AND l.objid::bigint = (hashtext(?)::bigint & 4294967295) "
            "AND l.objsubid = 2 AND l.pid <> pg_backend_pid() "
            # advisory locks belong to a database: another store on the same server (a
            # staging team's, say) holding a model of the same name holds nothing here
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (MODEL_LOCKS, model),
        )
        if row is None:
            return None
        return LockHolder.from_app_name(row[0] or "") or LockHolder("someone", "an action", _EPOCH)
