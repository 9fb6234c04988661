"""`rollbook rollback | killswitch | restore | traffic | pointer | stage | audit`."""

from __future__ import annotations

import click

from console.cli.common import (
    console_out,
    env_option,
    json_option,
    print_json,
    workspace,
)


def action_options(f):
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
                type=float,
                default=10.0,
                show_default=True,
                help="Seconds to wait for each backend call.",
            ),
        ]
    ):
        f = opt(f)
    return f


def _show_plan(res) -> None:
    out = console_out()
    plan = res.plan
    out.print(f"[bold]{res.action}[/] {res.model}", markup=True)
    from console.actions.history import describe_recent
    from console.fleet import format_routes

    further = res.action == "rollback" and not plan.get("already_rolled_back")
    for line in describe_recent(plan.get("recent") or []):
        out.print(f"  {line}" + (" — this goes further back" if further else ""), markup=False)
    for key in ("from", "to", "level", "route", "traffic_before", "traffic_after"):
        if plan.get(key) is not None:
            value = plan[key]
            out.print(
                f"  {key:<15} {format_routes(value) if isinstance(value, dict) else value}",
                markup=False,
            )
    for c in res.checks:
        mark = "PASS" if c.ok else ("OVERRIDDEN" if c.overridden else "FAIL")
        out.print(f"  check {c.name:<10} {mark:<10} {c.detail}", markup=False)


def _finish(ctx: click.Context, res, as_json: bool) -> None:
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
        label = "DRY-RUN" if res.dry_run else res.status.upper()
        out.print(f"{label}: {res.message}", markup=False)
        if res.status == "partial":
            out.print(f"  finish: {res.finish}\n  undo:   {res.undo}", markup=False)
        if res.incident_id:
            out.print(f"  recorded on {res.incident_id}", markup=False)
    ctx.exit(res.exit_code)


def _confirm(res, yes: bool, as_json: bool) -> None:
    if yes:
        return
    if not as_json:
        _show_plan(res)
    click.confirm("Proceed?", default=False, abort=True, err=True)


@click.command()
@click.argument("model")
@click.option(
    "--to",
    "to_version",
    default=None,
    metavar="VERSION",
    help="Target version (default: the last good production version before).",
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
    ctx, model, to_version, overrides, dry_run, yes, incident_id, confirmed_by, timeout, as_json
):
    """Roll MODEL back: traffic to the target first, then the registry's production pointer,
    both read back and the target probed.

    Exit codes: 0 applied or nothing to do · 1 refused (preflight, read-only, two-person) ·
    5 failed (nothing changed or undone) · 6 partially applied (finish/undo printed)."""
    from console.actions.rollback import plan_rollback
    from console.actions.rollback import rollback as do_rollback

    with workspace(ctx) as ws:
        plan = plan_rollback(ws, model, to_version, tuple(overrides), timeout=timeout)
        preview = do_rollback(
            ws, model, to=plan.to_version, dry_run=True, overrides=tuple(overrides), timeout=timeout
        )
        if dry_run:
            if not as_json:
                _show_plan(preview)
            _finish(ctx, preview, as_json)
        if not plan.noop and preview.status != "refused":  # no question for a refusal
            _confirm(preview, yes, as_json)
        res = do_rollback(
            ws,
            model,
            to=plan.to_version,
            overrides=tuple(overrides),
            incident_id=incident_id,
            confirmed_by=confirmed_by,
            timeout=timeout,
        )
    _finish(ctx, res, as_json)


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
def killswitch(ctx, model, level, dry_run, yes, incident_id, confirmed_by, timeout, as_json):
    """Route MODEL to its fallback: previous approved model → rules → manual review queue,
    probing each rung and taking the first healthy one. Never leaves MODEL with no route."""
    from console.actions.killswitch import killswitch as ks

    with workspace(ctx) as ws:
        preview = ks(ws, model, level=level, dry_run=True, timeout=timeout)
        if dry_run or preview.status == "refused":
            if not as_json:
                _show_plan(preview)
            _finish(ctx, preview, as_json)
        _confirm(preview, yes, as_json)
        res = ks(
            ws,
            model,
            level=level,
            incident_id=incident_id,
            confirmed_by=confirmed_by,
            timeout=timeout,
        )
    _finish(ctx, res, as_json)


@click.command()
@click.argument("model")
@action_options
@json_option
@env_option
@click.pass_context
def restore(ctx, model, dry_run, yes, incident_id, confirmed_by, timeout, as_json):
    """Undo MODEL's last kill switch: put back the routes it replaced."""
    from console.actions.killswitch import restore as do_restore

    with workspace(ctx) as ws:
        preview = do_restore(ws, model, dry_run=True, timeout=timeout)
        if dry_run:
            _finish(ctx, preview, as_json)
        _confirm(preview, yes, as_json)
        res = do_restore(
            ws, model, incident_id=incident_id, confirmed_by=confirmed_by, timeout=timeout
        )
    _finish(ctx, res, as_json)


@click.command()
@click.argument("model")
@click.argument("weights", nargs=-1, required=True)
@action_options
@json_option
@env_option
@click.pass_context
def traffic(ctx, model, weights, dry_run, yes, incident_id, confirmed_by, timeout, as_json):
    """Set MODEL's traffic: VERSION=WEIGHT … (percentages summing to 100)."""
    from console.actions.traffic import parse_weights, set_traffic

    w = parse_weights(weights)
    with workspace(ctx) as ws:
        preview = set_traffic(ws, model, w, dry_run=True, timeout=timeout)
        if dry_run:
            _finish(ctx, preview, as_json)
        _confirm(preview, yes, as_json)
        res = set_traffic(
            ws, model, w, incident_id=incident_id, confirmed_by=confirmed_by, timeout=timeout
        )
    _finish(ctx, res, as_json)


