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
        wait_for(session, "Rollbook · fleet")
        s = wait_for(session, "pricing")  # the rows, once the fleet has read them
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


def keybar(s: str) -> str:
    """The key bar: the last non-empty line of the screen."""
    return [line for line in s.splitlines() if line.strip()][-1]


def test_the_demo_runbook_from_launch_to_recovery_at_80x24(rollbook_home):
    """A tired engineer's walk at 80x24: launch, then press only keys the screen names —
    space where the step says so, y where the dialog says EXECUTE, a number where a decision
    lists its options — until the incident is RESOLVED; then q back and q quit. The footer
    keeps ? and q on screen all the way."""
    session = f"rb-walk-{uuid.uuid4().hex[:8]}"
    cmd = (
        f"env -u COLUMNS -u LINES ROLLBOOK_HOME={rollbook_home} TERM=xterm-256color "
        f"{sys.executable} -m console demo --speed 30"  # 30 simulated s per s: minutes pass
    )
    tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd, check=True)

    def press(key: str) -> None:
        tmux("send-keys", "-t", session, key, check=True)

    pressed: list[str] = []
    seen_options = seen_recovered = False
    try:
        s = wait_for(session, "T+")
        end = time.monotonic() + 240
        while "RESOLVED" not in s.splitlines()[0]:
            assert time.monotonic() < end, f"not resolved in time after {pressed}:\n{s}"
            seen_recovered |= "✔ RECOVERED" in s
            if "EXECUTE" in s:  # the confirmation dialog of an action step
                assert "y EXECUTE" in s and "n / esc cancel" in s, s
                press("y")
                pressed.append("y")
            elif "choose (press the number):" in s:
                bar = keybar(s)
                assert "? help" in bar and "q back" in bar, bar
                assert "1–3 choose" in bar, bar
                for line in (
                    "1  Roll back to the previous version",
                    "2  Hotfix the pipeline",
                    "3  Retrain on current data",
                ):
                    assert line in s, s
                seen_options = True
                press("2")  # hotfix: the schema check found the renamed column
                pressed.append("2")
            elif "next: space" in s:
                bar = keybar(s)
                assert "? help" in bar and "q back" in bar, bar
                assert "space run step" in bar, bar
                press("Space")
                pressed.append("space")
            time.sleep(1.0)
            s = screen(session)
        assert seen_options, "the decision's options were never on screen"
        assert seen_recovered or "RESOLVED" in s
        assert set(pressed) <= {"space", "y", "2"}
        bar = keybar(s)
        assert "q back" in bar and "? help" in bar, bar
        press("q")
        s = wait_for(session, "Rollbook · fleet")
        assert "q quit" in keybar(s), keybar(s)
        press("q")
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if tmux("has-session", "-t", session, capture_output=True).returncode != 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("q on the fleet did not quit")
    finally:
        tmux("kill-session", "-t", session, capture_output=True)
