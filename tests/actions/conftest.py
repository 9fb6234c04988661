import pytest

from console.workspace import open_workspace


@pytest.fixture
def ws(clock):
    with open_workspace("demo", clock=clock) as w:
        yield w


@pytest.fixture
def world(ws):
    return ws.backends.world


@pytest.fixture
def rollbook(capsys):
    """Run ``rollbook ARGS…`` through the real entry point: ``(exit code, stdout, stderr)``."""
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
