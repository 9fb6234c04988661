import asyncio

import pytest

from console.demo import start_demo
from console.tui.app import RollbookApp
from console.workspace import open_workspace


@pytest.fixture
def demo(clock):
    """The demo world with the athena incident open, on a fixed clock."""
    with open_workspace("demo", clock=clock) as ws:
        state = start_demo(ws, "athena-null-feature")
    return state


@pytest.fixture
def make_app(clock):
    def make(**kw) -> RollbookApp:
        kw.setdefault("refresh_seconds", 3600)  # no timer refresh: tests refresh explicitly
        kw.setdefault("live", False)  # nor a refresh on store changes (tests/tui/test_live.py)
        return RollbookApp(lambda: open_workspace("demo", clock=clock), **kw)

    return make


async def settle(pilot, cond, timeout: float = 20.0) -> None:
    """Wait until ``cond()`` is true, letting workers run."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)
