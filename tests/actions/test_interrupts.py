"""An interrupted action is a partially applied action: Ctrl+C (SIGINT), SIGTERM or a closed
terminal (SIGHUP) during `rollbook rollback` or during a rollout's dwell ends it with exit 6,
the finish and undo commands printed, the record on the timeline — and `audit pending` lists
it exactly as it lists a crash, with commands that work."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from console.cli.main import cli
from console.workspace import open_workspace


def rollbook_process(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "console", *args],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(cond, what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout:g} s")


def action_kinds() -> list[str]:
    with open_workspace("demo") as ws:
        return [e.kind for e in ws.store.events(all_incidents=True, kind_prefix="action.")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_registry_step_ends_as_interrupted(rollbook_home, sig):
    with open_workspace("demo") as ws:  # the registry step hangs: the signal lands inside it
        ws.backends.world.break_backend(
            "registry", "set_production", mode="timeout", times=1, delay_s=120
        )
    proc = rollbook_process("rollback", "credit-score", "--to", "v4", "--yes", "--timeout", "300")

    def in_registry_step() -> bool:
        with open_workspace("demo") as ws:
            armed = ws.backends.world.q(
                "SELECT remaining FROM breakages WHERE role = 'registry'"
                " AND method = 'set_production' AND remaining != 0"
            )
            steps = [
                e.payload["step"]["name"]
                for e in ws.store.events(all_incidents=True, kind_prefix="action.step")
            ]
        return "traffic" in steps and not armed

    try:
        wait_for(in_registry_step, "the traffic step")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 6, (out, err)
    who = "Ctrl+C" if sig == signal.SIGINT else signal.Signals(sig).name
    assert f"⚠ INTERRUPTED: interrupted by {who} after traffic" in out
    assert "finish: rollbook rollback credit-score --to v4 --yes" in out
    assert "undo:   rollbook traffic credit-score v5=100 --yes" in out
    assert "action.interrupted" in action_kinds() and "action.finished" not in action_kinds()

    runner = CliRunner()
    r = runner.invoke(cli, ["audit", "pending", "--json"])
    assert r.exit_code == 6, r.output
    [pending] = json.loads(r.output)["pending"]
    assert pending["completed_steps"] == ["traffic"] and pending["interrupted"]
    assert pending["finish"] == "rollbook rollback credit-score --to v4 --yes"
    r = runner.invoke(cli, [*pending["finish"].split()[1:], "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["audit", "pending", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["pending"] == []
    with open_workspace("demo") as ws:
        assert ws.backends.registry.production_version("credit-score") == "v4"
        assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}
        assert ws.store.verify_chain().ok


def test_sigterm_during_a_rollout_dwell_ends_as_interrupted_and_undo_works(rollbook_home):
    with open_workspace("demo") as ws:
        assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}
    proc = rollbook_process("rollout", "fraud", "v22", "--dwell", "60", "--yes")
    try:
        wait_for(lambda: "action.step" in action_kinds(), "the first stage")
        time.sleep(0.5)  # inside the 60-minute dwell
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 6, (out, err)
    assert "⚠ INTERRUPTED: interrupted by SIGTERM after traffic 10%" in out
    assert "undo:   rollbook traffic fraud v21=100 --yes" in out
    with open_workspace("demo") as ws:
        assert ws.backends.traffic.routes("fraud") == {"v21": 90.0, "v22": 10.0}
    runner = CliRunner()
    r = runner.invoke(cli, ["audit", "pending", "fraud", "--json"])
    [pending] = json.loads(r.output)["pending"]
    for part in pending["undo"].split("&&"):  # traffic back, then the pointer (still v21)
        r = runner.invoke(cli, [*part.split()[1:], "--json"])
        assert r.exit_code == 0, r.output
    with open_workspace("demo") as ws:
        assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}
    assert json.loads(runner.invoke(cli, ["audit", "pending", "--json"]).output)["pending"] == []
