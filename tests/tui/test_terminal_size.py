"""The console follows the terminal's size even when COLUMNS/LINES are exported."""

import io
import os
import pty

from console.tui.app import follow_the_terminal


def test_exported_size_is_dropped_on_a_real_terminal():
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as tty:
            env = {"COLUMNS": "80", "LINES": "24", "TERM": "xterm"}
            assert follow_the_terminal(env, tty) == ["COLUMNS", "LINES"]
            assert env == {"TERM": "xterm"}
    finally:
        os.close(leader)
        os.close(follower)


def test_exported_size_is_kept_when_not_a_terminal():
    env = {"COLUMNS": "132"}
    assert follow_the_terminal(env, io.StringIO()) == []
    assert env == {"COLUMNS": "132"}