@click.command()
@click.argument("model")
@click.argument("version")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--incident", "incident_id", default=None, metavar="ID")
@click.option("--confirmed-by", default=None, metavar="NAME")
@json_option
@env_option
@click.pass_context
def pointer(ctx, model, version, yes, incident_id, confirmed_by, as_json):
    """Move only the registry's production pointer of MODEL to VERSION (audited). Used to
    finish or undo a partially applied rollback."""
    from console.actions.traffic import set_pointer

    if not yes:
        click.confirm(
            f"Point {model}'s production at {version}?", default=False, abort=True, err=True
        )
    with workspace(ctx) as ws:
        res = set_pointer(ws, model, version, incident_id=incident_id, confirmed_by=confirmed_by)
    _finish(ctx, res, as_json)


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
    from console.actions.traffic import transition_stage
    from console.backends.types import STAGES

    canonical = {s.lower(): s for s in STAGES}[stage.lower()]
    with workspace(ctx) as ws:
        res = transition_stage(
            ws, model, version, canonical, incident_id=incident_id, confirmed_by=confirmed_by
        )
    _finish(ctx, res, as_json)


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

    with open_store(load().data_dir) as store:
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
    """Actions that started and never ended (a crash mid-action), with finish/undo commands.
    Exit 6 when there are any."""
    from console.actions.pending import incomplete_actions
    from console.cli.common import require_model

    with workspace(ctx) as ws:
        pending = incomplete_actions(ws, model)
        if not pending:
            require_model(ws, model)  # "nothing pending" for a model that does not exist: 4
    if as_json:
        print_json({"pending": pending})
    else:
        out = console_out()
        if not pending:
            out.print("No unfinished actions.")
        for p in pending:
            out.print(
                f"{p['action']} {p['model']} ({p['action_id']}) started {p['started_at']}:"
                f" {p['state']}; done: {', '.join(p['completed_steps']) or 'nothing'}",
                markup=False,
            )
            if p.get("finish"):
                out.print(f"  finish: {p['finish']}\n  undo:   {p['undo']}", markup=False)
    ctx.exit(6 if pending else 0)


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
    type=float,
    default=10.0,
    show_default=True,
    help="Minutes of canary traffic collected before judging each stage.",
)
@click.option(
    "--margin",
    type=float,
    default=0.005,
    show_default=True,
    help="Non-inferiority margin on the success rate (0.005 = 0.5 pp).",
)
@click.option("--alpha", type=float, default=0.05, show_default=True)
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
    as_json,
):
    """Roll VERSION out to MODEL stage by stage, judging the canary at each stage
    (two-proportion test with a non-inferiority margin, plus error-rate, p99 latency and
    output-diversity guardrails). First failure: step back one stage; second: abort. A severe
    signal aborts at once. At 100% the registry's production pointer moves to VERSION.

    Exit codes: 0 rolled out · 1 refused · 5 aborted (traffic back on the champion) ·
    6 partially applied."""
    from datetime import timedelta

    from console.actions.rollout import Guardrails, parse_stages, wait_on_clock
    from console.actions.rollout import rollout as do_rollout
    from console.clock import ManualClock

    st = parse_stages(stages)
    with workspace(ctx) as ws:
        g = Guardrails.from_thresholds(dict(ws.config.thresholds), margin=margin, alpha=alpha)
        preview = do_rollout(
            ws,
            model,
            version,
            stages=st,
            dwell_minutes=dwell_minutes,
            guardrails=g,
            dry_run=True,
            timeout=timeout,
        )
        if dry_run:
            _finish(ctx, preview, as_json)
        _confirm(preview, yes, as_json)
        out = console_out()

        start_seq = ws.store.last_seq()
        shown: set[int] = set()

        def progress() -> None:
            """The stage decisions and traffic steps recorded since the last look, as they
            happen (also when the output is piped: a rollout takes many minutes)."""
            if as_json:
                return
            for e in ws.store.events(
                all_incidents=True, after_seq=start_seq, kind_prefix="action."
            ):
                if e.seq in shown or e.kind not in ("action.decision", "action.step"):
                    continue
                shown.add(e.seq)
                out.print(f"  {e.ts:%H:%M:%S} {e.message}", markup=False, soft_wrap=True)
            out.file.flush()

        def wait(seconds: float) -> None:
            progress()
            if isinstance(ws.clock, ManualClock):
                ws.clock.advance(seconds=seconds)
                return
            until = ws.now() + timedelta(seconds=seconds)
            line = (
                f"collecting canary traffic for {seconds / 60:g} min (until {until:%H:%M:%S} UTC)…"
            )
            if out.is_terminal:
                with out.status(line):
                    wait_on_clock(ws, seconds)
            else:
                out.print(f"  {ws.now():%H:%M:%S} {line}", markup=False, soft_wrap=True)
                out.file.flush()
                wait_on_clock(ws, seconds)

        res = do_rollout(
            ws,
            model,
            version,
            stages=st,
            dwell_minutes=dwell_minutes,
            guardrails=g,
            incident_id=incident_id,
            confirmed_by=confirmed_by,
            timeout=timeout,
            wait=wait,
        )
        progress()
    _finish(ctx, res, as_json)
