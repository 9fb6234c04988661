"""The store's tests run against both backends: SQLite (a file per test) and the real
PostgreSQL 15 from Debian, started once per session as the ``postgres`` user (the server
refuses root) on a free port in a temp dir and stopped by PID; each test gets a database of
its own. PostgreSQL is skipped, saying why, only when its binaries are missing."""

from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "local-stack"))

from postgres import PostgresServer, postgres_bin  # noqa: E402

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def store_pg_server():
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries missing (apt-get install postgresql; .ci/run does)")
    pytest.importorskip("psycopg", reason="psycopg missing (pip install -e '.[test]')")
    workdir = Path(tempfile.mkdtemp(prefix="rollbook-store-pg-"))
    server = PostgresServer(workdir, max_connections=80)
    try:
        server.launch().wait()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def fresh_database(server: PostgresServer) -> str:
    """A new, empty database on ``server``; its DSN."""
    import psycopg

    name = f"rb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.dsn, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return server.dsn.replace("dbname=postgres", f"dbname={name}")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def open_store_at(backend, tmp_path, request):
    """``open_store_at()`` → a new store object on this test's database (several calls
    give several connections to the same one), closed at teardown."""
    from console.store.postgres import PostgresStore
    from console.store.sqlite import SqliteStore

    if backend == "postgres":
        dsn = fresh_database(request.getfixturevalue("store_pg_server"))
    opened = []

    def make(**kw):
        s = (
            PostgresStore(dsn, **kw)
            if backend == "postgres"
            else SqliteStore(tmp_path / "incidents.db", **kw)
        )
        opened.append(s)
        return s

    make.dsn = dsn if backend == "postgres" else None  # type: ignore[attr-defined]
    make.path = tmp_path / "incidents.db"  # type: ignore[attr-defined]
    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(open_store_at):
    return open_store_at()


def tamper(store, *statements: str) -> None:
    """Run SQL behind the store's back with its append-only triggers out of the way (what a
    person with write access to the database could do)."""
    if store.backend == "sqlite":
        from console.store.sqlite import TRIGGERS

        store._db.executescript(
            "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;"
            "DROP TRIGGER IF EXISTS chain_heads_no_delete;"
            "DROP TRIGGER IF EXISTS chain_heads_forward_only;" + ";".join(statements) + ";"
        )
        store._db.executescript(TRIGGERS)  # back as they were
    else:
        with store._conn.transaction():
            store._conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
            store._conn.execute("ALTER TABLE chain_heads DISABLE TRIGGER USER")
            for st in statements:
                store._conn.execute(st)
            store._conn.execute("ALTER TABLE events ENABLE TRIGGER USER")
            store._conn.execute("ALTER TABLE chain_heads ENABLE TRIGGER USER")
