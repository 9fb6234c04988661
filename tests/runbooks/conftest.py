"""Fixtures: the embedded world seeded once per session at T0, copied into each test's own
ROLLBOOK_HOME, opened on a manual clock."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console.clock import ManualClock
from console.workspace import open_workspace
from tests.conftest import T0

WORLD_FILE = "embedded-demo.db"


@pytest.fixture(scope="session")
def seeded_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo world seeded at T0 (seeding a day of history takes a few seconds)."""
    from plugins.embedded.world import EmbeddedWorld

    path = tmp_path_factory.mktemp("world") / WORLD_FILE
    EmbeddedWorld(path, clock=ManualClock(T0)).close()
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def ws(seeded_world: Path, rollbook_home: Path, clock: ManualClock):
    data = rollbook_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(seeded_world) + suffix)
        if src.exists():
            shutil.copy(src, data / (WORLD_FILE + suffix))
    with open_workspace("demo", clock=clock) as w:
        yield w
