"""Fixtures: a world seeded once per session at 2024-10-01 06:52 UTC, copied per test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from console.clock import ManualClock
from plugins.embedded.metrics import EmbeddedMetrics
from plugins.embedded.predictions import EmbeddedPredictionLog
from plugins.embedded.registry import EmbeddedRegistry
from plugins.embedded.traffic import EmbeddedTraffic
from plugins.embedded.world import EmbeddedWorld

START = datetime(2024, 10, 1, 6, 52, tzinfo=UTC)


@dataclass
class Env:
    world: EmbeddedWorld
    clock: ManualClock
    registry: EmbeddedRegistry
    metrics: EmbeddedMetrics
    traffic: EmbeddedTraffic
    predictions: EmbeddedPredictionLog

    def minutes(self, n: float) -> datetime:
        """Advance the clock by ``n`` simulated minutes (the world catches up on read)."""
        return self.clock.advance(minutes=n)

    def q(self, signal: str, model: str, version: str | None = None) -> float:
        value = self.metrics.query(signal, model, version=version)
        assert value is not None, f"no {signal} for {model} {version}"
        return value

    def hourly(self, signal: str, model: str, hours: int = 24) -> np.ndarray:
        now = self.clock.now()
        pts = self.metrics.query_range(
            signal, model, now - timedelta(hours=hours - 1), now, step_seconds=3600
        )
        return np.array([p.value for p in pts], dtype=float)


def open_env(path: Path, start: datetime = START, **kw) -> Env:
    clock = ManualClock(start)
    world = EmbeddedWorld(path, clock=clock, **kw)
    return Env(
        world,
        clock,
        EmbeddedRegistry(world),
        EmbeddedMetrics(world),
        EmbeddedTraffic(world),
        EmbeddedPredictionLog(world),
    )


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "embedded-test.db"
    env = open_env(path)
    env.world.close()
    return path


@pytest.fixture
def make_env(template: Path, tmp_path: Path):
    """Open a copy of the seeded template (``name`` picks the file) at START."""
    opened: list[Env] = []

    def make(name: str = "embedded-test") -> Env:
        path = tmp_path / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(template) + suffix)
            if src.exists():
                shutil.copy(src, str(path) + suffix)
        opened.append(open_env(path))
        return opened[-1]

    yield make
    for e in opened:
        e.world.close()


@pytest.fixture
def env(make_env) -> Env:
    return make_env()
