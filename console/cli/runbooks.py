"""`rollbook runbook validate|list|show`, `run`, `drill`."""

from __future__ import annotations

import sys

import click

from console.cli.common import console_out, env_name, env_option, json_option, print_json


@click.group()
def runbook() -> None:
    """Validate, list and show runbooks."""


@runbook.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@json_option
def validate(paths: tuple[str, ...], as_json: bool) -> None:
    """Validate runbook files (or folders of them). Prints every problem as
    `file:line: field: message`; exits 1 when there is any."""
    from console.runbooks.loader import validate_paths

    runbooks, problems = validate_paths(paths)
    if as_json:
        print_json(
            {
                "ok": not problems,
                "runbooks": [r.id for r in runbooks],
                "problems": [p.to_dict() for p in problems],
            }
        )
    else:
        for p in problems:
            click.echo(str(p))
        if not problems:
            click.echo(f"ok: {len(runbooks)} runbook(s) valid")
        else:
            click.echo(f"{len(problems)} problem(s)", err=True)
    sys.exit(1 if problems else 0)


def _library():
    from console.config import load
    from console.runbooks.loader import workspace_library

    return workspace_library(load())


@runbook.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """Runbooks available (shipped and from the configured folders)."""
    lib = _library()
    if as_json:
        print_json(
            {
                "runbooks": [
                    {
                        "id": r.id,
                        "title": r.title,
                        "severity": r.severity,
                        "select": r.select.to_dict(),
                        "path": r.path,
                        "steps": len(r.steps),
                    }
                    for r in lib
                ],
                "problems": [p.to_dict() for p in lib.problems],
            }
        )
        return
    from rich.table import Table

    t = Table(title="Runbooks", title_justify="left")
    for col in ("id", "sev", "selected by", "steps", "title"):
        t.add_column(col)
    for r in lib:
        sel = r.select
        by = ", ".join(
            [
                *sel.alerts,
                *(f"{k}={'|'.join(v)}" for k, v in sel.labels.items()),
                *(f"model {m}" for m in sel.models),
            ]
        ) or ("fallback" if sel.fallback else "—")
        t.add_row(r.id, r.severity, by, str(len(r.steps)), r.title)
    out = console_out()
    out.print(t)
    for p in lib.problems:
        out.print(f"[red]{p}[/]", markup=True, highlight=False)


@runbook.command("show")
@click.argument("runbook_id")
@json_option
def show(runbook_id: str, as_json: bool) -> None:
    """A runbook's phases and steps."""
    rb = _library().get(runbook_id)
    if as_json:
        print_json(rb.to_dict())
        return
    out = console_out()
    out.print(f"[bold]{rb.id}[/] — {rb.title} ({rb.severity})")
    out.print(f"  {rb.description.strip()}", markup=False)
    phase = None
    for s in rb.steps:
        if s.phase != phase:
            phase = s.phase
            out.print(f"\n[bold]{phase}[/]")
        extra = f" {s.name}" if s.name else ""
        flags = "".join(
            [
                f" → {s.goto}" if s.goto else "",
                f" [marks {s.marks}]" if s.marks else "",
                " (automatic)" if s.automatic else "",
                f" when {s.when}" if s.when else "",
            ]
        )
        out.print(f"  {s.id:<20} {s.kind}{extra}: {s.title}{flags}", markup=False)
        for o in s.options:
            out.print(f"  {'':<20}   · {o.id}: {o.label} → {o.goto}", markup=False)


def _print_view(view, nxt, incident_id: str = "INCIDENT", *, listing: bool = False) -> None:
    """One step: its state, text, evidence summary, plan; then what comes next (not in a
    listing of every step)."""
    from console.plans import plan_lines

    out = console_out()
    mark = {
        "passed": "✔",
        "done": "✔",
        "failed": "✖",
        "skipped": "–",
        "running": "…",
        "pending": "·",
    }.get(view.state, "?")
    here = "  ← current" if listing and view.current else ""
    out.print(f"{mark} [{view.phase}] {view.id}: {view.title} — {view.state}{here}", markup=False)
    if listing:
        if view.summary and view.state != "pending":
            out.print(f"    {view.summary}", markup=False)
        return
    if view.text:
        out.print(f"    {view.text}", markup=False)
    if view.summary:
        out.print(f"    {view.summary}", markup=False)
    if view.plan:
        for line in plan_lines(view.plan):
            out.print(f"    {line}", markup=False)
    if view.needs_confirmation:
        out.print(
            f"    needs confirmation: confirm with: rollbook run {incident_id} "
            f"--step {view.id} --yes",
            markup=False,
        )
    if view.options and view.state == "pending":
        for o in view.options:
            out.print(f"    · {o['id']}: {o['label']}", markup=False)
    if nxt is not None:
        out.print(f"next: {nxt.id} ({nxt.kind}) {nxt.title}", markup=False)
    elif view.state != "pending":
        out.print("next: nothing — the runbook has ended", markup=False)


