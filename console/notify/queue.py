"""The durable queue: notifications live on the incident's timeline, nowhere else.

A notification's state is the last ``notify.*`` event about it (``docs/events.md``):
``queued`` → (``sending`` → ``deferred``)* → ``sending`` → ``sent`` | ``failed``. The
``Ledger`` folds those events into states so the sender knows what is due; it is only a
cache of the store, rebuilt by any process from the events alone.

Writes that must not happen twice are decided inside the store's write transaction
(``Store.transition``, like the lifecycle's): queueing an id that is already queued adds
nothing, and an attempt is claimed only when the notification is still where the claimer
saw it — two consoles never both send it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from console.enums import EventKind
from console.errors import InvalidTransition
from console.notify.model import Message
from console.store import Incident, TimelineEvent
from console.store.incidents import Change


class Store(Protocol):
    """The part of the incident store notifications use — its public API only (no table of
    their own), so any store backend carries them."""

    def append(
        self,
        incident_id: str | None,
        kind: str,
        message: str,
        *,
        actor: str,
        at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> TimelineEvent: ...

    def events(
        self,
        incident_id: str | None = None,
        *,
        after_seq: int = 0,
        limit: int | None = None,
        all_incidents: bool = False,
        kind_prefix: str | None = None,
    ) -> list[TimelineEvent]: ...

    def tail(self, incident_id: str | None, n: int) -> tuple[list[TimelineEvent], int]: ...

    def transition(
        self,
        incident_id: str,
        decide: Callable[[Incident], Sequence[Change]],
        *,
        actor: str,
        at: datetime,
    ) -> Incident: ...

    def get(self, incident_id: str) -> Incident: ...


ACTOR = "rollbook"  # notifications are the console's own doing, not a person's
#: Events re-read below the ledger's cursor on every refresh: on a store whose sequence
#: numbers can become visible out of order (PostgreSQL commits), a late one is still seen.
OVERLAP = 64
#: An attempt's lease is its timeout plus this margin (seconds): past it, with no outcome
#: recorded, the attempt is taken to have died with its process.
LEASE_MARGIN_S = 30.0

QUEUED, SENDING, DEFERRED, SENT, FAILED = "queued", "sending", "deferred", "sent", "failed"
TERMINAL = frozenset({SENT, FAILED})
_STATE_OF = {
    EventKind.NOTIFY_QUEUED: QUEUED,
    EventKind.NOTIFY_SENDING: SENDING,
    EventKind.NOTIFY_DEFERRED: DEFERRED,
    EventKind.NOTIFY_SENT: SENT,
    EventKind.NOTIFY_FAILED: FAILED,
}


def owner() -> dict[str, Any]:
    """Who makes an attempt: this host and process."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _alive(who: dict[str, Any] | None) -> bool:
    """Whether the process that owns an attempt may still be running. On another host it
    cannot be told: the lease decides."""
    if not who or who.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(who.get("pid") or 0), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return True


def _epoch(iso: Any) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return None


def wall_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass
class Notification:
    """One message to one channel, as its events left it."""

    id: str
    incident_id: str
    channel: str
    message: Message
    queued_seq: int
    source_seq: int
    state: str = QUEUED
    last_seq: int = 0
    attempts: int = 0
    retry_at: float | None = None  # epoch seconds (wall clock)
    lease_until: float | None = None
    holder: dict[str, Any] | None = None
    unknown: bool = False  # the last attempt may have delivered it (a timeout, a crash)
    remote_id: str | None = None
    thread: str | None = None
    found: bool = False
    error: str | None = None
    status: int | None = None
    sent_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.state in TERMINAL

    def abandoned(self, now: float) -> bool:
        """An attempt with no outcome whose process is gone, or whose lease has passed."""
        if self.state != SENDING:
            return False
        return not _alive(self.holder) or (self.lease_until is not None and now > self.lease_until)

    def due(self, now: float) -> bool:
        if self.state == QUEUED:
            return True
        if self.state == DEFERRED:
            return self.retry_at is None or now >= self.retry_at
        return self.abandoned(now)

    def when_due(self, now: float) -> float | None:
        """Epoch seconds when it becomes due (``now`` if it is), None if never by itself."""
        if self.due(now):
            return now
        if self.state == DEFERRED:
            return self.retry_at
        if self.state == SENDING:
            return self.lease_until
        return None


