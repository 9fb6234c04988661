"""A real terminal: start `rollbook demo` under tmux, send keys, read the screen back."""

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
)


SOCKET = f"rb-smoke-{os.getpid()}"


def tmux(*args: str, **kw) -> subprocess.CompletedProcess:
    """tmux on a server of our own: no user config, no foreign sessions or sizes."""
    return subprocess.run(["tmux", "-L", SOCKET, "-f", "/dev/null", *args], **kw)


@pytest.fixture(scope="module", autouse=True)
def own_server():
    yield
    tmux("kill-server", capture_output=True)


def screen(session: str) -> str:
    return tmux("capture-pane", "-t", session, "-p", capture_output=True, text=True).stdout


def wait_for(session: str, text: str, timeout: float = 60.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = screen(session)
        if text in s:
            return s
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; screen:\n{screen(session)}")


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_demo_in_a_real_terminal(rollbook_home, size):
    session = f"rb-smoke-{uuid.uuid4().hex[:8]}"
    # COLUMNS/LINES at 80x24 as a CI job or a shell may export them: the console must still
    # take the terminal's own size (console.tui.app.follow_the_terminal).
    cmd = (
        f"env ROLLBOOK_HOME={rollbook_home} TERM=xterm-256color COLUMNS=80 LINES=24 "
        f"{sys.executable} -m console demo"
    )
    tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        str(size[0]),
        "-y",
        str(size[1]),
        cmd,
        check=True,
        cwd=os.getcwd(),
    )
    try:
        size_seen = tmux(
            "display",
            "-p",
            "-t",
            session,
            "#{window_width}x#{window_height}",
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert size_seen == f"{size[0]}x{size[1]}", f"tmux made a {size_seen} window"
        s = wait_for(session, "since detection" if size[0] >= 110 else "T+")
        assert "INC-0001" in s and "churn" in s
        tmux("send-keys", "-t", session, "?", check=True)
        s = wait_for(session, "remap by id")
        assert "Rollback" in s and "Kill switch" in s
        tmux("send-keys", "-t", session, "Escape", check=True)
        wait_for(session, "INC-0001")
        tmux("send-keys", "-t", session, "Escape", check=True)
        s = wait_for(session, "Rollbook · fleet")
        for model in ("churn", "recommendations", "credit-score", "fraud", "pricing"):
            assert model in s
        tmux("send-keys", "-t", session, "q", check=True)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            alive = tmux("has-session", "-t", session, capture_output=True).returncode == 0
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, "q did not quit the console"
    finally:
        tmux("kill-session", "-t", session, capture_output=True)
