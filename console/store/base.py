"""The incident store's interface and its SQL, shared by the SQLite and PostgreSQL backends.

The store is the single source of truth: incidents, and their append-only, hash-chained
timelines (one chain per incident, ``audit.py``). Every write is committed before the call
returns, and an incident row changes only together with the timeline event that explains it,
in one transaction. The rules of an incident's lifecycle are not here (``console.lifecycle``);
the store only writes what they decide.

Appends never refuse a time: an event's time is taken inside the append's lock (the store's
clock, or the database server's on PostgreSQL) — or, when the caller gives one (a simulated
world's time, a record imported with its own times), raised to the chain's last time, so a
timeline never runs backwards and concurrent writers never refuse each other.
"""

from __future__ import annotations

import builtins
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.clock import parse_ts
from console.errors import ActionInProgress, InvalidTransition, NotFound
from console.store.audit import (
    GENESIS,
    ChainReport,
    canonical,
    chain_of,
    event_hash,
    verify_rows,
)
from console.store.locks import LockHolder
from console.store.models import (
    MILESTONES,
    PHASES,
    SEVERITIES,
    Incident,
    NewEvent,
    TimelineEvent,
)

EVENT_COLS = "seq, chain, position, incident_id, ts, actor, kind, message, payload, prev_hash, hash"
INCIDENT_COLS = (
    "number",
    "id",
    "title",
    "model",
    "severity",
    "status",
    "phase",
    "env",
    "runbook",
    "drill",
    "alert_fingerprint",
    "created_at",
    "onset_at",
    "detected_at",
    "acknowledged_at",
    "mitigation_applied_at",
    "mitigated_at",
    "resolved_at",
    "reviewed_at",
    "data",
)
_INCIDENT_SELECT = ", ".join(INCIDENT_COLS)
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


def iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return at.isoformat()


def _dt(value: str | None) -> datetime | None:
    return parse_ts(value) if value else None