@dataclass
class Ledger:
    """Every notification of one environment, folded from the ``notify.*`` events.

    ``refresh`` reads the events written since the last read (by any process) — one query
    on the event kind; ``see`` applies one event this process just wrote."""

    store: Store
    env: str
    items: dict[str, Notification] = field(default_factory=dict)
    cursor: int = 0
    _seen: set[int] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def refresh(self) -> None:
        events = self.store.events(
            all_incidents=True, after_seq=max(0, self.cursor - OVERLAP), kind_prefix="notify."
        )
        with self._lock:
            for e in events:
                self.see(e)

    def see(self, e: TimelineEvent) -> None:
        with self._lock:
            if e.seq in self._seen:
                return
            self._seen.add(e.seq)
            if len(self._seen) > 4 * OVERLAP:  # only the window below the cursor matters
                floor = max(0, max(self.cursor, e.seq) - 2 * OVERLAP)
                self._seen = {s for s in self._seen if s >= floor}
            self.cursor = max(self.cursor, e.seq)
            self._apply(e)

    def _apply(self, e: TimelineEvent) -> None:
        p = e.payload or {}
        nid = p.get("notification_id")
        state = _STATE_OF.get(EventKind(e.kind)) if e.kind in _STATE_OF else None
        if not nid or state is None or e.incident_id is None:
            return
        n = self.items.get(str(nid))
        if e.kind == EventKind.NOTIFY_QUEUED:
            msg = Message.from_dict(p.get("message") or {})
            if n is not None or msg.env != self.env:
                return
            self.items[str(nid)] = Notification(
                id=str(nid),
                incident_id=e.incident_id,
                channel=str(p.get("channel")),
                message=msg,
                queued_seq=e.seq,
                source_seq=int(p.get("source_seq") or 0),
                last_seq=e.seq,
            )
            return
        if n is None or e.seq <= n.last_seq:
            return  # another environment's, or older than what is known (an overlap re-read)
        n.state, n.last_seq = state, e.seq
        if state == SENDING:
            n.attempts = int(p.get("attempt") or n.attempts + 1)
            n.lease_until = _epoch(p.get("lease_until"))
            n.holder = p.get("owner")
        elif state == DEFERRED:
            n.retry_at = _epoch(p.get("retry_at"))
            n.unknown = bool(p.get("unknown"))
            n.error, n.status = p.get("error"), p.get("status")
        elif state == SENT:
            n.remote_id, n.thread = p.get("remote_id"), p.get("thread")
            n.found, n.unknown, n.sent_at = bool(p.get("found")), False, e.ts
        elif state == FAILED:
            n.error, n.status = p.get("error"), p.get("status")

    # ---- reading --------------------------------------------------------------------------
    def known(self, notification_id: str) -> bool:
        with self._lock:
            return notification_id in self.items

    def snapshot(self, notification_id: str) -> Notification | None:
        """A copy of the notification as the ledger knows it now. Decide on the copy: the
        ledger's own object changes under a refresh, and a claim must be made against the
        state the decision was made on."""
        with self._lock:
            n = self.items.get(notification_id)
            return replace(n) if n is not None else None

    def max_source_seq(self) -> int:
        with self._lock:
            return max((n.source_seq for n in self.items.values()), default=0)

    def thread(self, incident_id: str, channel: str) -> str | None:
        """The incident's thread in a channel: the one its first delivered message started."""
        with self._lock:
            sent = [
                n
                for n in self.items.values()
                if n.incident_id == incident_id and n.channel == channel and n.thread
            ]
        return min(sent, key=lambda n: n.queued_seq).thread if sent else None

    def heads(self, channel: str) -> list[Notification]:
        """Per incident, the oldest notification to ``channel`` not yet sent or failed: a
        channel hears an incident's messages in the order they were queued, so a message
        waiting for a retry holds back the ones after it (of that incident only)."""
        with self._lock:
            first: dict[str, Notification] = {}
            for n in sorted(self.items.values(), key=lambda n: n.queued_seq):
                if n.channel == channel and not n.done and n.incident_id not in first:
                    first[n.incident_id] = n
        return sorted(first.values(), key=lambda n: n.queued_seq)

    def pending(self, channel: str | None = None) -> list[Notification]:
        with self._lock:
            return [
                n
                for n in self.items.values()
                if not n.done and (channel is None or n.channel == channel)
            ]

    def of_source(self, source_seq: int) -> list[Notification]:
        with self._lock:
            return [n for n in self.items.values() if n.source_seq == source_seq]


