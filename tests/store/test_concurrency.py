"""Eight writers at once, as eight consoles and CLIs would: on one incident and on eight,
each a process with its own connection, on SQLite and on PostgreSQL. Every append lands
(none refused, no "database is locked"), every chain verifies, none forks."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from tests.conftest import T0

WRITERS, EACH = 8, 25


def _writer(backend: str, where: str, incidents: list[str], n: int, out) -> None:
    try:
        if backend == "sqlite":
            from console.store.sqlite import SqliteStore

            store = SqliteStore(where)
        else:
            from console.store.postgres import PostgresStore

            store = PostgresStore(where)
        with store:
            for i in range(n):
                store.append(incidents[i % len(incidents)], "note", f"n{i}", actor="w")
        out.put(None)
    except BaseException as exc:  # reported to the parent, which fails the test
        out.put(repr(exc))


@pytest.mark.parametrize("spread", ["one incident", "eight incidents"])
def test_eight_writers_at_once(open_store_at, backend, spread):
    store = open_store_at()
    incs = [
        store.create_incident(title="t", model="m", severity="SEV3", env="e", actor="a", at=T0).id
        for _ in range(1 if spread == "one incident" else WRITERS)
    ]
    where = open_store_at.dsn if backend == "postgres" else str(open_store_at.path)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_writer,
            args=(backend, where, incs if spread == "one incident" else [incs[k]], EACH, out),
        )
        for k in range(WRITERS)
    ]
    for p in procs:
        p.start()
    errors = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert errors == [None] * WRITERS
    report = store.verify_chain()
    assert report.ok, report.problem
    assert report.checked == len(incs) + WRITERS * EACH
    for iid in incs:
        positions = [e.position for e in store.events(iid)]
        assert positions == list(range(1, len(positions) + 1))  # no gap, no fork
        times = [e.ts for e in store.events(iid)]
        assert times == sorted(times)  # taken inside the lock: never out of order


def _opener(backend: str, where: str, out) -> None:
    try:
        if backend == "sqlite":
            from console.store.sqlite import SqliteStore

            store = SqliteStore(where)
        else:
            from console.store.postgres import PostgresStore

            store = PostgresStore(where)
        with store:
            inc = store.create_incident(
                title="t", model="m", severity="SEV3", env="e", actor="a", at=T0
            )
        out.put(inc.id)
    except BaseException as exc:
        out.put(repr(exc))


def test_eight_consoles_starting_at_once_on_a_new_store(backend, tmp_path, request):
    """The schema is created and migrated under a lock: no CREATE TABLE race, and incident
    numbers are handed out once each."""
    if backend == "postgres":
        from tests.store.conftest import fresh_database

        where = fresh_database(request.getfixturevalue("store_pg_server"))
    else:
        where = str(tmp_path / "fresh.db")
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(backend, where, out)) for _ in range(WRITERS)]
    for p in procs:
        p.start()
    ids = sorted(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(30)
    assert ids == [f"INC-{n:04d}" for n in range(1, WRITERS + 1)], ids