class Store(ABC):
    """An incident store. Subclasses give the connection, the transaction with its locks,
    the time inside the lock, and the schema; everything else is this SQL."""

    #: ``sqlite`` or ``postgres``: where the data lives (shown by ``rollbook store``)
    backend: str = ""
    #: whether ``events(kind_prefix=)`` filters with a range on the kind (exact under the
    #: backend's byte-wise collation, and served by the (incident_id, kind) index) instead
    #: of ``LIKE`` (case-insensitive on SQLite, and not indexed there)
    kind_range: bool = False
    #: the comparison operators of that range, and ``seq`` written so the planner does not
    #: pick the (incident_id, seq) index for it
    kind_ops: tuple[str, str] = (">=", "<")
    seq_unindexed: str = "+seq"

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock  # None: wall time (on PostgreSQL: the server's clock)
        self._lock = threading.RLock()
        self._held: dict[str, LockHolder] = {}  # models this process holds (any thread)
        self._held_lock = threading.Lock()

    # ---- what a backend provides --------------------------------------------------------
    @abstractmethod
    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    @contextmanager
    def _tx(self) -> Iterator[None]:
        """A write transaction (committed on exit, rolled back on an exception)."""

    @abstractmethod
    def _lock_chain(self, chain: str) -> None:
        """Inside ``_tx``: serialise appends to one chain (and only that chain)."""

    @abstractmethod
    def _lock_numbering(self) -> None:
        """Inside ``_tx``: serialise the allocation of incident numbers."""

    @abstractmethod
    def _now_in_lock(self) -> datetime:
        """The time, read inside the transaction (after its locks)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- one mitigation at a time (console.store.locks) ------------------------------------
    @abstractmethod
    def _try_model_lock(self, model: str, holder: LockHolder) -> LockHolder | None:
        """Take ``model``'s lock for ``holder``: None when taken, else who holds it."""

    @abstractmethod
    def _release_model_lock(self, model: str) -> None: ...

    @abstractmethod
    def _other_holder(self, model: str) -> LockHolder | None:
        """Who (in another process) holds ``model``'s lock now, if anyone."""

    def lock_holder(self, model: str) -> LockHolder | None:
        """Who holds ``model``'s action lock now (this process included), if anyone."""
        with self._held_lock:
            mine = self._held.get(model)
        return mine or self._other_holder(model)

    @contextmanager
    def model_lock(self, model: str, holder: LockHolder) -> Iterator[None]:
        """Hold ``model``'s action lock for the block, or raise ``ActionInProgress`` at once
        naming who holds it. Released when the block ends or the process dies."""
        with self._held_lock:
            mine = self._held.get(model)
            if mine is None:
                self._held[model] = holder
        if mine is not None:
            raise ActionInProgress(mine.describe(model), holder=mine)
        try:
            other = self._try_model_lock(model, holder)
            if other is not None:
                raise ActionInProgress(
                    other.describe(model), holder=other, hint="wait for it to end, then look again"
                )
            try:
                yield
            finally:
                self._release_model_lock(model)
        finally:
            with self._held_lock:
                self._held.pop(model, None)

    def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self._fetchall(sql, params)
        return rows[0] if rows else None

    # ---- events -------------------------------------------------------------------------
    def _append(
        self,
        incident_id: str | None,
        kind: str,
        message: str,
        *,
        actor: str,
        at: datetime | None,
        payload: dict[str, Any] | None,
    ) -> TimelineEvent:
        chain = chain_of(incident_id)
        self._lock_chain(chain)
        last = self._fetchone(
            "SELECT position, hash, ts FROM events WHERE chain = ? ORDER BY position DESC LIMIT 1",
            (chain,),
        )
        position, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        when = self._now_in_lock() if at is None else at
        if last is not None and parse_ts(last[2]) > when:
            when = parse_ts(last[2])  # a timeline never runs backwards: never refuse, raise
        ts = iso(when)
        payload_json = canonical(payload or {})
        h = event_hash(prev, chain, position, incident_id, ts, actor, kind, message, payload_json)
        seq = self._insert_event(
            (chain, position, incident_id, ts, actor, kind, message, payload_json, prev, h)
        )
        return TimelineEvent(
            seq, incident_id, when, actor, kind, message, payload or {}, prev, h, chain, position
        )

    def _insert_event(self, values: tuple) -> int:
        row = self._fetchone(
            "INSERT INTO events (chain, position, incident_id, ts, actor, kind, message, "
            "payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING seq",
            values,
        )
        assert row is not None
        return int(row[0])

    def append(
        self,
        incident_id: str | None,
        kind: str,
        message: str,
        *,
        actor: str,
        at: datetime | None = None,
        payload: dict[str, Any] | None = None,
    ) -> TimelineEvent:
        """Append one event (``incident_id=None`` for a standalone audit record). Without
        ``at`` the time is taken inside the append's lock."""
        with self._tx():
            if incident_id is not None:
                self._require(incident_id)
            return self._append(incident_id, kind, message, actor=actor, at=at, payload=payload)

    def append_many(self, incident_id: str | None, events: Iterable[NewEvent]) -> int:
        """Append events to one timeline in one transaction (an import, a fixture, a
        benchmark): each is chained, timed and hashed exactly as ``append`` does it, and
        either all are written or none (an unknown incident refuses the whole batch).
        ``events`` is consumed as it comes, so a generator of 100,000 events is never held
        whole. Returns how many were appended (0 for none)."""
        n = 0
        with self._tx():
            if incident_id is not None:
                self._require(incident_id)
            for e in events:
                self._append(
                    incident_id, e.kind, e.message, actor=e.actor, at=e.at, payload=e.payload
                )
                n += 1
        return n

    @staticmethod
    def _event(row: tuple) -> TimelineEvent:
        seq, chain, pos, iid, ts, actor, kind, msg, p, ph, h = row
        return TimelineEvent(
            int(seq), iid, parse_ts(ts), actor, kind, msg, json.loads(p), ph, h, chain, int(pos)
        )

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
        upper = _prefix_upper(kind_prefix) if kind_prefix and self.kind_range else None
        # with a kind range, an unindexed ``seq`` keeps the planner on the (incident_id, kind)
        # index: the (incident_id, seq) one would read every event of a long incident
        seq = self.seq_unindexed if upper is not None else "seq"
        sql = f"SELECT {EVENT_COLS} FROM events WHERE {seq} > ?"
        args: list[Any] = [after_seq]
        if kind_prefix and upper is not None:
            sql += f" AND kind {self.kind_ops[0]} ? AND kind {self.kind_ops[1]} ?"
            args += [kind_prefix, upper]
        elif kind_prefix:
            sql += " AND kind LIKE ? ESCAPE '\\'"
            args.append(kind_prefix.replace("_", "\\_").replace("%", "\\%") + "%")
        if not all_incidents:
            if incident_id is None:
                sql += " AND incident_id IS NULL"
            else:
                sql += " AND incident_id = ?"
                args.append(incident_id)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [self._event(r) for r in self._fetchall(sql, args)]

    def chain_events(self, chain: str, *, after_position: int = 0) -> list[TimelineEvent]:
        """One chain's events after ``after_position`` (how a follower catches up)."""
        rows = self._fetchall(
            f"SELECT {EVENT_COLS} FROM events WHERE chain = ? AND position > ? ORDER BY position",
            (chain, after_position),
        )
        return [self._event(r) for r in rows]

    def tail(self, incident_id: str | None, n: int) -> tuple[list[TimelineEvent], int]:
        """The last ``n`` events of one stream, oldest first, and how many it has in all
        (a 10,000-event timeline is not read whole to show its end)."""
        chain = chain_of(incident_id)
        rows = self._fetchall(
            f"SELECT {EVENT_COLS} FROM events WHERE chain = ? ORDER BY position DESC LIMIT ?",
            (chain, n),
        )
        head = self._fetchone("SELECT MAX(position) FROM events WHERE chain = ?", (chain,))
        total = int(head[0]) if head and head[0] is not None else 0
        return [self._event(r) for r in reversed(rows)], total

    def last_seq(self) -> int:
        """The newest event's sequence number (0 for an empty store)."""
        row = self._fetchone("SELECT MAX(seq) FROM events")
        return int(row[0]) if row and row[0] is not None else 0

    def heads(self) -> dict[str, tuple[int, int, str]]:
        """``chain → (position, seq, hash)`` as the database keeps them."""
        return {
            c: (int(p), int(s), h)
            for c, p, s, h in self._fetchall("SELECT chain, position, seq, hash FROM chain_heads")
        }

    def verify_chain(self) -> ChainReport:
        """Every chain checked link by link, and its end against its head."""
        with self._read_snapshot():
            rows = self._fetchall(f"SELECT {EVENT_COLS} FROM events ORDER BY chain, position")
            anchors = self._anchors()
        return verify_rows(rows, anchors)

    def _anchors(self) -> dict[str, tuple[int, int, str]]:
        return self.heads()

    @contextmanager
    def _read_snapshot(self) -> Iterator[None]:
        """One consistent snapshot for several reads (a transaction)."""
        with self._tx():
            yield

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
            self._lock_numbering()
            row = self._fetchone("SELECT MAX(number) FROM incidents")
            number = (int(row[0]) if row and row[0] is not None else 0) + 1
            iid = f"INC-{number:04d}"
            self._execute(
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
                    iso(at),
                    iso(onset_at) if onset_at else None,
                    iso(detected),
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
                    "detected_at": iso(detected),
                    "data": data or {},
                },
            )
        return self.get(iid)

    def _require(self, incident_id: str) -> Incident:
        row = self._fetchone(
            f"SELECT {_INCIDENT_SELECT} FROM incidents WHERE id = ?", (incident_id,)
        )
        if row is None:
            raise NotFound(
                f"no incident {incident_id!r}", hint="list them with: rollbook incidents"
            )
        return self._row(row)

    @staticmethod
    def _row(row: tuple) -> Incident:
        r = dict(zip(INCIDENT_COLS, row, strict=True))
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
        sql, args = f"SELECT {_INCIDENT_SELECT} FROM incidents WHERE 1=1", []
        if open_only:
            sql += " AND status NOT IN ('resolved', 'closed')"
        if model:
            sql += " AND model = ?"
            args.append(model)
        if env:
            sql += " AND env = ?"
            args.append(env)
        return [self._row(r) for r in self._fetchall(sql + " ORDER BY number", args)]

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
        at: datetime | None = None,
    ) -> Incident:
        """Apply the changes ``decide`` returns for the incident as it is *inside* the write
        transaction: each change's columns are updated together with its timeline event, so
        two processes deciding at once never both set a milestone or skip a phase. The rules
        themselves (order, implied milestones) live in ``console.lifecycle``; the store only
        keeps a column and its explaining event in one transaction."""
        with self._tx():
            self._lock_chain(chain_of(incident_id))
            inc = self._require(incident_id)
            for change in decide(inc):
                bad = set(change.columns) - _TRANSITION_COLUMNS
                if bad:
                    raise ValueError(f"not a lifecycle column: {', '.join(sorted(bad))}")
                if change.columns:
                    cols = ", ".join(f"{c} = ?" for c in change.columns)
                    self._execute(
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
        at: datetime | None = None,
        message: str,
        severity: str | None = None,
        runbook: str | None = None,
        data: dict[str, Any] | None = None,
        kind: str = "incident.updated",
        payload: dict[str, Any] | None = None,
    ) -> Incident:
        """Change severity/runbook or merge keys into the incident's data, with an event
        (``kind``, default ``incident.updated``; ``payload`` adds to what it carries)."""
        if severity is not None and severity not in SEVERITIES:
            raise InvalidTransition(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        with self._tx():
            self._lock_chain(chain_of(incident_id))
            inc = self._require(incident_id)
            merged = {**inc.data, **(data or {})}
            self._execute(
                "UPDATE incidents SET severity = ?, runbook = ?, data = ? WHERE id = ?",
                (severity or inc.severity, runbook or inc.runbook, canonical(merged), incident_id),
            )
            self._append(
                incident_id,
                kind,
                message,
                actor=actor,
                at=at,
                payload={
                    "severity": severity,
                    "runbook": runbook,
                    "data": data or {},
                    **(payload or {}),
                },
            )
        return self.get(incident_id)

    # ---- presence: who has the incident open (not part of the record) -------------------
    def heartbeat(self, incident_id: str, person: str, at: datetime) -> None:
        """``person`` is looking at ``incident_id`` now. Presence is not the record: it is
        overwritten, not appended, and expires on its own (``viewers``' ``since``)."""
        with self._tx():
            self._execute(
                "INSERT INTO presence (incident_id, person, seen_at) VALUES (?,?,?) "
                "ON CONFLICT (incident_id, person) DO UPDATE SET seen_at = excluded.seen_at",
                (incident_id, person, iso(at)),
            )

    def viewers(self, incident_id: str, since: datetime) -> builtins.list[tuple[str, datetime]]:
        """Who has looked at ``incident_id`` since ``since``: ``(person, last seen)``."""
        rows = self._fetchall(
            "SELECT person, seen_at FROM presence WHERE incident_id = ? AND seen_at >= ? "
            "ORDER BY person",
            (incident_id, iso(since)),
        )
        return [(p, parse_ts(t)) for p, t in rows]


def _prefix_upper(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` under a code-point
    (byte-wise UTF-8) order — ``"action."`` → ``"action/"`` — or None when there is none
    to give (the last character is the largest code point, or ends below the surrogates)."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF or last == 0xD7FF:
        return None
    return prefix[:-1] + chr(last + 1)
