"""examples/local-stack works as its README says: `up --detach`, Rollbook reads it with the
config it wrote (history included), `down` stops every process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.realstack import PROGRAMS, ROOT, require

pytestmark = pytest.mark.integration
STACK = ROOT / "examples" / "local-stack" / "stack.py"


def test_stack_up_status_history_down(tmp_path, monkeypatch):
    for program in PROGRAMS:
        require(program)
    workdir = tmp_path / "stack"
    up = subprocess.run(
        [sys.executable, str(STACK), "up", "--dir", str(workdir), "--detach"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    pids = {}
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "rollbook rollback churn" in up.stdout
        pids = json.loads((workdir / "pids.json").read_text())
        assert {"mlflow", "prometheus", "alertmanager", "haproxy"} <= set(pids)

        monkeypatch.setenv("ROLLBOOK_HOME", str(workdir / "rollbook-home"))
        from console.fleet import fleet_status
        from console.workspace import open_workspace

        with open_workspace() as ws:
            (row,) = fleet_status(ws, "churn")
            assert row.error is None, row.error
            assert (row.production_version, row.routes) == ("2", {"2": 100.0})
            v1, v2 = ws.backends.registry.versions("churn")
            assert v1.lineage.gates_passed and v2.lineage.code_commit == "9e77d10"
            now = datetime.now(UTC)
            history = ws.backends.metrics.query_range(
                "request_rate",
                "churn",
                now - timedelta(hours=5),
                now - timedelta(hours=4),
                step_seconds=600,
                version="1",
            )
            assert history and all(p.value == pytest.approx(600.0) for p in history)
            assert ws.backends.traffic.probe("churn", "1").healthy
            # the versions' artifacts went through MLflow's proxy with their digests
            from console.actions.rollback import preflight

            art = next(c for c in preflight(ws, "churn", "1") if c.name == "artifact")
            assert art.ok and art.detail.startswith("artifact hash matches lineage"), art.detail
    finally:
        down = subprocess.run(
            [sys.executable, str(STACK), "down", "--dir", str(workdir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        for pid in pids.values():  # whatever `down` did not stop, by PID
            try:
                os.killpg(pid, 9)
            except ProcessLookupError:
                continue
            pytest.fail(f"`down` left process group {pid} running: {down.stdout}{down.stderr}")
        pg = workdir / "postgres"
        if pg.is_symlink():  # root: the cluster lived where the postgres user can enter
            shutil.rmtree(pg.resolve(), ignore_errors=True)