@click.command("run")
@click.argument("incident_id")
@click.option("--step", "step_id", default=None, help="Step to run (default: the current one).")
@click.option("--answer", default=None, help="A decision's option, or `skip`.")
@click.option("--note", default=None, help="Text for a note step or a manual step's note.")
@click.option("--yes", "confirm", is_flag=True, help="Confirm the step's action.")
@click.option("--dry-run", is_flag=True, help="Show the action's plan; change nothing.")
@click.option("--show", "show_only", is_flag=True, help="Only show the steps and their state.")
@click.option("--runbook", "runbook_id", default=None, help="Attach this runbook first.")
@json_option
@env_option
@click.pass_context
def run(
    ctx: click.Context,
    incident_id: str,
    step_id: str | None,
    answer: str | None,
    note: str | None,
    confirm: bool,
    dry_run: bool,
    show_only: bool,
    runbook_id: str | None,
    as_json: bool,
) -> None:
    """Advance INCIDENT's runbook by one step (the current one, or --step ID).

    Exit code 0 when the step passed or is done, 1 when it failed or waits for a
    confirmation."""
    from console.runbooks.engine import Engine
    from console.runbooks.selection import attach_runbook
    from console.workspace import open_workspace

    with open_workspace(env_name(ctx)) as ws:
        iid = incident_id.upper()
        rb = attach_runbook(ws, iid, runbook_id) if runbook_id else None
        engine = Engine(ws, iid, runbook=rb)
        if show_only:
            steps = engine.steps()
            if as_json:
                print_json(
                    {
                        "incident": engine.incident,
                        "runbook": engine.runbook.id,
                        "steps": steps,
                        "current": engine.current(),
                        "metrics": engine.metrics(),
                    }
                )
                return
            for v in steps:
                _print_view(v, None, iid, listing=True)
            cur = engine.current()
            console_out().print(f"current: {cur.id if cur else '— (ended)'}", markup=False)
            return
        view = engine.run_step(step_id, answer=answer, note=note, confirm=confirm, dry_run=dry_run)
        nxt = engine.current()
        if as_json:
            print_json(
                {
                    "incident": engine.incident.id,
                    "runbook": engine.runbook.id,
                    "step": view,
                    "next": nxt,
                    "phase": engine.incident.phase,
                    "status": engine.incident.status,
                }
            )
        else:
            _print_view(view, nxt, iid)
    ok = view.state in ("passed", "done", "skipped") or (dry_run and view.plan is not None)
    sys.exit(0 if ok and not view.needs_confirmation else 1)


@click.command("drill")
@click.argument("scenario", required=False)
@click.option("--auto", is_flag=True, help="Let the engine take every step (for CI).")
@click.option(
    "--score", "score_id", default=None, metavar="INCIDENT", help="Score a drill driven by hand."
)
@click.option("--list", "list_only", is_flag=True, help="List the scenarios.")
@click.option("--runbook", "runbook_id", default=None, help="Drill this runbook instead.")
@json_option
@env_option
@click.pass_context
def drill(
    ctx: click.Context,
    scenario: str | None,
    auto: bool,
    score_id: str | None,
    list_only: bool,
    runbook_id: str | None,
    as_json: bool,
) -> None:
    """Inject SCENARIO into the environment's simulated world, open a drill incident when
    its alert fires, and score the response. Exit 0 when the drill passed, 1 when it failed
    (or, without --auto, once the drill is set up for you to drive with `rollbook run`)."""
    from console.runbooks.drills import open_drill_workspace, run_drill, score

    env = env_name(ctx)
    if list_only or (scenario is None and score_id is None):
        with open_drill_workspace(env, auto=False) as ws:
            world = ws.backends.world
            names = world.scenarios() if world is not None else {}
        if as_json:
            print_json({"scenarios": names})
        else:
            for name, desc in sorted(names.items()):
                click.echo(f"{name:<28} {desc}")
        return
    with open_drill_workspace(env, auto=auto and score_id is None) as ws:
        if score_id:
            result = score(ws, score_id)
        elif scenario is not None:
            result = run_drill(
                ws,
                scenario,
                auto=auto,
                runbook=runbook_id,
                progress=lambda msg: click.echo(msg, err=True),
            )
        else:  # `--score ""`: nothing to score and no scenario to drill
            raise click.UsageError("name a SCENARIO to drill, or an INCIDENT to --score")
    if as_json:
        print_json(result)
    else:
        _print_drill(result)
    sys.exit(0 if result.passed else 1)


def _print_drill(r) -> None:
    out = console_out()
    verdict = {True: "[green]PASSED[/]", False: "[red]FAILED[/]", None: "[yellow]RUNNING[/]"}
    out.print(
        f"[bold]drill {r.scenario}[/] · {r.incident_id} · runbook {r.runbook} · {verdict[r.passed]}"
    )
    for row in r.steps:
        if row["state"] in ("pending", "skipped"):
            continue
        out.print(
            f"  {(row['finished_at'] or '')[11:19]}  {row['phase']:<9} "
            f"{row['id']:<20} {row['state']:<7} {row['summary'][:100]}",
            markup=False,
        )
    for key, target in r.targets.items():
        value = r.measured.get(key)
        shown = "—" if value is None else f"{value:.1f} min"
        out.print(f"  {key:<16} {shown:>10}  (target {target:g} min)", markup=False)
    for reason in r.reasons:
        out.print(f"  · {reason}", markup=False)
    if r.passed is None:
        out.print(
            f"  drive it with: rollbook run {r.incident_id}   then: rollbook drill "
            f"--score {r.incident_id}",
            markup=False,
        )
