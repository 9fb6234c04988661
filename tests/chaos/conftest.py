"""The chaos suite's knobs: ``ROLLBOOK_CHAOS_SEED`` (printed with every failure: set it to
replay the same kill points), ``ROLLBOOK_CHAOS_N`` (kill points per action and signal: 100
in the full run, a fast subset by default), and ``ROLLBOOK_CHAOS_REPORT`` (a JSON file the
figures are written to, for the README)."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest

DEFAULT_N = 3  # per action and signal: 8 actions x 3 signals x 3 = 72 kills, about a minute


def chaos_seed() -> int:
    value = os.environ.get("ROLLBOOK_CHAOS_SEED")
    return int(value) if value else random.SystemRandom().randrange(1, 2**31)


SEED = chaos_seed()


def chaos_n() -> int:
    return max(1, int(os.environ.get("ROLLBOOK_CHAOS_N") or DEFAULT_N))


@pytest.fixture(scope="session")
def seed() -> int:
    return SEED


@pytest.fixture(scope="session")
def n_kills() -> int:
    return chaos_n()


class Figures:
    """Outcomes gathered over the session, written to ``ROLLBOOK_CHAOS_REPORT``."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {"seed": SEED, "n": chaos_n(), "kills": {}, "pairs": {}}

    def add(self, section: str, key: str, value: object) -> None:
        self.data.setdefault(section, {})[key] = value  # type: ignore[union-attr]
        path = os.environ.get("ROLLBOOK_CHAOS_REPORT")
        if path:
            Path(path).write_text(json.dumps(self.data, indent=1, default=str))


@pytest.fixture(scope="session")
def figures() -> Figures:
    return Figures()


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    """``prepared(name)`` → (template home, reference run) of a scenario, built on first use
    from one seeded world."""
    from tests.chaos.kills import measure
    from tests.chaos.scenarios import SCENARIOS, build_template, seed_world

    cache: dict[str, tuple] = {}
    base: list = []

    def seeded() -> Path:
        if not base:
            base.append(seed_world(tmp_path_factory.mktemp("chaos-base") / "home"))
        return base[0]

    def get(name: str):
        if name not in cache:
            root = tmp_path_factory.mktemp(f"chaos-{name}")
            template = build_template(seeded(), root / "template", SCENARIOS[name])
            cache[name] = (template, measure(template, SCENARIOS[name], root / "measure"))
        return cache[name]

    get.seeded = seeded  # type: ignore[attr-defined]
    return get


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        report.sections.append(
            (
                "chaos seed",
                f"ROLLBOOK_CHAOS_SEED={SEED} ROLLBOOK_CHAOS_N={chaos_n()} replays these kill "
                f"points: ROLLBOOK_CHAOS_SEED={SEED} pytest '{item.nodeid}'",
            )
        )
    return report


@pytest.fixture
def rollbook(capsys):
    """Run ``rollbook ARGS…`` in this process through the real entry point: ``(exit code,
    stdout, stderr)``."""
    from console.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def pg_server():
    """The store tests' PostgreSQL server (Debian's, started as the ``postgres`` user on a
    free port); skipped, saying why, when its binaries are missing."""
    from tests.store.conftest import postgres_bin

    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries missing (apt-get install postgresql; .ci/run does)")
    pytest.importorskip("psycopg", reason="psycopg missing (pip install -e '.[test]')")
    from tests.store.conftest import PostgresServer

    workdir = Path(tempfile.mkdtemp(prefix="rollbook-chaos-pg-"))
    server = PostgresServer(workdir, max_connections=80)
    try:
        server.launch().wait()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
