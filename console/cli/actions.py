"""`rollbook rollback | killswitch | restore | traffic | pointer | stage | rollout | audit`.

Every command here plans once (``console.mitigation.plan``), shows the plan (the same lines
the console's modal shows), asks, executes exactly that plan, and prints how it ended — with
``--wait``, also whether the incident's signal recovered. Exit codes: 0 applied or nothing to
do (with ``--wait``: and recovered) · 1 refused, or not recovered with ``--wait`` · 4 not found
· 5 failed, nothing changed (or undone) · 6 partially applied or interrupted (finish and undo
printed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import click

from console.cli.common import (
    FiniteRange,
    confirm,
    console_out,
    env_option,
    json_option,
    print_json,
    workspace,
)

MAX_TIMEOUT_S = 86400.0  # a backend call's deadline: a day is already more than any needs
MAX_DWELL_MIN = 7 * 24 * 60.0  # a rollout stage's dwell: a week


def action_options(f: Callable) -> Callable:
    for opt in reversed(
        [
            click.option("--dry-run", is_flag=True, help="Print the plan and change nothing."),
            click.option(
                "--yes", "-y", is_flag=True, help="Do not ask for confirmation (scripts)."
            ),
            click.option(
                "--incident",
                "incident_id",
                default=None,
                metavar="ID",
                help="Record on this incident (default: the model's open incident, "
                "else a standalone audit record).",
            ),
            click.option(
                "--confirmed-by",
                default=None,
                metavar="NAME",
                help="Second person confirming (environments with the two-person rule).",
            ),
            click.option(
                "--timeout",
                type=FiniteRange(0, MAX_TIMEOUT_S, min_open=True),
                default=10.0,
                show_default=True,
                help="Seconds to wait for each backend call (above 0, at most a day).",
            ),
            click.option(
                "--wait",
                is_flag=True,
                help="After a mitigation on an open incident, watch its signal until it "
                "recovers or the watch's deadline passes (exit 1 when it does not recover).",
            ),
        ]
    ):
        f = opt(f)
    return f


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) end an action like Ctrl+C does: recorded as
    interrupted, with its finish and undo commands (exit 6) — never silently. Outside the
    action's steps (while it is planned or asked about) they end the command as Ctrl+C does
    there: "Aborted.", exit 1 — not a traceback. A signal (Ctrl+C included) that lands
    inside importlib is delivered again a moment later rather than lost there."""
    from console.mitigation import Interrupted

    def stop(signum: int, frame: Any) -> None:
        if _lost_if_raised_in(frame):
            # deliver it again in a moment, once out of importlib
            later = threading.Timer(0.02, os.kill, (os.getpid(), signum))
            later.daemon = True
            later.start()
            return
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted(signal.Signals(signum).name)

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # not the main thread (tests), or no such signal here: nothing to install
        with contextlib.suppress(ValueError, OSError):
            old[sig] = signal.signal(sig, stop)
    try:
        yield
    except Interrupted as exc:
        raise click.exceptions.Abort(exc.signal_name) from exc
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _lost_if_raised_in(frame: Any) -> bool:
    """Whether an exception raised by a signal handler in ``frame`` would be lost: importlib
    runs callbacks whose exceptions are printed and ignored ("Exception ignored in
    <function _get_module_lock.<locals>.cb>") — the interrupt would vanish, and the action
    go on, with a traceback on stderr. Rollbook imports lazily, so a signal lands there."""
    return frame is not None and frame.f_code.co_filename.startswith("<frozen importlib")


def _print_lines(lines: list[str]) -> None:
    out = console_out()
    for line in lines:
        out.print(line, markup=False, soft_wrap=True)


def _confirm(question: str, yes: bool) -> None:
    if not yes:
        confirm(question)  # refused (exit 1) when stdin is not a terminal


