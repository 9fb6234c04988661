"""`rollbook postmortem` and `rollbook report roi|incident-cost|exposure|tco|business-case|
standby|drill`: documents from the incident record and cost / ROI arithmetic."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from console.cli.common import console_out, env_name, env_option, json_option, print_json


def _config():
    from console.config import load

    return load()


def _store(cfg):
    from console.store import open_store

    return open_store(cfg)


def _now():
    from console.clock import utcnow

    return utcnow()


def output_options(f: Callable) -> Callable:
    f = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the document to FILE instead of stdout.",
    )(f)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["md", "html"]),
        default="md",
        show_default=True,
        help="Markdown or one self-contained HTML file.",
    )(f)
    return json_option(f)


def write_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, then say so on stderr. A path that cannot be written (a
    folder that does not exist — it is not created: a typo must not scatter files —, a full
    disk, a file where a folder should be, no permission) is a RollbookError naming the path
    and the reason, never a traceback."""
    from console.errors import RollbookError

    parent = path.parent
    if not parent.exists() and not parent.is_symlink():
        blocker = next((a for a in path.parents if a.exists()), None)
        reason = (
            f"{blocker} is a file, not a folder"
            if blocker is not None and not blocker.is_dir()
            else f"the folder {parent} does not exist"
        )
        raise RollbookError(
            f"cannot write {path}: {reason}",
            hint="create the folder first, or choose another -o path",
        )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        blocker = next((a for a in path.parents if a.exists()), None)
        if blocker is not None and not blocker.is_dir():
            reason = f"{blocker} is a file, not a folder"
        raise RollbookError(
            f"cannot write {path}: {reason}", hint="choose another -o path, or fix its folder"
        ) from None
    click.echo(f"Wrote {path}", err=True)


def _emit(doc: str, output: Path | None) -> None:
    if output is None:
        click.echo(doc, nl=not doc.endswith("\n"))
        return
    write_file(output, doc)


def _document(
    name: str, fmt: str, output: Path | None, as_json: bool, result: Any, key: str, **extra: Any
) -> None:
    """Print ``result`` as JSON, or render template ``name`` with it under ``key``."""
    if as_json:
        print_json(result)
        return
    from console.reports.render import render_report

    cfg = _config()
    ctx = {key: result, "generated_at": _now(), **extra}
    _emit(render_report(name, fmt, ctx, user_dir=cfg.template_dir, currency=cfg.currency), output)


def _configured_revenue(cfg, inc) -> float | None:
    """The environment's revenue per hour for the incident's model, if configured."""
    env = cfg.envs.get(inc.env)
    return env.revenue_per_hour.get(inc.model) if env is not None else None


# ---- post-mortem ---------------------------------------------------------------------------
def _charts(ctx: click.Context, incident, now) -> tuple[dict, str]:
    """Key signals from the environment's metrics backend; a note instead when it fails."""
    try:
        from console.reports.signals import fetch_series
        from console.workspace import open_workspace

        with open_workspace(env_name(ctx) or incident.env) as ws:
            return fetch_series(ws, incident, now=now)
    except Exception as exc:  # noqa: BLE001 - charts are optional; the report is not
        return {}, f"No metrics backend was available ({exc}): charts omitted."


@click.command()
@click.argument("incident_id")
@output_options
@click.option(
    "--check",
    is_flag=True,
    help="Check the wording is blameless; exit 1 and list lines when it is not.",
)
@click.option(
    "--action-items-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the action items as CSV to FILE ('-': stdout); the post-mortem itself is "
    "then written only with -o.",
)
@click.option("--no-charts", is_flag=True, help="HTML: do not query the metrics backend.")
@env_option
@click.pass_context
def postmortem(
    ctx: click.Context,
    incident_id: str,
    fmt: str,
    output: Path | None,
    as_json: bool,
    check: bool,
    action_items_csv: Path | None,
    no_charts: bool,
) -> None:
    """The blameless post-mortem of INCIDENT_ID, written from its record."""
    from console.reports import record
    from console.reports.postmortem import build_postmortem, postmortem_json, render_postmortem
    from console.store.paging import PagedTimeline

    cfg = _config()
    # open until the command ends: the timeline is read page by page while it is rendered,
    # so a 100,000-event incident is never held in memory
    store = ctx.with_resource(_store(cfg))
    inc = store.get(incident_id.upper())
    events = PagedTimeline(store, inc.id, until_seq=store.last_seq())
    now = _now()
    rph = _configured_revenue(cfg, inc)
    common = {
        "now": now,
        "user_dir": cfg.template_dir,
        "currency": cfg.currency,
        "revenue_per_hour": rph,
    }
    if action_items_csv is not None:
        items = record.action_items(store.events(inc.id, kind_prefix="action_item"))
        text = record.action_items_csv(items)
        if str(action_items_csv) == "-":
            sys.stdout.write(text)
        else:
            write_file(action_items_csv, text)
    if check:
        _check(ctx, inc, events, common, as_json)
        if output is None:
            return
    if as_json and not check:
        print_json(postmortem_json(build_postmortem(inc, events, now=now, revenue_per_hour=rph)))
        return
    if action_items_csv is not None and output is None:
        return  # the CSV was asked for; the post-mortem goes only where -o says
    series, note = (
        ({}, "Charts not requested (--no-charts).")
        if no_charts or fmt != "html"
        else _charts(ctx, inc, now)
    )
    doc = render_postmortem(inc, events, fmt=fmt, series=series, series_note=note or None, **common)
    _emit(doc, output)
    if output is not None:
        _published(cfg, inc.id, output, fmt)


