"""Live: another person's event reaches every screen within a second.

A ``Watcher`` waits for the store to change: PostgreSQL LISTENs on ``rollbook_events`` (the
payload is only the chain and position; notifications sent while disconnected are lost, so a
follower catches up by position on every (re)connect); SQLite is polled cheaply (the last
event's ``seq``, an index lookup, every ``POLL_S``). Only *events* wake a watcher: presence
heartbeats (written by every open console) do not, or two consoles would wake each other
for ever. ``follow`` prints an incident's events as they arrive, keeps going through a
dropped connection (saying so, with the time of the last event) and catches up when it is
back; ``watch`` is the console's loop (a callback per change, the same reconnecting).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.errors import RollbookError
from console.store import Store, TimelineEvent
from console.store.audit import chain_of

POLL_S = 0.2  # SQLite: how often the change counter is read


class Watcher:
    """``changed(timeout)`` → True when the store may have changed since the last call."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._listen: Any = None  # a psycopg connection that LISTENs
        self._version: int | None = None
        if store.backend == "postgres":
            self._connect()
        else:
            # where the store stands now, before the caller's catch-up read: an event
            # committed between the two is a change, not the starting point
            self._version = store.last_seq()

    def _connect(self) -> None:
        import psycopg

        dsn = self.store.dsn  # type: ignore[attr-defined]
        self._listen = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
        self._listen.execute("LISTEN rollbook_events")

    def changed(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds. Raises ``RollbookError`` when the store is
        unreachable (the caller reports DEGRADED and calls again: it reconnects)."""
        if self.store.backend == "postgres":
            return self._changed_pg(timeout)
        return self._changed_sqlite(timeout)

    def _changed_sqlite(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            version = self.store.last_seq()
            if self._version is None:
                self._version = version
            elif version != self._version:
                self._version = version
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(min(POLL_S, max(0.0, end - time.monotonic())))

    def _changed_pg(self, timeout: float) -> bool:
        import psycopg

        try:
            if self._listen is None or self._listen.closed:
                self._connect()
                return True  # (re)connected: anything may have been missed — catch up
            assert self._listen is not None
            got = False
            for _ in self._listen.notifies(timeout=timeout, stop_after=1):
                got = True
            return got
        except psycopg.Error as exc:
            if self._listen is not None:
                self._listen.close()
            self._listen = None
            raise RollbookError(f"the store's change feed: {exc}".strip()) from None

    def close(self) -> None:
        if self._listen is not None:
            self._listen.close()


@dataclass
class FollowState:
    last_position: int = 0
    last_at: datetime | None = None
    degraded: str | None = None


def follow(
    store_factory: Callable[[], Store],
    incident_id: str,
    *,
    on_event: Callable[[TimelineEvent], None],
    on_status: Callable[[str], None],
    stop: Callable[[], bool] = lambda: False,
    after_position: int = 0,
    retry_s: float = 1.0,
) -> FollowState:
    """Print ``incident_id``'s events from ``after_position`` on, then each new one as it
    arrives, until ``stop()``. A lost store connection is reported through ``on_status``
    (with the time of the last event), retried every ``retry_s``, and caught up by position
    when it is back: nothing is lost or shown twice."""
    state = FollowState(after_position)
    chain = chain_of(incident_id)
    store: Store | None = None
    watcher: Watcher | None = None
    while not stop():
        try:
            if store is None:
                store = store_factory()
                watcher = Watcher(store)
                if state.degraded:
                    on_status(
                        f"store connection back at {datetime.now(UTC):%H:%M:%S} UTC; catching up"
                    )
                    state.degraded = None
            for ev in store.chain_events(chain, after_position=state.last_position):
                on_event(ev)
                state.last_position, state.last_at = ev.position, ev.ts
            assert watcher is not None
            watcher.changed(1.0)
        except RollbookError as exc:
            if not state.degraded:
                last = (
                    f"last event #{state.last_position} at {state.last_at:%H:%M:%S} UTC"
                    if state.last_at
                    else "no event yet"
                )
                on_status(f"▲ DEGRADED: {exc.message} — {last}; retrying")
            state.degraded = exc.message
            for thing in (watcher, store):
                if thing is not None:
                    with contextlib.suppress(Exception):  # it is broken already
                        thing.close()
            store, watcher = None, None
            time.sleep(retry_s)
    for thing in (watcher, store):
        if thing is not None:
            thing.close()
    return state


def watch(
    store_factory: Callable[[], Store],
    *,
    on_change: Callable[[], None],
    on_status: Callable[[str | None], None],
    stop: Callable[[], bool],
    every: float = 1.0,
    retry_s: float = 1.0,
) -> None:
    """Call ``on_change()`` each time another writer's event lands in the store, until
    ``stop()`` (checked at least every ``every`` seconds). A lost store is reported through
    ``on_status(message)`` once, retried every ``retry_s``, and ``on_status(None)`` then
    ``on_change()`` when it is back (anything may have been missed)."""
    store: Store | None = None
    watcher: Watcher | None = None
    lost = False
    while not stop():
        try:
            if store is None:
                store = store_factory()
                watcher = Watcher(store)
                if lost:
                    lost = False
                    on_status(None)
                    on_change()
            assert watcher is not None
            if watcher.changed(every):
                on_change()
        except Exception as exc:  # noqa: BLE001 - a lost feed is reported and retried
            if not lost:
                why = exc.message if isinstance(exc, RollbookError) else str(exc)
                on_status(f"the store's change feed: {why or type(exc).__name__}")
            lost = True
            for thing in (watcher, store):
                if thing is not None:
                    with contextlib.suppress(Exception):  # it is broken already
                        thing.close()
            store, watcher = None, None
            time.sleep(retry_s)
    for thing in (watcher, store):
        if thing is not None:
            with contextlib.suppress(Exception):
                thing.close()


def changes(store: Store, *, every: float = 1.0) -> Iterator[bool]:
    """For the console: yields after each wait (True when the store changed)."""
    watcher = Watcher(store)
    try:
        while True:
            yield watcher.changed(every)
    finally:
        watcher.close()
