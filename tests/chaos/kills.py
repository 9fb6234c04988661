"""Kill an action at a chosen moment, then judge what it left.

One run: copy the scenario's template home, start the action in a child process, wait until
the chosen offset, read every event recorded so far, send the signal, and wait for the child
to end. Then, through the real CLI: ``audit verify`` passes; every event read before the kill
is still there, unchanged; the action is complete, not started (or ended without changing
anything), or listed by ``audit pending`` — and then its finish command (on one copy of the
state) and its undo command (on another) both exit 0 and leave nothing pending, no SPLIT and
production as the finished action, respectively the untouched template, has it. The incident
records a mitigation only for an action that applied.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.enums import CHANGES_SERVING
from tests.chaos.children import Child, run_cli, start_cli
from tests.chaos.scenarios import Scenario
from tests.chaos.worlds import child_env, copy_home, copy_state, events, production, repair

SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
# Exit codes an action process may end with (README): 0 ok, 1 refused (also Ctrl+C before
# anything was asked: click's "Aborted."), 5 nothing changed, 6 partially applied or
# interrupted; killed by a signal before it could handle it: -signal.
ACTION_EXITS = {0, 1, 5, 6}
TRACEBACK = "Traceback (most recent call last)"
LOCKED = re.compile(r"database is (locked|busy)", re.I)
TERMINAL = {"finished", "failed", "partial", "noop", "refused"}


@dataclass
class Reference:
    """The scenario run to its end without a kill: how long it takes (s), and production
    before and after it."""

    duration: float
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class Outcome:
    signal: str
    offset: float  # seconds after the child started
    fraction: float  # of the reference duration
    exit_code: int | None
    landed: str  # where the kill landed: before the request, during the steps, after the end
    verdict: str  # consistent | pending | broken
    detail: str = ""
    action_state: str = ""  # not started / finished / failed / … / pending
    problems: list[str] = field(default_factory=list)
    #: applied, but killed before the incident recorded it as its mitigation
    unrecorded_mitigation: bool = False
    #: Ctrl+C before the CLI's first line ran (Python's KeyboardInterrupt, exit 130)
    before_rollbook: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def before_rollbook_code(err: str) -> bool:
    """Whether ``err`` is Python's KeyboardInterrupt from before Rollbook's code ran: while
    the interpreter starts or imports, or on the first line of ``main`` itself (no code can
    catch an interrupt there but the caller's). No Rollbook frame beyond ``def main``."""
    if not err.rstrip().endswith("KeyboardInterrupt"):
        return False
    lines = err.splitlines()
    ours = [
        (line, lines[i + 1].strip() if i + 1 < len(lines) else "")
        for i, line in enumerate(lines)
        if line.strip().startswith('File "') and "/console/" in line
    ]
    return all(
        "console/cli/main.py" in line
        and line.rstrip().endswith("in main")
        and src.startswith("def main")
        for line, src in ours
    )


def model_state(home: Path, scenario: Scenario) -> dict[str, Any]:
    state = production(home)[scenario.model]
    return {k: state[k] for k in scenario.compare}


def measure(template: Path, scenario: Scenario, workdir: Path, runs: int = 1) -> Reference:
    """Run the scenario to its end ``runs`` times; the median duration."""
    durations: list[float] = []
    before = after = None
    run_cli(["--version"], child_env(template), workdir / "warm")  # the fork server is up
    for i in range(runs):
        home = copy_home(template, workdir / f"ref{i}" / "home")
        before = model_state(home, scenario)
        child = start_cli(list(scenario.argv), child_env(home), workdir / f"ref{i}", "action")
        code = child.wait(300)
        durations.append(time.monotonic() - child.started)
        assert code == 0, f"reference run of {scenario.name} ended {code}: {child.out}{child.err}"
        repair(home)
        after = model_state(home, scenario)
        shutil.rmtree(workdir / f"ref{i}", ignore_errors=True)
    assert before != after, f"{scenario.name} changes nothing: {before}"
    durations.sort()
    return Reference(durations[len(durations) // 2], before or {}, after or {})


def _commands(line: str | None) -> list[list[str]]:
    """``rollbook a … && rollbook b …`` → ``[[a, …], [b, …]]`` (argv without ``rollbook``)."""
    if not line:
        return []
    out = []
    for part in line.split("&&"):
        argv = shlex.split(part)
        assert argv and argv[0] == "rollbook", f"not a rollbook command: {part!r}"
        out.append(argv[1:])
    return out


def _cli_ok(argv: list[str], home: Path, workdir: Path, name: str) -> tuple[int | None, str]:
    code, out, err = run_cli(argv, child_env(home), workdir, name)
    return code, out + err


def check_store(home: Path, workdir: Path, tag: str) -> list[str]:
    """``audit verify`` through the CLI."""
    code, out = _cli_ok(["audit", "verify", "--json"], home, workdir, f"verify-{tag}")
    if code != 0:
        return [f"audit verify ({tag}) exit {code}: {out[-400:]}"]
    return []


def pending(home: Path, workdir: Path, tag: str) -> tuple[dict[str, Any] | None, list[str]]:
    code, out, err = run_cli(["audit", "pending", "--json"], child_env(home), workdir, tag)
    if code not in (0, 6):
        return None, [f"audit pending ({tag}) exit {code}: {(out + err)[-400:]}"]
    try:
        body = json.loads(out)
    except ValueError:
        return None, [f"audit pending ({tag}) printed no JSON: {out[-300:]} {err[-300:]}"]
    if (code == 6) != bool(body["pending"] or body["splits"]):
        return body, [f"audit pending ({tag}) exit {code} for {body}"]
    return body, []


def incident_record(home: Path) -> list[str]:
    """Every ``incident.mitigation_applied`` names an action that finished (applied)."""
    evs = events(home)
    finished = {p.get("action_id") for _, _, _, k, p in evs if k == "action.finished"}
    problems = []
    for seq, _, _, kind, payload in evs:
        if kind == "incident.mitigation_applied" and payload.get("action_id") not in finished:
            problems.append(
                f"#{seq} incident.mitigation_applied for action {payload.get('action_id')}, "
                "which did not apply"
            )
    return problems


def _actions_since(home: Path, after_seq: int) -> dict[str, list[str]]:
    """action_id → its event kinds (``requested``, ``step``, …) after ``after_seq``."""
    out: dict[str, list[str]] = {}
    for seq, _, _, kind, payload in events(home):
        if seq > after_seq and kind.startswith("action.") and payload.get("action_id"):
            out.setdefault(payload["action_id"], []).append(kind.removeprefix("action."))
    return out


def settle(
    home: Path,
    command: str | None,
    what: str,
    expected: dict[str, Any],
    scenario: Scenario,
    workdir: Path,
) -> list[str]:
    """Run ``command`` (finish or undo) through the CLI on ``home``; it must exit 0 and leave
    nothing pending, no split, the chain intact, and production as ``expected``."""
    argvs = _commands(command)
    if not argvs:
        return [f"no {what} command"]
    problems = []
    for i, argv in enumerate(argvs):
        code, out = _cli_ok([*argv, "--json"], home, workdir, f"{what}{i}")
        if code != 0:
            problems.append(f"{what} `{' '.join(argv)}` exit {code}: {out[-500:]}")
        if TRACEBACK in out or LOCKED.search(out):
            problems.append(f"{what} `{' '.join(argv)}` printed: {out[-500:]}")
    body, errs = pending(home, workdir, f"pending-after-{what}")
    problems += errs
    if body and (body["pending"] or body["splits"]):
        problems.append(f"after {what}: still pending {body['pending']} splits {body['splits']}")
    problems += check_store(home, workdir, f"after-{what}")
    state = model_state(home, scenario)
    if state != expected:
        problems.append(f"after {what}: production {state}, expected {expected}")
    problems += incident_record(home)
    if what == "finish":
        problems += again(home, scenario, expected, workdir)
    return problems


def again(home: Path, scenario: Scenario, expected: dict[str, Any], workdir: Path) -> list[str]:
    """The original command run once more after the action completed changes nothing: never
    a second step back."""
    code, out = _cli_ok([*scenario.argv, "--json"], home, workdir, "again")
    problems = []
    if code not in (0, 1) or TRACEBACK in out:
        problems.append(f"`{' '.join(scenario.argv)}` again: exit {code}: {out[-500:]}")
    state = model_state(home, scenario)
    if state != expected:
        problems.append(f"`{' '.join(scenario.argv)}` again moved production: {state}")
    return problems


def kill_once(
    template: Path,
    scenario: Scenario,
    ref: Reference,
    sig_name: str,
    fraction: float,
    workdir: Path,
) -> Outcome:
    """One run (see the module's docstring)."""
    sig = SIGNALS[sig_name]
    home = copy_home(template, workdir / "home")
    base_seq = max((e[0] for e in events(home)), default=0)
    offset = ref.duration * fraction
    child: Child = start_cli(list(scenario.argv), child_env(home), workdir, "action")
    try:
        time.sleep(max(0.0, child.started + offset - time.monotonic()))
        seen = {e[0]: e[2] for e in events(home)}  # read just before the signal
        child.signal(sig)
        code = child.wait(60)
        if code is None:
            child.kill_and_reap()
            return Outcome(sig_name, offset, fraction, None, "?", "broken", "did not end")
    finally:
        child.kill_and_reap()
    problems: list[str] = []
    out, err = child.out, child.err
    before_rollbook = sig_name == "SIGINT" and before_rollbook_code(err)
    if TRACEBACK in out + err and not before_rollbook:
        problems.append(f"traceback after {sig_name}: {err[-1500:]}")
    if LOCKED.search(out + err):
        problems.append(f"'database is locked' shown: {(out + err)[-500:]}")
    if before_rollbook and code == 128 + sig:
        pass  # Python's own Ctrl+C, before the CLI's first line ran: see before_rollbook_code
    elif sig_name != "SIGKILL" and code not in ACTION_EXITS and code != -sig:
        problems.append(f"exit {code} after {sig_name} is not a documented exit code")
    repair(home)  # the finish and undo commands run at normal speed

    after_events = {e[0]: e[2] for e in events(home)}
    lost = [s for s, h in seen.items() if after_events.get(s) != h]
    if lost:
        problems.append(f"events recorded before the kill lost or changed: {lost}")
    problems += check_store(home, workdir, "killed")
    problems += incident_record(home)

    actions = _actions_since(home, base_seq)
    ours = [aid for aid, kinds in actions.items() if "requested" in kinds]
    ended = {aid: [k for k in kinds if k in TERMINAL] for aid, kinds in actions.items()}
    if not actions:
        landed, state = "before the request", "not started"
    elif ours and not ended[ours[0]]:
        landed, state = "during the steps", "pending"
    elif ours:
        landed, state = "after it ended", ended[ours[0]][-1]
    else:  # recorded but never requested: refused or a no-op before it went ahead
        aid = next(iter(actions))
        landed, state = "before the request", (ended[aid] or ["?"])[-1]
    if state == "interrupted":
        state = "pending"
    unrecorded = (
        state == "finished"
        and scenario.action in CHANGES_SERVING
        and not any(k == "incident.mitigation_applied" for _, _, _, k, _ in events(home))
    )

    body, errs = pending(home, workdir, "pending")
    problems += errs
    listed = (body or {}).get("pending") or []
    splits = (body or {}).get("splits") or []
    verdict = "consistent"
    if listed:
        verdict = "pending"
        if [p["action_id"] for p in listed] != ours[:1]:
            problems.append(f"audit pending lists {listed}, the killed action was {ours}")
        entry = listed[0]
        if not entry.get("finish") or not entry.get("undo"):
            problems.append(f"pending without finish and undo: {entry}")
        else:
            fin = copy_state(home, workdir / "finish" / "home")
            problems += settle(fin, entry["finish"], "finish", ref.after, scenario, workdir)
            und = copy_state(home, workdir / "undo" / "home")
            problems += settle(und, entry["undo"], "undo", ref.before, scenario, workdir)
    else:
        if state == "pending":
            problems.append("an unfinished action that audit pending does not list")
        if splits:
            problems.append(f"SPLIT left behind: {splits}")
        now = model_state(home, scenario)
        expected = ref.after if state == "finished" else ref.before
        if now != expected:
            problems.append(f"action {state}: production {now}, expected {expected}")
        elif state == "finished":
            problems += again(home, scenario, expected, workdir)
    if problems:
        verdict = "broken"
    return Outcome(
        sig_name,
        round(offset, 3),
        round(fraction, 4),
        code,
        landed,
        verdict,
        "; ".join(problems)[:3000],
        state,
        problems,
        unrecorded,
        before_rollbook,
    )