def _act(
    ctx: click.Context,
    request: Any,
    *,
    dry_run: bool,
    yes: bool,
    incident_id: str | None,
    confirmed_by: str | None,
    timeout: float,
    as_json: bool,
    wait: bool = False,
    reason: str = "",
    question: str = "Proceed?",
    pace: Callable[[Any, Any], Callable[[float], None]] | None = None,
) -> None:
    """Plan once, show, ask, execute that plan, report (see the module's docstring)."""
    from console import mitigation
    from console.plans import plan_lines

    with workspace(ctx) as ws, interrupts():
        plan = mitigation.plan(ws, request, incident_id=incident_id, timeout=timeout)
        if not as_json:
            _print_lines(plan_lines(plan))
        if dry_run:
            _finish(ctx, mitigation.preview(plan), as_json)
        if not plan.noop and not plan.blocked:  # no question for a refusal or a no-op
            _confirm(question, yes)
        waiter = pace(ws, as_json) if pace else None
        res = mitigation.execute(
            ws,
            plan,
            incident_id=incident_id,
            confirmed_by=confirmed_by,
            timeout=timeout,
            reason=reason,
            wait=waiter,
        )
        if waiter is not None:
            waiter(0.0)  # print what happened since the last dwell
        if wait and res.recovery is not None and not res.recovery.done:
            res.recovery = _watch(ws, res.incident_id or "", as_json) or res.recovery
    _finish(ctx, res, as_json, waited=wait)


def _watch(ws: Any, incident_id: str, as_json: bool) -> Any:
    from console.recovery import watch

    out = console_out()

    def show(w: Any) -> None:
        if not as_json:
            out.print(f"  {w.now:%H:%M:%S} {w.line()}", markup=False, soft_wrap=True)
            out.file.flush()

    return watch(ws, incident_id, on_update=show)


def _finish(ctx: click.Context, res: Any, as_json: bool, *, waited: bool = False) -> None:
    from console.enums import Recovery
    from console.plans import result_lines

    if as_json:
        print_json(res)
    else:
        out = console_out()
        for s in res.steps:
            out.print(
                f"  step {s.name:<9} {'ok' if s.ok else 'FAILED'} "
                f"({s.duration_ms:.0f} ms){'  ' + s.error if s.error else ''}",
                markup=False,
            )
        _print_lines(result_lines(res))
    code = res.exit_code
    if waited and code == 0 and res.recovery is not None:
        code = 0 if res.recovery.state is Recovery.RECOVERED else 1
    ctx.exit(code)


@click.command()
@click.argument("model")
@click.option(
    "--to",
    "to_version",
    default=None,
    metavar="VERSION",
    help="Target version (default: the last known-good state: without a canary, the "
    "version that served production before the current one).",
)
@click.option(
    "--override",
    "overrides",
    multiple=True,
    type=click.Choice(["exists", "artifact", "gates", "health"]),
    help="Proceed despite this failed preflight check (recorded).",
)
@action_options
@json_option
@env_option
@click.pass_context
def rollback(
    ctx,
    model,
    to_version,
    overrides,
    dry_run,
    yes,
    incident_id,
    confirmed_by,
    timeout,
    wait,
    as_json,
):
    """Roll MODEL back to its last known-good state: when a canary (any version besides the
    production pointer's) takes traffic, remove it; otherwise go back to the version that
    served production before. Traffic first, then the registry's production pointer, both
    read back and the target probed.

    The plan warns (it does not block) when nothing moved before the incident's onset: a
    rollback then cannot undo the cause.

    Exit codes: 0 applied or nothing to do · 1 refused (preflight, read-only, two-person,
    stale plan) · 5 failed (nothing changed or undone) · 6 partially applied or interrupted
    (finish/undo printed)."""
    from console.enums import ActionKind
    from console.mitigation import Request

    request = Request(ActionKind.ROLLBACK, model, to=to_version, overrides=tuple(overrides))
    _act(
        ctx,
        request,
        dry_run=dry_run,
        yes=yes,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        timeout=timeout,
        as_json=as_json,
        wait=wait,
    )


@click.command()
@click.argument("model")
@click.option(
    "--level",
    type=click.Choice(["previous", "rules", "manual"]),
    default=None,
    help="Start the ladder here (default: the first rung, the previous model).",
)
@action_options
@json_option
@env_option
@click.pass_context
def killswitch(ctx, model, level, dry_run, yes, incident_id, confirmed_by, timeout, wait, as_json):
    """Route MODEL to its fallback: previous approved model → rules → manual review queue,
    probing each rung and taking the first healthy one. Never leaves MODEL with no route.
    `rollbook restore MODEL` goes back to the routes before the first kill switch."""
    from console.enums import ActionKind
    from console.mitigation import Request

    _act(
        ctx,
        Request(ActionKind.KILLSWITCH, model, level=level),
        dry_run=dry_run,
        yes=yes,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        timeout=timeout,
        as_json=as_json,
        wait=wait,
    )