# ---- writing ----------------------------------------------------------------------------
def stamp(store: Store, incident_id: str, now: datetime) -> datetime:
    """``now``, raised to the incident's last event: a notification never makes the
    timeline run backwards (its clock may be another process's)."""
    last, _ = store.tail(incident_id, 1)
    return max(now, last[0].ts) if last else now


def _write(
    store: Store,
    incident_id: str,
    decide: Callable[[Incident], Sequence[Change]],
    now: Callable[[], datetime],
) -> None:
    """``store.transition`` with the time raised to the chain's last; one retry when another
    writer got in between (a store that refuses a time earlier than the last event's)."""
    for attempt in range(3):
        try:
            store.transition(incident_id, decide, actor=ACTOR, at=stamp(store, incident_id, now()))
            return
        except InvalidTransition:
            if attempt == 2:
                raise


def queue(
    store: Store,
    incident_id: str,
    entries: Iterable[dict[str, Any]],
    now: Callable[[], datetime],
) -> list[str]:
    """Queue ``entries`` (``notify.queued`` payloads with their ``message``) on the incident,
    each id once: an id already queued — by this process or another — is skipped inside the
    write transaction. Returns the ids queued now."""
    wanted = list(entries)
    done: list[str] = []

    def decide(_inc: Incident) -> list[Change]:
        done.clear()
        there = {
            e.payload.get("notification_id")
            for e in store.events(incident_id, kind_prefix=EventKind.NOTIFY_QUEUED.value)
        }
        out = []
        for p in wanted:
            if p["notification_id"] in there:
                continue
            msg = p["message"]
            done.append(p["notification_id"])
            out.append(
                Change(
                    EventKind.NOTIFY_QUEUED,
                    f"{p['channel']}: {msg['headline']}",
                    payload=p,
                )
            )
        return out

    if wanted:
        _write(store, incident_id, decide, now)
    return done


def claim(
    store: Store,
    n: Notification,
    now: Callable[[], datetime],
    *,
    timeout_s: float,
    thread: str | None,
) -> bool:
    """Record an attempt (``notify.sending``) before it is made — only if the notification
    is still in the state this process last saw (no one else claimed, sent or failed it
    since). Returns whether this process may send."""
    won: list[bool] = []
    attempt = n.attempts + 1
    lease = time.time() + timeout_s + LEASE_MARGIN_S

    def decide(_inc: Incident) -> list[Change]:
        won.clear()
        mine = [
            e
            for e in store.events(n.incident_id, after_seq=n.queued_seq - 1, kind_prefix="notify.")
            if e.payload.get("notification_id") == n.id
        ]
        if not mine or mine[-1].seq != n.last_seq:
            return []
        won.append(True)
        what = "again, checking first" if n.unknown or n.state == SENDING else ""
        return [
            Change(
                EventKind.NOTIFY_SENDING,
                f"{n.channel}: sending (attempt {attempt}{', ' + what if what else ''})",
                payload={
                    "notification_id": n.id,
                    "channel": n.channel,
                    "attempt": attempt,
                    "owner": owner(),
                    "lease_until": wall_iso(lease),
                    "thread": thread,
                    "recovering": n.unknown or n.state == SENDING,
                },
            )
        ]

    _write(store, n.incident_id, decide, now)
    return bool(won)


def record(
    store: Store,
    n: Notification,
    kind: EventKind,
    message: str,
    now: Callable[[], datetime],
    **payload: Any,
) -> TimelineEvent:
    """Record an attempt's outcome (``notify.sent`` / ``deferred`` / ``failed``)."""
    body = {"notification_id": n.id, "channel": n.channel, **payload}
    for attempt in range(3):
        try:
            return store.append(
                n.incident_id,
                kind,
                f"{n.channel}: {message}",
                actor=ACTOR,
                at=stamp(store, n.incident_id, now()),
                payload=body,
            )
        except InvalidTransition:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
