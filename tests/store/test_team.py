"""The team's console: two people (two homes: their own config and data) on one PostgreSQL
store and one production (here the embedded world's file, shared by both configs). One
mitigation at a time per model: a second rollback answers at once who holds it; after the
holder finishes, the usual idempotent no-op; when the holder died mid-action, the next person
is offered its finish or undo, not a fresh rollback on top."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.store.conftest import fresh_database


def team_home(root: Path, person: str, world: Path) -> dict[str, str]:
    home = root / person
    home.mkdir(parents=True)
    roles = "\n".join(
        f'[env.team.{role}]\nplugin = "embedded"\npath = "{world}"\n'
        for role in ("registry", "metrics", "traffic", "world")
    )
    (home / "config.toml").write_text(
        f'default_env = "team"\nactor = "{person}"\n\n[store]\nbackend = "postgres"\n\n'
        f"[env.team]\nallow_auto_actions = true\n\n{roles}"
    )
    return {"ROLLBOOK_HOME": str(home), "ROLLBOOK_ACTOR": person}


@pytest.fixture
def team(tmp_path, store_pg_server):
    dsn = fresh_database(store_pg_server)
    world = tmp_path / "production.db"
    base = {**os.environ, "ROLLBOOK_STORE_DSN": dsn}
    base.pop("ROLLBOOK_ENV", None)
    homes = {p: {**base, **team_home(tmp_path, p, world)} for p in ("ana", "ben")}
    return homes


def rollbook(env: dict[str, str], *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "console", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    p = rollbook(env, *args)
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err


def slow_registry(env: dict[str, str], seconds: float) -> None:
    code, out, err = run(
        env,
        "status",
        "--json",
    )
    assert code == 0, err  # the world exists
    script = (
        "from console.workspace import open_workspace\n"
        "with open_workspace('team') as ws:\n"
        f"    ws.backends.world.break_backend('registry', 'set_production', mode='slow', "
        f"times=1, delay_s={seconds})\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)


def test_two_rollbacks_at_once_one_applies_one_is_told_who_holds_it(team):
    ana, ben = team["ana"], team["ben"]
    slow_registry(ana, 4.0)
    first = rollbook(ana, "rollback", "credit-score", "--yes", "--json")
    time.sleep(1.5)  # ana's rollback holds the lock, inside its slow registry step
    t0 = time.monotonic()
    code, out, _ = run(ben, "rollback", "credit-score", "--yes", "--json")
    answered = time.monotonic() - t0
    res = json.loads(out)
    assert code == 1 and res["status"] == "refused", out
    assert "rollback of credit-score in progress by ana since" in res["message"]
    assert answered < 10  # at once: no waiting for ana's action
    out_a, _ = first.communicate(timeout=120)
    assert first.returncode == 0 and json.loads(out_a)["status"] == "applied", out_a
    # after the holder finished: the usual idempotent no-op
    code, out, _ = run(ben, "rollback", "credit-score", "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "noop", out
    assert "already rolled back v5 → v4" in json.loads(out)["message"]
    code, out, _ = run(ben, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"], out


def test_a_holder_that_died_mid_action_leaves_finish_or_undo_not_a_fresh_rollback(team):
    ana, ben = team["ana"], team["ben"]
    slow_registry(ana, 30.0)
    first = rollbook(ana, "rollback", "credit-score", "--yes")
    time.sleep(2.0)  # inside the registry step: traffic already moved
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    code, out, _ = run(ben, "killswitch", "credit-score", "--level", "rules", "--yes", "--json")
    res = json.loads(out)
    assert code == 1 and res["status"] == "refused", out
    assert "an unfinished rollback of credit-score" in res["message"]  # not K on top of it
    assert "finish: rollbook rollback credit-score --to v4 --yes" in res["message"]
    # the lock died with ana's process: ben finishes it
    code, out, err = run(ben, "rollback", "credit-score", "--to", "v4", "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "applied", (out, err)
    code, out, _ = run(ben, "audit", "pending", "--json")
    assert code == 0 and json.loads(out)["pending"] == []