@click.command()
@click.argument("model")
@action_options
@json_option
@env_option
@click.pass_context
def restore(ctx, model, dry_run, yes, incident_id, confirmed_by, timeout, wait, as_json):
    """Undo MODEL's kill switch: put back the routes it had before the first one."""
    from console.enums import ActionKind
    from console.mitigation import Request

    _act(
        ctx,
        Request(ActionKind.RESTORE, model),
        dry_run=dry_run,
        yes=yes,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        timeout=timeout,
        as_json=as_json,
        wait=wait,
    )


@click.command()
@click.argument("model")
@click.argument("weights", nargs=-1, required=True)
@action_options
@json_option
@env_option
@click.pass_context
def traffic(ctx, model, weights, dry_run, yes, incident_id, confirmed_by, timeout, wait, as_json):
    """Set MODEL's traffic: VERSION=WEIGHT … (percentages summing to 100)."""
    from console.actions.traffic import parse_weights
    from console.enums import ActionKind
    from console.mitigation import Request

    w = parse_weights(weights)
    _act(
        ctx,
        Request(ActionKind.TRAFFIC, model, weights=w),
        dry_run=dry_run,
        yes=yes,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        timeout=timeout,
        as_json=as_json,
        wait=wait,
    )


@click.command()
@click.argument("model")
@click.argument("version")
@action_options
@json_option
@env_option
@click.pass_context
def pointer(ctx, model, version, dry_run, yes, incident_id, confirmed_by, timeout, wait, as_json):
    """Move only the registry's production pointer of MODEL to VERSION (audited). Used to
    finish or undo a partially applied rollback."""
    from console.enums import ActionKind
    from console.mitigation import Request

    _act(
        ctx,
        Request(ActionKind.POINTER, model, version=version),
        dry_run=dry_run,
        yes=yes,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        timeout=timeout,
        as_json=as_json,
        wait=wait,
        question=f"Point {model}'s production at {version}?",
    )


@click.command()
@click.argument("model")
@click.argument("version")
@click.argument(
    "stage",
    type=click.Choice(
        ["None", "Staging", "Shadow", "Canary", "Production", "Archived"], case_sensitive=False
    ),
)
@click.option("--incident", "incident_id", default=None, metavar="ID")
@click.option("--confirmed-by", default=None, metavar="NAME")
@json_option
@env_option
@click.pass_context
def stage(ctx, model, version, stage, incident_id, confirmed_by, as_json):
    """Move MODEL VERSION to STAGE: None → Staging → Shadow → Canary → Production → Archived.
    Invalid transitions are refused (Archived → Production is a rollback, not a promotion)."""
    from console.backends.types import STAGES
    from console.enums import ActionKind
    from console.mitigation import Request

    canonical = {s.lower(): s for s in STAGES}[stage.lower()]
    _act(
        ctx,
        Request(ActionKind.STAGE, model, version=version, stage=canonical),
        dry_run=False,
        yes=True,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        timeout=10.0,
        as_json=as_json,
    )


@click.group()
def audit() -> None:
    """The audit log: verify the hash chain, list unfinished actions."""


@audit.command("verify")
@json_option
@click.pass_context
def audit_verify(ctx, as_json):
    """Check every timeline record's hash link. Exit 1 naming the first bad record."""
    from console.config import load
    from console.store import open_store

    with open_store(load()) as store:
        report = store.verify_chain()
    if as_json:
        print_json(report)
    elif report.ok:
        console_out().print(f"audit log intact: {report.checked} records verified")
    else:
        console_out().print(
            f"AUDIT LOG BROKEN at record {report.first_bad_seq}: {report.problem}", markup=False
        )
    ctx.exit(0 if report.ok else 1)


@audit.command("pending")
@click.argument("model", required=False)
@json_option
@env_option
@click.pass_context
def audit_pending(ctx, model, as_json):
    """Actions that started and never ended (a crash or an interrupt mid-action), with their
    finish/undo commands, and models whose registry disagrees with their traffic (SPLIT), with
    the commands that reconcile them. Exit 6 when there are any."""
    from console.actions.pending import incomplete_actions
    from console.cli.common import require_model
    from console.serving import splits as find_splits

    with workspace(ctx) as ws:
        pending = incomplete_actions(ws, model)
        if not pending:
            require_model(ws, model)  # "nothing pending" for a model that does not exist: 4
        splits = find_splits(ws, model)
    if as_json:
        print_json({"pending": pending, "splits": splits})
    else:
        out = console_out()
        if not pending and not splits:
            out.print("No unfinished actions; registry and traffic agree.")
        for p in pending:
            out.print(
                f"{p['action']} {p['model']} ({p['action_id']}) started {p['started_at']}:"
                f" {p['state']}; done: {', '.join(p['completed_steps']) or 'nothing'}",
                markup=False,
            )
            if p.get("finish"):
                out.print(f"  finish: {p['finish']}\n  undo:   {p['undo']}", markup=False)
        for sp in splits:
            out.print(f"{sp.model}: {sp.message}", markup=False, soft_wrap=True)
    ctx.exit(6 if pending or splits else 0)


