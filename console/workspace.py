"""A Workspace bundles what every command needs: config, backends of one environment, the
incident store, the acting person and the clock. The CLI, the TUI and tests all open one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from console.backends.connect import Backends, connect
from console.clock import Clock, SystemClock
from console.config import Config, load
from console.store import Store, open_store

if TYPE_CHECKING:
    from console.notify.service import NotifyService


@dataclass
class Workspace:
    config: Config
    backends: Backends
    store: Store
    actor: str
    #: Notifications kept in step in the background (``console.notify``): None when the
    #: environment has no ``[env.X.notify]`` channels.
    notifications: NotifyService | None = field(default=None, repr=False, compare=False)

    @property
    def env(self):
        return self.backends.env

    @property
    def clock(self) -> Clock:
        return self.backends.clock

    def now(self) -> datetime:
        return self.backends.clock.now()

    def close(self) -> None:
        if self.notifications is not None:  # first: it waits (bounded) for its last messages
            self.notifications.stop()
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
    # The store reads the time inside its append lock: the environment's clock when it is
    # not the wall clock (a simulated world, a test), else its own (the server's, on
    # PostgreSQL), so concurrent writers never stamp out of order.
    store_clock = None if isinstance(backends.clock, SystemClock) else backends.clock.now
    ws = Workspace(cfg, backends, open_store(cfg, clock=store_clock), actor or cfg.actor)
    if ws.env.notify:  # only an environment with channels pays for the import and threads
        from console.notify.service import attach

        ws.notifications = attach(ws)
    return ws