def _published(cfg, incident_id: str, path: Path, fmt: str) -> None:
    """Record the written post-mortem on the timeline (``postmortem.published``); the
    incident's notification channels announce its path, or ``postmortem_url``."""
    from console.notify.updates import publish_postmortem

    with _store(cfg) as store:
        publish_postmortem(
            cfg, store, incident_id, path=path.resolve(), fmt=fmt, actor=cfg.actor, now=_now()
        )


def _check(ctx: click.Context, inc, events, common: dict[str, Any], as_json: bool) -> None:
    from console.reports.blameless import check_postmortem

    findings = check_postmortem(inc, events, **common)
    if as_json:
        print_json({"incident": inc.id, "ok": not findings, "findings": findings})
    elif not findings:
        console_out().print(f"{inc.id}: the post-mortem reads as blameless.")
    else:
        out = console_out()
        out.print(f"{inc.id}: {len(findings)} blame-oriented phrase(s) in the post-mortem:")
        for f in findings:
            src = f" (timeline #{f.seq})" if f.seq is not None else ""
            out.print(f"  line {f.line}:{f.column} [{f.rule}] “{f.match}”{src}", markup=False)
            out.print(f"    {f.text}", markup=False, style="dim")
            out.print(f"    → {f.suggestion}", markup=False)
    if findings:
        ctx.exit(1)


# ---- cost / ROI / drill reports ------------------------------------------------------------
@click.group()
def report() -> None:
    """Cost / ROI reports and the drill report (Markdown, HTML or --json)."""


