"""Two people acting at once, on SQLite and on PostgreSQL (the team store):

- the same action on the same model from two processes (a pair started together, the second
  a seeded few hundredths of a second later): exactly one applies; the other is refused as in
  progress (told who holds the model) or ends as the idempotent no-op — never two steps back;
- a rollback racing a kill switch on the same model;
- a console open on the incident (its view read in a loop, with presence heartbeats and the
  recovery watch writing to the store) while the CLI acts.

Always: every process ends with a documented exit code and without a traceback, "database is
locked" never reaches the user, no append is refused, the chains verify, nothing is left
pending or SPLIT.

``ROLLBOOK_CHAOS_PAIRS`` sets the pairs per backend (50 in the full run, with
``ROLLBOOK_CHAOS_N=100``; a few by default).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.chaos.children import run_cli, start_cli, start_py
from tests.chaos.conftest import chaos_n
from tests.chaos.kills import LOCKED, TRACEBACK, model_state
from tests.chaos.scenarios import SCENARIOS, build_template
from tests.chaos.worlds import child_env, copy_home

PAIR_SCENARIOS = ["rollback", "killswitch", "restore", "traffic", "pointer", "stage"]
REFUSED_APPEND = re.compile(r"precedes previous event|refused append", re.I)
BACKENDS = ["sqlite", "postgres"]
JOBS = 3  # pairs at once (each pair is two processes)


def n_pairs() -> int:
    value = os.environ.get("ROLLBOOK_CHAOS_PAIRS")
    if value:
        return max(1, int(value))
    return 50 if chaos_n() >= 100 else max(len(PAIR_SCENARIOS), 2 * chaos_n())


class Homes:
    """Fresh homes for a scenario, with the store on SQLite (a copy of the scenario's
    template) or on a new PostgreSQL database (the template built again on it: the
    preconditions and the incident live in the store)."""

    def __init__(self, backend: str, request: pytest.FixtureRequest) -> None:
        self.backend = backend
        self.server = request.getfixturevalue("pg_server") if backend == "postgres" else None
        self.prepared = request.getfixturevalue("prepared")
        self._lock = threading.Lock()  # templates are built in this process, one at a time

    def make(self, name: str, dest: Path) -> tuple[Path, dict[str, str]]:
        template, _ = self.prepared(name)
        if self.server is None:
            home = copy_home(template, dest)
            return home, child_env(home)
        from tests.store.conftest import fresh_database

        dsn = fresh_database(self.server)
        with self._lock:
            home = build_template(
                self.prepared.seeded(),
                dest,
                SCENARIOS[name],
                config='[store]\nbackend = "postgres"\n',
                env={"ROLLBOOK_STORE_DSN": dsn},
            )
        return home, child_env(home, ROLLBOOK_STORE_DSN=dsn)


@pytest.fixture(params=BACKENDS)
def homes(request) -> Homes:
    return Homes(request.param, request)


def _status(out: str) -> dict:
    try:
        body = json.loads(out)
    except ValueError:
        return {"status": "?", "message": out[-300:]}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "no kill switch to undo" in str(error.get("message")):
        # a restore that starts after the other one finished finds nothing left to undo:
        # refused up front (exit 1) — the idempotent answer, nothing changed twice
        return {"status": "noop", "message": error["message"]}
    return body


def _clean_output(text: str) -> list[str]:
    problems = []
    if TRACEBACK in text:
        problems.append(f"traceback: {text[-800:]}")
    if LOCKED.search(text):
        problems.append(f"'database is locked' shown: {text[-400:]}")
    if REFUSED_APPEND.search(text):
        problems.append(f"an append was refused: {text[-400:]}")
    return problems


def _settled(env: dict[str, str], workdir: Path) -> list[str]:
    """The chains verify; nothing pending, no split."""
    problems = []
    code, out, err = run_cli(["audit", "verify", "--json"], env, workdir, "verify")
    if code != 0:
        problems.append(f"audit verify exit {code}: {(out + err)[-400:]}")
    code, out, err = run_cli(["audit", "pending", "--json"], env, workdir, "pending")
    if code != 0:
        problems.append(f"audit pending exit {code}: {(out + err)[-600:]}")
    return problems + _clean_output(out + err)


def run_pair(homes: Homes, name: str, prepared, workdir: Path, delay: float) -> dict:
    _, ref = prepared(name)
    scenario = SCENARIOS[name]
    home, env = homes.make(name, workdir / "home")
    argv = [*scenario.argv, "--json"]
    a = start_cli(argv, env, workdir, "a")
    time.sleep(delay)
    b = start_cli(argv, env, workdir, "b")
    codes = [a.wait(300), b.wait(300)]
    outs = [a.out, b.out]
    results = [_status(o) for o in outs]
    statuses = sorted(r.get("status", "?") for r in results)
    problems = []
    for child, code in zip((a, b), codes, strict=True):
        problems += _clean_output(child.out + child.err)
        if code not in (0, 1):
            problems.append(f"exit {code}: {(child.out + child.err)[-400:]}")
    if statuses not in (["applied", "noop"], ["applied", "refused"]):
        problems.append(f"statuses {statuses}: {[r.get('message') for r in results]}")
    for r in results:
        if r.get("status") == "refused" and "in progress" not in r.get("message", ""):
            problems.append(f"refused, but not as in progress: {r.get('message')}")
    state = model_state(home, scenario)
    if state != ref.after:
        problems.append(f"production {state}, expected {ref.after} (one step, not two)")
    problems += _settled(env, workdir)
    return {"name": name, "statuses": statuses, "problems": problems}


def test_the_same_action_twice_at_once_applies_once(homes, prepared, seed, figures, tmp_path):
    rng = random.Random(f"{seed}/pairs/{homes.backend}")
    plan = [
        (PAIR_SCENARIOS[i % len(PAIR_SCENARIOS)], round(rng.uniform(0.0, 0.3), 3))
        for i in range(n_pairs())
    ]

    def one(item):
        i, (name, delay) = item
        result = run_pair(homes, name, prepared, tmp_path / f"pair{i:03d}", delay)
        result["delay"] = delay
        if not result["problems"]:
            shutil.rmtree(tmp_path / f"pair{i:03d}", ignore_errors=True)
        return result

    for name in set(PAIR_SCENARIOS):
        prepared(name)  # templates built before the pool starts
    with ThreadPoolExecutor(JOBS) as pool:
        results = list(pool.map(one, enumerate(plan)))
    bad = [r for r in results if r["problems"]]
    figures.add(
        "pairs",
        homes.backend,
        {
            "pairs": len(results),
            "outcomes": dict(Counter("+".join(r["statuses"]) for r in results)),
            "broken": bad,
        },
    )
    assert not bad, f"seed {seed}: " + "\n".join(
        f"- {r['name']} (second after {r['delay']} s): {'; '.join(r['problems'])}" for r in bad
    )


def test_a_rollback_racing_a_kill_switch(homes, prepared, seed, tmp_path):
    """Whichever goes first, the other is refused (in progress, or its plan went stale) or
    follows it; production ends as the last applied action read it back."""
    rng = random.Random(f"{seed}/race/{homes.backend}")
    rounds = max(2, n_pairs() // 5)
    problems = []
    outcomes = Counter()
    for i in range(rounds):
        workdir = tmp_path / f"race{i}"
        home, env = homes.make("rollback", workdir / "home")
        first, second = (
            (["rollback", "credit-score"], ["killswitch", "credit-score"])
            if i % 2 == 0
            else (["killswitch", "credit-score"], ["rollback", "credit-score"])
        )
        a = start_cli([*first, "--yes", "--json"], env, workdir, "a")
        time.sleep(rng.uniform(0.0, 0.4))
        b = start_cli([*second, "--yes", "--json"], env, workdir, "b")
        codes = [a.wait(300), b.wait(300)]
        results = [_status(c.out) for c in (a, b)]
        outcomes["+".join(sorted(r.get("status", "?") for r in results))] += 1
        for child, code in zip((a, b), codes, strict=True):
            problems += _clean_output(child.out + child.err)
            if code not in (0, 1):
                problems.append(f"round {i}: exit {code}: {(child.out + child.err)[-400:]}")
        applied = [r for r in results if r.get("status") == "applied"]
        if not applied:
            problems.append(f"round {i}: nothing applied: {results}")
        for r in results:
            if r.get("status") not in ("applied", "refused", "noop"):
                problems.append(f"round {i}: {r.get('status')}: {r.get('message')}")
        # one model lock: when both applied, one ran after the other, and production is
        # what the later one read back
        now = model_state(home, SCENARIOS["rollback"])["routes"]
        read_back = [(r.get("read_back") or {}).get("routes") for r in applied]
        if applied and now not in read_back:
            problems.append(f"round {i}: production {now}, read back {read_back}")
        problems += [f"round {i}: {p}" for p in _settled(env, workdir)]
    assert not problems, f"seed {seed}, outcomes {dict(outcomes)}:\n" + "\n".join(problems)


def test_the_console_open_while_the_cli_acts(homes, prepared, seed, tmp_path):
    """A console reads the incident (and the fleet) in a loop, marking itself present, while
    the CLI rolls back, kill-switches, restores and moves traffic: every action applies,
    every read succeeds."""
    home, env = homes.make("rollback", tmp_path / "home")
    report = tmp_path / "reads.json"
    stop = tmp_path / "stop"
    reader = start_py(
        "tests.chaos.readers:console_open",
        ("INC-0001", 60.0, str(report), str(stop)),
        env,
        tmp_path,
    )
    time.sleep(0.5)  # the console is open
    steps = [
        ["rollback", "credit-score", "--yes"],
        ["killswitch", "credit-score", "--level", "rules", "--yes"],
        ["restore", "credit-score", "--yes"],
        ["traffic", "credit-score", "v4=50", "v5=50", "--yes"],
        ["pointer", "credit-score", "v5", "--yes"],
    ]
    problems = []
    for i, argv in enumerate(steps):
        code, out, err = run_cli([*argv, "--json"], env, tmp_path, f"step{i}")
        problems += _clean_output(out + err)
        if code != 0 or _status(out).get("status") != "applied":
            problems.append(f"{' '.join(argv)}: exit {code}: {(out + err)[-500:]}")
    stop.touch()
    code = reader.wait(120)
    problems += _clean_output(reader.out + reader.err)
    if code != 0:
        problems.append(f"the console's reads failed (exit {code}): {reader.err[-1500:]}")
    reads = json.loads(report.read_text())["reads"] if report.exists() else 0
    if reads < 10:
        problems.append(f"the console read the incident only {reads} times")
    problems += _settled(env, tmp_path)
    assert not problems, f"seed {seed}:\n" + "\n".join(problems)
