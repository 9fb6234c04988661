import pytest

from console.workspace import open_workspace


@pytest.fixture
def ws(clock):
    with open_workspace("demo", clock=clock) as w:
        yield w


@pytest.fixture
def world(ws):
    return ws.backends.world