@click.command()
@click.argument("model")
@click.argument("version")
@click.option(
    "--stages",
    default="10,25,50,100",
    show_default=True,
    help="Traffic percentages, rising, ending at 100.",
)
@click.option(
    "--dwell",
    "dwell_minutes",
    type=FiniteRange(0, MAX_DWELL_MIN, min_open=True),
    default=10.0,
    show_default=True,
    help="Minutes of canary traffic collected before judging each stage (at most a week).",
)
@click.option(
    "--margin",
    type=FiniteRange(0, 1, max_open=True),
    default=0.005,
    show_default=True,
    help="Non-inferiority margin on the success rate (0.005 = 0.5 pp).",
)
@click.option(
    "--alpha", type=FiniteRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True
)
@action_options
@json_option
@env_option
@click.pass_context
def rollout(
    ctx,
    model,
    version,
    stages,
    dwell_minutes,
    margin,
    alpha,
    dry_run,
    yes,
    incident_id,
    confirmed_by,
    timeout,
    wait,
    as_json,
):
    """Roll VERSION out to MODEL stage by stage, judging the canary at each stage
    (two-proportion test with a non-inferiority margin, plus error-rate, p99 latency and
    output-diversity guardrails). First failure: step back one stage; second: abort. A severe
    signal aborts at once. At 100% the registry's production pointer moves to VERSION.

    Exit codes: 0 rolled out · 1 refused · 5 aborted (traffic back on the champion) ·
    6 partially applied or interrupted (Ctrl+C during a dwell included)."""
    from console.actions.rollout import Guardrails, parse_stages
    from console.enums import ActionKind
    from console.mitigation import Request

    st = parse_stages(stages)
    with workspace(ctx) as ws:
        g = Guardrails.from_thresholds(dict(ws.config.thresholds), margin=margin, alpha=alpha)
    request = Request(
        ActionKind.ROLLOUT,
        model,
        version=version,
        stages=st,
        dwell_minutes=dwell_minutes,
        guardrails=g,
    )
    _act(
        ctx,
        request,
        dry_run=dry_run,
        yes=yes,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        timeout=timeout,
        as_json=as_json,
        wait=wait,
        pace=_rollout_pace,
    )


def _rollout_pace(ws: Any, as_json: bool) -> Callable[[float], None]:
    """The rollout's dwell: the stage decisions and traffic steps recorded since the last
    look are printed as they happen (also when piped: a rollout takes many minutes), then the
    environment's clock is waited on."""
    from datetime import timedelta

    from console.actions.rollout import wait_on_clock
    from console.clock import ManualClock

    out = console_out()
    start_seq = ws.store.last_seq()
    shown: set[int] = set()

    def progress() -> None:
        if as_json:
            return
        for e in ws.store.events(all_incidents=True, after_seq=start_seq, kind_prefix="action."):
            if e.seq in shown or e.kind not in ("action.decision", "action.step"):
                continue
            shown.add(e.seq)
            out.print(f"  {e.ts:%H:%M:%S} {e.message}", markup=False, soft_wrap=True)
        out.file.flush()

    def wait(seconds: float) -> None:
        progress()
        if seconds <= 0:
            return
        if isinstance(ws.clock, ManualClock):
            ws.clock.advance(seconds=seconds)
            return
        until = ws.now() + timedelta(seconds=seconds)
        line = f"collecting canary traffic for {seconds / 60:g} min (until {until:%H:%M:%S} UTC)…"
        if out.is_terminal and not as_json:
            with out.status(line):
                wait_on_clock(ws, seconds)
        else:
            if not as_json:
                out.print(f"  {ws.now():%H:%M:%S} {line}", markup=False, soft_wrap=True)
                out.file.flush()
            wait_on_clock(ws, seconds)

    return wait
