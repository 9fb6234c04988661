"""Real engines for the prediction-log tests: PostgreSQL 15 from Debian, started by the test
session in a temp dir (as the ``postgres`` user when we are root: the server refuses root),
and one local Spark session for the whole run. Each is skipped, with the reason, only when
its program is missing."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "local-stack"))

from postgres import PostgresServer, postgres_bin  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries missing (apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="psycopg missing (pip install -e '.[test]')")
    # not under pytest's temp root: that is private to us, and the server's user must reach
    # its cluster directory
    workdir = Path(tempfile.mkdtemp(prefix="rollbook-pg-"))
    server = PostgresServer(workdir)
    try:
        server.launch().wait()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_session():
    pytest.importorskip("pyspark", reason="pyspark missing (pip install -e '.[test]')")
    if shutil.which("java") is None:
        pytest.skip("java missing: Spark needs a JRE (Debian openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("rollbook-tests")
        .config("spark.driver.memory", "512m")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def seeded_stack_world(tmp_path_factory) -> Path:
    """An embedded world (registry, metrics, traffic for the log tests) seeded once, now."""
    from plugins.embedded.world import EmbeddedWorld

    path = tmp_path_factory.mktemp("world") / "embedded-stack.db"
    EmbeddedWorld(path).close()
    return path


@pytest.fixture
def stack_home(rollbook_home, seeded_stack_world) -> Path:
    """``ROLLBOOK_HOME`` with the seeded world copied in (env ``stack``)."""
    data = rollbook_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(seeded_stack_world) + suffix)
        if src.exists():
            shutil.copy(src, data / (src.name))
    return rollbook_home
