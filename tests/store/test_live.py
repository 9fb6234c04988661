"""Live: another person's event reaches a follower within a second, on both backends; a
follower keeps going through a PostgreSQL restart, says it is DEGRADED, and catches up by
position — nothing lost, nothing twice."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from console.live import follow
from tests.conftest import T0
from tests.store.conftest import PostgresServer, fresh_database


def start_follower(factory, incident_id, events, statuses, stop):
    t = threading.Thread(
        target=follow,
        args=(factory, incident_id),
        kwargs={
            "on_event": lambda ev: events.append((time.monotonic(), ev)),
            "on_status": statuses.append,
            "stop": stop.is_set,
            "retry_s": 0.3,
        },
        daemon=True,
    )
    t.start()
    return t


def gone(pidfile: Path) -> None:
    """The old postmaster has really exited (its pid file goes last)."""
    import os

    end = time.monotonic() + 20
    while pidfile.exists() and time.monotonic() < end:
        try:
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            pidfile.unlink(missing_ok=True)  # stale: its process is gone
            return
        time.sleep(0.1)


def wait(cond, timeout=15.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "not reached in time"
        time.sleep(0.02)


def test_a_note_reaches_a_follower_within_a_second(open_store_at):
    writer = open_store_at()
    inc = writer.create_incident(title="t", model="m", severity="SEV3", env="e", actor="a", at=T0)
    events, statuses, stop = [], [], threading.Event()
    t = start_follower(open_store_at, inc.id, events, statuses, stop)
    try:
        wait(lambda: len(events) == 1)  # the opening event
        time.sleep(0.3)
        sent = time.monotonic()
        writer.append(inc.id, "note", "from ben", actor="ben", at=T0)
        wait(lambda: len(events) == 2)
        assert events[1][1].message == "from ben"
        assert events[1][0] - sent < 1.0
    finally:
        stop.set()
        t.join(5)
    assert statuses == []


def test_the_console_watch_wakes_on_events_not_on_presence(open_store_at):
    """``watch`` (what the console runs): another writer's event wakes it within a second;
    presence heartbeats — every open console writes one — do not, or two consoles would
    wake each other for ever."""
    from console.live import watch

    writer = open_store_at()
    inc = writer.create_incident(title="t", model="m", severity="SEV3", env="e", actor="a", at=T0)
    woken, statuses, stop = [], [], threading.Event()
    t = threading.Thread(
        target=watch,
        args=(open_store_at,),
        kwargs={
            "on_change": lambda: woken.append(time.monotonic()),
            "on_status": statuses.append,
            "stop": stop.is_set,
            "every": 0.2,
        },
        daemon=True,
    )
    t.start()
    try:
        time.sleep(0.6)  # the watcher has read where the store stands
        woken.clear()
        for _ in range(3):
            writer.heartbeat(inc.id, "ben", T0)
            time.sleep(0.3)
        assert woken == []
        sent = time.monotonic()
        writer.append(inc.id, "note", "from ben", actor="ben", at=T0)
        wait(lambda: len(woken) >= 1)
        assert woken[0] - sent < 1.0
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive() and statuses == []


def test_a_follower_survives_a_postgres_restart_and_catches_up():
    from console.store.postgres import PostgresStore

    workdir = Path(tempfile.mkdtemp(prefix="rollbook-pg-restart-"))
    server = PostgresServer(workdir)
    try:
        server.launch().wait()
        dsn = fresh_database(server)
        writer = PostgresStore(dsn)
        inc = writer.create_incident(
            title="t", model="m", severity="SEV3", env="e", actor="a", at=T0
        )
        writer.close()
        events, statuses, stop = [], [], threading.Event()
        t = start_follower(
            lambda: PostgresStore(dsn, connect_timeout=2), inc.id, events, statuses, stop
        )
        wait(lambda: len(events) == 1)
        server.stop()
        wait(lambda: any("DEGRADED" in s for s in statuses))
        assert "last event #1" in next(s for s in statuses if "DEGRADED" in s)
        gone(workdir / "data" / "postmaster.pid")
        server.launch().wait()
        with PostgresStore(dsn) as w:  # written while the follower was away: no NOTIFY for it
            for i in range(3):
                w.append(inc.id, "note", f"n{i}", actor="ben", at=T0)
        wait(lambda: len(events) == 4, timeout=30)
        assert [e.position for _, e in events] == [1, 2, 3, 4]  # caught up, none twice
        assert any("back" in s for s in statuses)
        stop.set()
        t.join(5)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _pg_only_for_restart(request, backend):
    if "restart" in request.node.name and backend != "postgres":
        pytest.skip("the restart is PostgreSQL's")


def test_an_event_between_the_watchers_start_and_the_catch_up_read_is_a_change(open_store_at):
    """The watcher takes its starting point when it is made, before the follower's catch-up
    read: an event committed in between wakes it at once, not after the timeout."""
    from console.live import Watcher

    writer, reader = open_store_at(), open_store_at()
    inc = writer.create_incident(title="t", model="m", severity="SEV3", env="e", actor="a", at=T0)
    watcher = Watcher(reader)
    try:
        reader.events(inc.id)  # the catch-up read
        writer.append(inc.id, "note", "in between", actor="ben", at=T0)
        started = time.monotonic()
        assert watcher.changed(2.0)
        assert time.monotonic() - started < 1.0
    finally:
        watcher.close()
