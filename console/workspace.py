"""A Workspace bundles what every command needs: config, backends of one environment, the
incident store, the acting person and the clock. The CLI, the TUI and tests all open one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console.backends.connect import Backends, connect
from console.clock import Clock
from console.config import Config, load
from console.store import IncidentStore, open_store


@dataclass
class Workspace:
    config: Config
    backends: Backends
    store: IncidentStore
    actor: str

    @property
    def env(self):
        return self.backends.env

    @property
    def clock(self) -> Clock:
        return self.backends.clock

    def now(self) -> datetime:
        return self.backends.clock.now()

    def close(self) -> None:
        self.backends.close()
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workspace(
    env_name: str | None = None,
    *,
    clock: Clock | None = None,
    config: Config | None = None,
    config_path: Path | None = None,
    actor: str | None = None,
) -> Workspace:
    cfg = config or load(config_path)
    backends = connect(cfg, env_name, clock=clock)
    return Workspace(cfg, backends, open_store(cfg.data_dir), actor or cfg.actor)
