"""`rollbook runbook validate|list|show`, `run` and `drill` from the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli.main import main
from tests.runbooks.conftest import WORLD_FILE

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_validate_shipped_runbooks(capsys):
    code, out, _ = cli(capsys, "runbook", "validate", str(ROOT / "runbooks"))
    assert code == 0 and "8 runbook(s) valid" in out


def test_validate_reports_every_problem_and_fails(capsys):
    broken = HERE / "broken"
    code, out, err = cli(
        capsys,
        "runbook",
        "validate",
        str(broken / "unknown_check.yaml"),
        str(broken / "bad_goto.yaml"),
    )
    assert code == 1
    lines = out.splitlines()
    assert (
        f"{broken / 'unknown_check.yaml'}:17: phases.detect[1].check: unknown check "
        "'nul_rate'" in "\n".join(lines)
    )
    assert any(
        ln.startswith(f"{broken / 'bad_goto.yaml'}:38: phases.diagnose[0].options[1].goto:")
        for ln in lines
    )
    assert "problem(s)" in err
    code, out, _ = cli(capsys, "runbook", "validate", "--json", str(broken))
    data = json.loads(out)
    assert code == 1 and not data["ok"] and len(data["problems"]) >= 24


def test_list_and_show(capsys):
    code, out, _ = cli(capsys, "runbook", "list", "--json")
    ids = {r["id"] for r in json.loads(out)["runbooks"]}
    assert "null-feature" in ids and "model-misbehaving" in ids
    code, out, _ = cli(capsys, "runbook", "show", "null-feature", "--json")
    shown = json.loads(out)
    assert [s["id"] for s in shown["phases"]["mitigate"]][:2] == ["breaker", "pause_batch"]
    code, out, _ = cli(capsys, "runbook", "show", "null-feature")
    assert "pause_batch" in out and "decide" in out


@pytest.fixture
def seeded_home(seeded_world, rollbook_home):
    data = rollbook_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copy(seeded_world, data / WORLD_FILE)
    return rollbook_home


def test_run_drives_an_incident_step_by_step(capsys, seeded_home):
    code, out, _ = cli(
        capsys,
        "incident",
        "open",
        "churn",
        "--title",
        "nulls in orders",
        "--runbook",
        "null-feature",
        "--json",
    )
    iid = json.loads(out)["incident"]["id"]

    code, out, _ = cli(capsys, "run", iid, "--json")
    data = json.loads(out)
    assert code == 0 and data["step"]["id"] == "acknowledge" and data["step"]["state"] == "done"
    assert data["next"]["id"] == "confirm_nulls" and data["status"] == "acknowledged"

    code, out, _ = cli(capsys, "run", iid, "--step", "resume_batch", "--json")
    data = json.loads(out)
    assert code == 1 and data["step"]["needs_confirmation"]

    code, out, _ = cli(capsys, "run", iid, "--step", "resume_batch", "--dry-run", "--json")
    plan = json.loads(out)["step"]["plan"]
    assert code == 0 and (plan["paused_before"], plan["paused_after"]) == (False, False)
    assert plan["noop"] == "churn batch job already running"

    code, out, _ = cli(capsys, "run", iid, "--step", "decide")
    assert code == 7  # a decision needs --answer (InvalidInput)
    code, out, _ = cli(capsys, "run", iid, "--step", "decide", "--answer", "hotfix")
    # decided ahead of the flow: the flow stays on the first step still to do
    assert code == 0 and "decided: Hotfix the pipeline" in out and "next: confirm_nulls" in out

    code, out, _ = cli(capsys, "run", iid, "--step", "why_1", "--note", "nulls", "--json")
    assert json.loads(out)["step"]["note"] == "nulls"

    code, out, _ = cli(capsys, "run", iid, "--show", "--json")
    data = json.loads(out)
    states = {s["id"]: s["state"] for s in data["steps"]}
    assert states["acknowledge"] == "done" and states["decide"] == "done"
    assert states["why_1"] == "done" and states["confirm_nulls"] == "pending"
    assert data["current"]["id"] == "confirm_nulls"  # steps taken ahead do not drag the flow


def test_drill_lists_scenarios(capsys, seeded_home):
    code, out, _ = cli(capsys, "drill", "--list", "--json")
    assert "athena-null-feature" in json.loads(out)["scenarios"]


def test_runbook_commands_stay_light():
    script = (
        "import sys\nfrom console.cli.main import main\n"
        "for args in (['runbook', '--help'], ['run', '--help'], ['drill', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    for heavy in ("pandas", "scipy", "textual", "numpy"):
        assert f"'{heavy}'" not in r.stdout.splitlines()[-1], heavy
