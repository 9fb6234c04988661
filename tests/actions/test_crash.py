"""A rollback killed (SIGKILL) between its traffic and registry steps is reported as
partially applied with a finish command that works; nothing is lost from the timeline."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from click.testing import CliRunner

from console.cli.main import cli
from console.workspace import open_workspace

CHILD = textwrap.dedent("""
    from console.workspace import open_workspace
    from console.actions.rollback import rollback
    ws = open_workspace("demo")
    ws.backends.world.break_backend("registry", "set_production", mode="timeout", times=1,
                                    delay_s=120)
    rollback(ws, "credit-score", to="v4", timeout=300)
""")


def test_sigkill_between_traffic_and_registry(rollbook_home):
    with open_workspace("demo") as ws:  # seed the world (scaled wall clock, shared by processes)
        assert ws.backends.registry.production_version("credit-score") == "v5"
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env={**os.environ})
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with open_workspace("demo") as ws:
                steps = [
                    e.payload["step"]["name"]
                    for e in ws.store.events(all_incidents=True)
                    if e.kind == "action.step"
                ]
                # the child is inside set_production (it took the injected hang): killing it
                # earlier would leave the hang armed for the finish command below
                armed = ws.backends.world.q(
                    "SELECT remaining FROM breakages WHERE role = 'registry'"
                    " AND method = 'set_production' AND remaining != 0"
                )
            if "traffic" in steps and not armed:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(
                "the child never finished its traffic step and entered the registry step"
            )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    runner = CliRunner()
    r = runner.invoke(cli, ["audit", "pending", "--json"])
    assert r.exit_code == 6, r.output
    [pending] = json.loads(r.output)["pending"]
    assert pending["state"] == "partially applied"
    assert pending["completed_steps"] == ["traffic"]
    assert pending["finish"] == "rollbook rollback credit-score --to v4 --yes"

    with open_workspace("demo") as ws:
        assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}
        assert ws.backends.registry.production_version("credit-score") == "v5"
        assert ws.store.verify_chain().ok
    finish = pending["finish"].split()[1:]
    r = runner.invoke(cli, [*finish, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["status"] == "applied" and out["verified"]
    r = runner.invoke(cli, ["audit", "pending", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["pending"] == []
    with open_workspace("demo") as ws:
        assert ws.backends.registry.production_version("credit-score") == "v4"
