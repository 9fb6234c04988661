"""IncidentStore: incidents and their append-only timeline in one SQLite file (WAL).

Every write is committed (``synchronous=FULL``) before the call returns, so whatever the
console shows has already survived a crash. Incident rows change only together with the
timeline event that explains the change, in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from console.clock import parse_ts
from console.errors import InvalidTransition, NotFound
from console.store.audit import (
    GENESIS,
    MISSING,
    ChainReport,
    canonical,
    event_hash,
    verify_rows,
)
from console.store.models import (
    MILESTONES,
    PHASES,
    SEVERITIES,
    Incident,
    TimelineEvent,
)
from console.store.schema import DDL, MIGRATIONS, SCHEMA_VERSION

_EVENT_COLS = "seq, incident_id, ts, actor, kind, message, payload, prev_hash, hash"
# Columns a lifecycle transition may set: the phase, the status and the milestone times.
_TRANSITION_COLUMNS = frozenset(
    {"phase", "status", *(f"{m}_at" for m in MILESTONES if m != "detected")}
)


@dataclass(frozen=True)
class Change:
    """One lifecycle change: incident columns to set (ISO strings for times) and the
    timeline event that explains them, written in one transaction."""

    kind: str
    message: str
    columns: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return at.isoformat()


def _dt(value: str | None) -> datetime | None:
    return parse_ts(value) if value else None


class IncidentStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        # One connection shared by the TUI's worker threads: transactions are serialised here.
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(DDL)  # idempotent (IF NOT EXISTS); runs its own transaction
        with self._tx():
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            self._migrate()
            self._anchor_head()

        self._incident_cols = [
            d[0] for d in self._db.execute("SELECT * FROM incidents LIMIT 0").description
        ]

    def _migrate(self) -> None:
        """Bring a store written by an older Rollbook to ``SCHEMA_VERSION`` (inside the
        opening write transaction, so two processes opening it at once migrate it once)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else SCHEMA_VERSION
        while version < SCHEMA_VERSION:
            for sql in MIGRATIONS[version]:
                self._db.execute(sql)
            version += 1
            self._db.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),)
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IncidentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front so seq and hash are read and written
        # atomically even with the TUI and a CLI writing to the same file.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- events -------------------------------------------------------------------------
    def _append(
        self,
        incident_id: str | None,
        kind: str,
        message: str,
        *,
        actor: str,
        at: datetime,
        payload: dict[str, Any] | None,
    ) -> TimelineEvent:
        ts = _iso(at)
        last_same = self._db.execute(
            "SELECT ts FROM events WHERE incident_id IS ? ORDER BY seq DESC LIMIT 1",
            (incident_id,),
        ).fetchone()
        if last_same and parse_ts(last_same[0]) > at:
            raise InvalidTransition(
                f"event time {ts} precedes the previous event ({last_same[0]})",
                hint="timeline timestamps never go backwards; check the clock",
            )
        row = self._db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        payload_json = canonical(payload or {})
        h = event_hash(prev, seq, incident_id, ts, actor, kind, message, payload_json)
        self._db.execute(
            f"INSERT INTO events ({_EVENT_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
            (seq, incident_id, ts, actor, kind, message, payload_json, prev, h),
        )
        return TimelineEvent(seq, incident_id, at, actor, kind, message, payload or {}, prev, h)

    def append(
        self,
        incident_id: str | None,
        kind: str,
        message: str,
        *,
        actor: str,
        at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> TimelineEvent:
        """Append one event (``incident_id=None`` for a standalone audit record)."""
        with self._tx():
            if incident_id is not None:
                self._require(incident_id)
            return self._append(incident_id, kind, message, actor=actor, at=at, payload=payload)

    def events(
        self,
        incident_id: str | None = None,
        *,
        after_seq: int = 0,
        limit: int | None = None,
        all_incidents: bool = False,
        kind_prefix: str | None = None,
    ) -> list[TimelineEvent]:
        """Events in order. ``all_incidents`` reads every stream (incidents and standalone
        audit records); ``kind_prefix`` filters on the event kind (e.g. ``"action."``)."""
        sql = f"SELECT {_EVENT_COLS} FROM events WHERE seq > ?"
        args: list[Any] = [after_seq]
        if kind_prefix:
            sql += " AND kind LIKE ? ESCAPE '\\'"
            args.append(kind_prefix.replace("_", "\\_").replace("%", "\\%") + "%")
        if not all_incidents:
            sql += " AND incident_id IS ?"
            args.append(incident_id)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [
            TimelineEvent(seq, iid, parse_ts(ts), actor, kind, msg, json.loads(p), ph, h)
            for seq, iid, ts, actor, kind, msg, p, ph, h in rows
        ]

    def tail(self, incident_id: str | None, n: int) -> tuple[list[TimelineEvent], int]:
        """The last ``n`` events of one stream, oldest first, and how many it has in all
        (a 10,000-event timeline is not read whole to show its end)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_EVENT_COLS} FROM events WHERE incident_id IS ? ORDER BY seq DESC "
                "LIMIT ?",
                (incident_id, n),
            ).fetchall()
            total = self._db.execute(
                "SELECT COUNT(*) FROM events WHERE incident_id IS ?", (incident_id,)
            ).fetchone()[0]
        return [
            TimelineEvent(seq, iid, parse_ts(ts), actor, kind, msg, json.loads(p), ph, h)
            for seq, iid, ts, actor, kind, msg, p, ph, h in reversed(rows)
        ], total

    def last_seq(self) -> int:
        """The newest event's sequence number (0 for an empty store)."""
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM events").fetchone()
        return row[0] or 0

    def _anchor_head(self) -> None:
        # A store from before the anchor gets one from its current last record (the trigger
        # in DDL moves it from then on). The meta flag tells "never had one" from "deleted".
        if self._db.execute("SELECT 1 FROM meta WHERE key = 'audit_head'").fetchone():
            return
        if not self._db.execute("SELECT 1 FROM audit_head").fetchone():
            row = self._db.execute(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            self._db.execute(
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)", row or (0, GENESIS)
            )
        self._db.execute("INSERT INTO meta VALUES ('audit_head', 'anchored')")

    def verify_chain(self) -> ChainReport:
        """The hash chain checked link by link, and its end against the head anchor."""
        with self._lock:
            self._db.execute("BEGIN")  # one snapshot for the rows and the anchor
            try:
                rows = self._db.execute(f"SELECT {_EVENT_COLS} FROM events ORDER BY seq").fetchall()
                head = self._db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            finally:
                self._db.execute("COMMIT")
        return verify_rows(rows, tuple(head) if head else MISSING)

    # ---- incidents ----------------------------------------------------------------------
    def create_incident(
        self,
        *,
        title: str,
        model: str,
        severity: str,
        env: str,
        actor: str,
        at: datetime,
        runbook: str | None = None,
        drill: bool = False,
        alert_fingerprint: str | None = None,
        onset_at: datetime | None = None,
        detected_at: datetime | None = None,
        data: dict[str, Any] | None = None,
    ) -> Incident:
        if severity not in SEVERITIES:
            raise InvalidTransition(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        detected = detected_at or at
        if onset_at and onset_at > detected:
            raise InvalidTransition("onset cannot be after detection")
        with self._tx():
            number = (self._db.execute("SELECT MAX(number) FROM incidents").fetchone()[0] or 0) + 1
            iid = f"INC-{number:04d}"
            self._db.execute(
                "INSERT INTO incidents (number, id, title, model, severity, status, phase, env,"
                " runbook, drill, alert_fingerprint, created_at, onset_at, detected_at, data)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    number,
                    iid,
                    title,
                    model,
                    severity,
                    "open",
                    PHASES[0],
                    env,
                    runbook,
                    int(drill),
                    alert_fingerprint,
                    _iso(at),
                    _iso(onset_at) if onset_at else None,
                    _iso(detected),
                    canonical(data or {}),
                ),
            )
            self._append(
                iid,
                "incident.opened",
                f"{severity} {title}",
                actor=actor,
                at=at,
                payload={
                    "model": model,
                    "severity": severity,
                    "runbook": runbook,
                    "drill": drill,
                    "alert_fingerprint": alert_fingerprint,
                    "detected_at": _iso(detected),
                    "data": data or {},
                },
            )
        return self.get(iid)

    def _require(self, incident_id: str) -> Incident:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
        if row is None:
            raise NotFound(
                f"no incident {incident_id!r}", hint="list them with: rollbook incidents"
            )
        return self._row(row)

    def _row(self, row: sqlite3.Row | tuple) -> Incident:
        r = dict(zip(self._incident_cols, row, strict=True))
        return Incident(
            id=r["id"],
            title=r["title"],
            model=r["model"],
            severity=r["severity"],
            status=r["status"],
            phase=r["phase"],
            env=r["env"],
            runbook=r["runbook"],
            drill=bool(r["drill"]),
            alert_fingerprint=r["alert_fingerprint"],
            created_at=_dt(r["created_at"]),
            onset_at=_dt(r["onset_at"]),
            detected_at=_dt(r["detected_at"]),
            acknowledged_at=_dt(r["acknowledged_at"]),
            mitigation_applied_at=_dt(r["mitigation_applied_at"]),
            mitigated_at=_dt(r["mitigated_at"]),
            resolved_at=_dt(r["resolved_at"]),
            reviewed_at=_dt(r["reviewed_at"]),
            data=json.loads(r["data"]),
        )

    def get(self, incident_id: str) -> Incident:
        return self._require(incident_id)

    def list(
        self, *, open_only: bool = False, model: str | None = None, env: str | None = None
    ) -> list[Incident]:
        sql, args = "SELECT * FROM incidents WHERE 1=1", []
        if open_only:
            sql += " AND status NOT IN ('resolved', 'closed')"
        if model:
            sql += " AND model = ?"
            args.append(model)
        if env:
            sql += " AND env = ?"
            args.append(env)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY number", args).fetchall()
        return [self._row(r) for r in rows]

    def find_open(
        self, *, model: str | None = None, fingerprint: str | None = None, env: str | None = None
    ) -> Incident | None:
        for inc in reversed(self.list(open_only=True, model=model, env=env)):
            if fingerprint is None or inc.alert_fingerprint == fingerprint:
                return inc
        return None

    def transition(
        self,
        incident_id: str,
        decide: Callable[[Incident], Sequence[Change]],
        *,
        actor: str,
        at: datetime,
    ) -> Incident:
        """Apply the changes ``decide`` returns for the incident as it is *inside* the write
        transaction: each change's columns are updated together with its timeline event, so
        two processes deciding at once never both set a milestone or skip a phase. The rules
        themselves (order, implied milestones) live in ``console.lifecycle``; the store only
        keeps a column and its explaining event in one transaction."""
        with self._tx():
            inc = self._require(incident_id)
            for change in decide(inc):
                bad = set(change.columns) - _TRANSITION_COLUMNS
                if bad:
                    raise ValueError(f"not a lifecycle column: {', '.join(sorted(bad))}")
                if change.columns:
                    cols = ", ".join(f"{c} = ?" for c in change.columns)
                    self._db.execute(
                        f"UPDATE incidents SET {cols} WHERE id = ?",
                        (*change.columns.values(), incident_id),
                    )
                self._append(
                    incident_id,
                    change.kind,
                    change.message,
                    actor=actor,
                    at=at,
                    payload=change.payload,
                )
        return self.get(incident_id)

    def update(
        self,
        incident_id: str,
        *,
        actor: str,
        at: datetime,
        message: str,
        severity: str | None = None,
        runbook: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Incident:
        """Change severity/runbook or merge keys into the incident's data, with an event."""
        if severity is not None and severity not in SEVERITIES:
            raise InvalidTransition(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        with self._tx():
            inc = self._require(incident_id)
            merged = {**inc.data, **(data or {})}
            self._db.execute(
                "UPDATE incidents SET severity = ?, runbook = ?, data = ? WHERE id = ?",
                (severity or inc.severity, runbook or inc.runbook, canonical(merged), incident_id),
            )
            self._append(
                incident_id,
                "incident.updated",
                message,
                actor=actor,
                at=at,
                payload={"severity": severity, "runbook": runbook, "data": data or {}},
            )
        return self.get(incident_id)


def open_store(data_dir: Path) -> IncidentStore:
    return IncidentStore(Path(data_dir) / "incidents.db")
