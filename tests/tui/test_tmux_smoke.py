"""A real terminal: start `rollbook demo` under tmux, send keys, read the screen back."""

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (.ci/run installs it)")


def screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-t", session, "-p"], capture_output=True,
                          text=True).stdout


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
    cmd = f"env ROLLBOOK_HOME={rollbook_home} TERM=xterm-256color {sys.executable} -m console demo"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", str(size[0]), "-y",
                    str(size[1]), cmd], check=True, cwd=os.getcwd())
    try:
        s = wait_for(session, "since detection" if size[0] >= 110 else "T+")
        assert "INC-0001" in s and "churn" in s
        subprocess.run(["tmux", "send-keys", "-t", session, "?"], check=True)
        s = wait_for(session, "remap by id")
        assert "Rollback" in s and "Kill switch" in s
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        wait_for(session, "INC-0001")
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        s = wait_for(session, "Rollbook · fleet")
        for model in ("churn", "recommendations", "credit-score", "fraud", "pricing"):
            assert model in s
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            alive = subprocess.run(["tmux", "has-session", "-t", session],
                                   capture_output=True).returncode == 0
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, "q did not quit the console"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