@report.command()
@click.argument("models_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_options
def roi(models_csv: Path, fmt: str, output: Path | None, as_json: bool) -> None:
    """Per-model ROI from MODELS_CSV (model, serving_pattern, monthly_cost, monthly_value)."""
    from console.reports.costs import model_roi
    from console.reports.inputs import load_models_csv

    _document("roi", fmt, output, as_json, model_roi(load_models_csv(models_csv)), "r")


@report.command("incident-cost")
@click.argument("incident_id", required=False)
@click.option("--revenue-per-hour", type=float, default=None, help="Money per hour at risk.")
@click.option("--minutes", type=float, default=None, help="Minutes until mitigated.")
@click.option(
    "--engineers",
    type=int,
    default=None,
    help="Engineers working it (default with INCIDENT: the people in its record).",
)
@click.option(
    "--hourly-rate", type=float, default=0.0, show_default=True, help="Cost of one engineer-hour."
)
@output_options
@env_option
def incident_cost_cmd(
    incident_id: str | None,
    revenue_per_hour: float | None,
    minutes: float | None,
    engineers: int | None,
    hourly_rate: float,
    fmt: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """Revenue at risk per hour × time to mitigate, plus engineering time.

    With INCIDENT_ID the figures come from its record (time to mitigate; engineers counted
    until resolved) and the configured revenue per hour; flags override them."""
    from console.errors import InvalidInput
    from console.reports.costs import incident_cost, incident_cost_from_record

    inc = None
    if incident_id:
        cfg = _config()
        with _store(cfg) as store:
            inc = store.get(incident_id.upper())
            events = store.events(inc.id)
        cost = incident_cost_from_record(
            inc,
            events,
            now=_now(),
            revenue_per_hour=revenue_per_hour,
            configured_revenue_per_hour=_configured_revenue(cfg, inc),
            minutes=minutes,
            engineers=engineers,
            hourly_rate=hourly_rate,
        )
    elif revenue_per_hour is None or minutes is None:
        raise InvalidInput(
            "need a revenue per hour and the minutes to mitigate",
            hint="give INCIDENT, or --revenue-per-hour R --minutes M",
        )
    else:
        cost = incident_cost(
            revenue_per_hour, minutes, engineers=engineers or 0, hourly_rate=hourly_rate
        )
    _document("incident_cost", fmt, output, as_json, cost, "c", incident=inc)


@report.command()
@click.option("--requests-per-hour", type=float, required=True)
@click.option("--seconds", type=float, required=True, help="Rollback duration in seconds.")
@click.option(
    "--share",
    type=float,
    default=1.0,
    show_default=True,
    help="Fraction of traffic on the bad version (0.25 for a 25% canary).",
)
@output_options
def exposure(
    requests_per_hour: float,
    seconds: float,
    share: float,
    fmt: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """Requests exposed during a rollback = R / 3600 × S × F."""
    from console.reports.costs import exposure as compute

    _document("exposure", fmt, output, as_json, compute(requests_per_hour, seconds, share), "e")


@report.command()
@click.argument("costs_toml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--annual-value",
    type=float,
    default=None,
    help="Money a year the model brings (overrides the file's annual_value).",
)
@output_options
def tco(
    costs_toml: Path, annual_value: float | None, fmt: str, output: Path | None, as_json: bool
) -> None:
    """Total cost of ownership per category, monthly and annual, and the return ratio."""
    from console.reports.costs import tco as compute
    from console.reports.inputs import load_costs_toml

    spec = load_costs_toml(costs_toml)
    if annual_value is not None:
        spec["annual_value"] = annual_value
    _document("tco", fmt, output, as_json, compute(**spec), "t")


@report.command("business-case")
@click.option("--annual-investment", type=float, required=True, help="I: money per year.")
@click.option("--weeks-before", type=float, required=True, help="B: weeks to deploy today.")
@click.option("--weeks-after", type=float, required=True, help="A: weeks after investing.")
@click.option("--models", type=float, required=True, help="N: models over the horizon.")
@click.option("--value-per-model", type=float, required=True, help="V: money/model/year.")
@click.option("--horizon-months", type=float, required=True, help="H: months.")
@click.option(
    "--engineer-week-cost",
    type=float,
    default=0.0,
    show_default=True,
    help="C: cost of one engineer-week.",
)
@output_options
def business_case(fmt: str, output: Path | None, as_json: bool, **figures: float) -> None:
    """Value of deploying models sooner against the investment that makes it possible."""
    from console.reports.business import business_case as compute

    _document("business_case", fmt, output, as_json, compute(**figures), "b")


@report.command()
@click.option(
    "--standby-cost", "standby_cost_per_month", type=float, required=True, help="Per month."
)
@click.option("--requests-per-hour", type=float, required=True)
@click.option("--pull-seconds", type=float, required=True, help="Cold start: image pull.")
@click.option("--load-seconds", type=float, required=True, help="Cold start: model load.")
@click.option("--warmup-seconds", type=float, required=True, help="Cold start: warm-up.")
@click.option(
    "--warm-seconds",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds to flip traffic to a warm standby.",
)
@click.option("--share", type=float, default=1.0, show_default=True)
@click.option("--rollbacks-per-month", type=float, default=1.0, show_default=True)
@click.option(
    "--cost-per-bad-request",
    type=float,
    default=None,
    help="Money one badly served request costs (enables the verdict).",
)
@output_options
def standby(fmt: str, output: Path | None, as_json: bool, **figures: Any) -> None:
    """Warm standby versus cold rollback: standby cost against requests exposed."""
    from console.reports.standby import standby_vs_cold

    _document("standby", fmt, output, as_json, standby_vs_cold(**figures), "s")


@report.command()
@click.argument("incident_id")
@output_options
@env_option
def drill(incident_id: str, fmt: str, output: Path | None, as_json: bool) -> None:
    """The drill report of INCIDENT_ID: steps, times against targets, pass/fail, review."""
    from console.reports.drill import build_drill_report, render_drill, targets_from_config

    cfg = _config()
    with _store(cfg) as store:
        inc = store.get(incident_id.upper())
        events = store.events(inc.id)
    targets = targets_from_config(cfg.drill_targets)
    if as_json:
        data = build_drill_report(inc, events, targets=targets, now=_now())
        print_json({k: v for k, v in data.items() if k not in ("incident",)} | {"incident": inc.id})
        return
    _emit(
        render_drill(
            inc,
            events,
            targets=targets,
            now=_now(),
            fmt=fmt,
            user_dir=cfg.template_dir,
            currency=cfg.currency,
        ),
        output,
    )
