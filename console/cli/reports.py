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

    return open_store(cfg.data_dir)


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


def _emit(doc: str, output: Path | None) -> None:
    if output is None:
        click.echo(doc, nl=not doc.endswith("\n"))
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(doc, encoding="utf-8")
    click.echo(f"Wrote {output}", err=True)


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


def _postmortem_json(pm: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "incident",
        "generated_at",
        "authors",
        "summary",
        "impact",
        "timeline",
        "detection",
        "metrics",
        "whys",
        "notes",
        "actions",
        "action_items",
        "ml",
        "supporting",
    )
    return {k: pm[k] for k in keys}


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
    help="Also write the action items as CSV to FILE ('-': stdout).",
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
    from console.reports.postmortem import build_postmortem, render_postmortem

    cfg = _config()
    with _store(cfg) as store:
        inc = store.get(incident_id.upper())
        events = store.events(inc.id)
    now = _now()
    try:
        rph = cfg.env(inc.env).revenue_per_hour.get(inc.model)
    except Exception:  # noqa: BLE001 - an environment removed from config since
        rph = None
    common = {
        "now": now,
        "user_dir": cfg.template_dir,
        "currency": cfg.currency,
        "revenue_per_hour": rph,
    }
    if action_items_csv is not None:
        text = record.action_items_csv(record.action_items(events))
        if str(action_items_csv) == "-":
            sys.stdout.write(text)
        else:
            action_items_csv.write_text(text, encoding="utf-8")
            click.echo(f"Wrote {action_items_csv}", err=True)
    if check:
        _check(ctx, inc, events, common, as_json)
        if output is None:
            return
    if as_json and not check:
        print_json(_postmortem_json(build_postmortem(inc, events, now=now, revenue_per_hour=rph)))
        return
    if action_items_csv is not None and str(action_items_csv) == "-" and output is None:
        return
    series, note = (
        ({}, "Charts not requested (--no-charts).")
        if no_charts or fmt != "html"
        else _charts(ctx, inc, now)
    )
    doc = render_postmortem(inc, events, fmt=fmt, series=series, series_note=note or None, **common)
    _emit(doc, output)


def _check(ctx: click.Context, inc, events, common: dict[str, Any], as_json: bool) -> None:
    from console.reports.blameless import attribute, check_text, person_names
    from console.reports.postmortem import render_postmortem

    names = person_names(inc, events)
    doc = render_postmortem(inc, events, fmt="md", **common)
    findings = attribute(check_text(doc, names=names), events, names=names)
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
    from console.reports.costs import incident_cost
    from console.reports.metrics import incident_metrics, minutes_between

    inc, eng_minutes = None, None
    if incident_id:
        from console.reports.record import participants

        cfg = _config()
        with _store(cfg) as store:
            inc = store.get(incident_id.upper())
            events = store.events(inc.id)
        m = incident_metrics(inc)
        if minutes is None:
            minutes = m["mitigate_min"]
            if minutes is None:
                minutes = minutes_between(inc.detected_at, _now())
        eng_minutes = m["resolve_min"] or minutes
        if revenue_per_hour is None:
            revenue_per_hour = (inc.data.get("impact") or {}).get("revenue_per_hour")
        if revenue_per_hour is None:
            revenue_per_hour = cfg.env(inc.env).revenue_per_hour.get(inc.model)
        if engineers is None:
            engineers = len(participants(events, inc.data))
    if revenue_per_hour is None or minutes is None:
        raise InvalidInput(
            "need a revenue per hour and the minutes to mitigate",
            hint="give INCIDENT, or --revenue-per-hour R --minutes M",
        )
    cost = incident_cost(
        revenue_per_hour,
        minutes,
        engineers=engineers or 0,
        hourly_rate=hourly_rate,
        engineering_minutes=eng_minutes,
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
def business_case(
    annual_investment: float,
    weeks_before: float,
    weeks_after: float,
    models: float,
    value_per_model: float,
    horizon_months: float,
    engineer_week_cost: float,
    fmt: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """Value of deploying models sooner against the investment that makes it possible."""
    from console.reports.business import business_case as compute

    bc = compute(
        annual_investment=annual_investment,
        weeks_before=weeks_before,
        weeks_after=weeks_after,
        models=models,
        value_per_model=value_per_model,
        horizon_months=horizon_months,
        engineer_week_cost=engineer_week_cost,
    )
    _document("business_case", fmt, output, as_json, bc, "b")


@report.command()
@click.option("--standby-cost", type=float, required=True, help="Standby cost per month.")
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
def standby(
    standby_cost: float,
    requests_per_hour: float,
    pull_seconds: float,
    load_seconds: float,
    warmup_seconds: float,
    warm_seconds: float,
    share: float,
    rollbacks_per_month: float,
    cost_per_bad_request: float | None,
    fmt: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """Warm standby versus cold rollback: standby cost against requests exposed."""
    from console.reports.costs import standby_vs_cold

    s = standby_vs_cold(
        standby_cost,
        requests_per_hour,
        pull_seconds=pull_seconds,
        load_seconds=load_seconds,
        warmup_seconds=warmup_seconds,
        warm_seconds=warm_seconds,
        share=share,
        rollbacks_per_month=rollbacks_per_month,
        cost_per_bad_request=cost_per_bad_request,
    )
    _document("standby", fmt, output, as_json, s, "s")


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
