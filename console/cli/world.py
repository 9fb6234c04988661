"""`rollbook demo`, `status`, `plugins`, and opening the console."""

from __future__ import annotations

import click

from console.cli.common import (
    console_out,
    env_name,
    env_option,
    json_option,
    print_json,
    workspace,
)


def _check_speed(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    # A usage error (exit 2), like every other option out of its range, and checked before
    # the world is opened: a world once saved with speed inf made every later command fail.
    from console.clock import speed_problem

    if value is not None and (problem := speed_problem(value)):
        raise click.BadParameter(problem)
    return value


def print_fleet(statuses) -> None:
    from rich.table import Table

    from console.fleet import HEALTH_WORDS, format_routes, format_signal

    table = Table(title="Fleet", title_justify="left")
    for col in ("model", "prod", "traffic", "health", "key signal", "alerts", "incidents"):
        table.add_column(col)
    notes: list[str] = []
    for s in statuses:
        errs = s.backend_errors
        # the value first: in a narrow terminal the signal's name is what gets cut
        key = f"{format_signal(s.key_signal, s.signals.get(s.key_signal))} {s.key_signal}"
        if "metrics" in errs:
            key = "▲ DEGRADED (metrics)"
        alerts = "; ".join(a.summary for a in s.alerts) or (
            "▲ DEGRADED (alerts)" if "alerts" in errs else "—"
        )
        table.add_row(
            s.model,
            "▲ DEGRADED" if "registry" in errs else (s.production_version or "—"),
            "▲ DEGRADED" if "traffic" in errs else format_routes(s.routes),
            ("⚠ SPLIT" if s.split else HEALTH_WORDS.get(s.health, s.health))
            + (" (batch paused)" if s.batch_paused else ""),
            key,
            alerts,
            ", ".join(s.open_incidents) or "—",
        )
        if s.split:
            notes.append(f"{s.model}: {s.split.message}")
    out = console_out()
    out.print(table)
    errors = {e for s in statuses for e in s.backend_errors.values()}
    for e in sorted(errors):
        out.print(f"▲ DEGRADED {e}", markup=False, soft_wrap=True)
    for n in notes:
        out.print(n, markup=False, soft_wrap=True)


#: One line per scenario of the embedded world, for ``rollbook demo --help`` (the help must
#: not seed a world to ask it; tests/tui/test_guidance.py checks this list against the
#: world's own, so it cannot drift).
SCENARIO_LINES = (
    ("athena-null-feature", "churn: an upstream column rename turns a feature 94% null"),
    ("constant-recommendations", "recommendations: the same item for every user"),
    ("credit-score-shift", "credit-score: bad income data drifts the mean score 645 → 580"),
    ("canary-error-creep", "fraud: canary fails ~3% of requests; no alert fires (watch it)"),
    ("canary-latency-spike", "fraud: canary at 25% with p99 120 ms against 35 ms"),
    ("pricing-zero", "pricing: every price 0.00, error rate 95%"),
    ("segment-drift", "fraud: false positives up for mobile / new users only"),
    ("fraud-concept-drift", "fraud: losses up 40% while accuracy holds (concept drift)"),
)


def _scenario_epilog() -> str:
    width = max(len(n) for n, _ in SCENARIO_LINES)
    lines = [f"  {name:<{width}}  {what}" for name, what in SCENARIO_LINES]
    # \b keeps click from re-wrapping the list into one paragraph
    return "\b\nScenarios (--scenario):\n" + "\n".join(lines)


@click.command(epilog=_scenario_epilog())
@click.option(
    "--scenario",
    default="athena-null-feature",
    show_default=True,
    help="Fault to inject into the embedded world (listed below).",
)
@click.option(
    "--speed",
    type=float,
    default=None,
    callback=_check_speed,
    help="Simulated seconds per wall-clock second (default 1; at most 86400).",
)
@click.option("--no-tui", is_flag=True, help="Print where things stand instead of opening the TUI.")
@json_option
@env_option
@click.pass_context
def demo(
    ctx: click.Context, scenario: str, speed: float | None, no_tui: bool, as_json: bool
) -> None:
    """Seed the embedded world, inject SCENARIO, open an incident for it, open the console.

    Needs no server: the embedded world is a SQLite file under your data dir (or
    $ROLLBOOK_HOME). Running it again reuses the world and the open incident."""
    env = env_name(ctx) or "demo"
    if not (as_json or no_tui or not _tui_available()):
        # Paint first; seed the world and open the incident in a worker with progress (the
        # demo's imports happen there too, after the first frame).
        from console.tui.app import run

        def prepare(ws) -> str | None:
            from console.demo import start_demo

            state = start_demo(ws, scenario, speed=speed)
            return state.incident.id if state.incident else None

        run(env, prepare=prepare)
        return
    from console.demo import start_demo
    from console.fleet import fleet_status

    with workspace(ctx, env) as ws:
        state = start_demo(ws, scenario, speed=speed)
        statuses = fleet_status(ws)
    if as_json:
        print_json({"demo": state, "fleet": statuses})
    else:
        _print_demo(state, statuses)


def _print_demo(state, statuses) -> None:
    out = console_out()
    print_fleet(statuses)
    inc = state.incident
    if inc is None:
        out.print(f"Scenario {state.scenario} injected; no alert firing yet.")
        return
    verb = "opened" if state.created else "still open"
    out.print(f"\n[bold]{inc.id}[/] ({verb}) {inc.severity} {inc.model}: {inc.title}")
    out.print(
        f"  detected {inc.detected_at:%Y-%m-%d %H:%M} UTC · status {inc.status} · phase {inc.phase}"
    )
    out.print(f"  next: rollbook incident show {inc.id}")


def _tui_available() -> bool:
    import importlib.util
    import sys

    return sys.stdout.isatty() and importlib.util.find_spec("console.tui") is not None


@click.command()
@click.argument("model", required=False)
@json_option
@env_option
@click.pass_context
def status(ctx: click.Context, model: str | None, as_json: bool) -> None:
    """Production version, traffic split, health and key signals of each model (or MODEL).

    Exit code 0 when every model is healthy, 1 when any is degraded, critical or unknown."""
    from console.fleet import fleet_status

    with workspace(ctx) as ws:
        statuses = fleet_status(ws, model)
    if as_json:
        print_json({"env": ws.env.name, "models": statuses})
    else:
        print_fleet(statuses)
    ctx.exit(0 if all(s.health == "healthy" for s in statuses) else 1)


@click.command("plugins")
@json_option
@click.pass_context
def plugins_cmd(ctx: click.Context, as_json: bool) -> None:
    """Installed plugins (a plugin that fails to import is listed with its error) and which
    plugin each environment uses per role."""
    from console.backends.discovery import plugin_report
    from console.config import load

    cfg = load()
    report = plugin_report()
    envs = {
        name: {role: rc.plugin for role, rc in env.roles.items()} for name, env in cfg.envs.items()
    }
    if as_json:
        print_json(
            {
                "config": str(cfg.path),
                "default_env": cfg.default_env,
                "plugins": report,
                "environments": envs,
            }
        )
        return
    from rich.table import Table

    out = console_out()
    t = Table(title="Plugins", title_justify="left")
    for col in ("name", "status", "roles", "from"):
        t.add_column(col)
    for p in report:
        t.add_row(
            p.name,
            "ok" if p.ok else f"FAILED: {p.error}",
            ", ".join(sorted(p.plugin.roles)) if p.plugin else "—",
            p.target,
        )
    out.print(t)
    e = Table(title=f"Environments (config: {cfg.path})", title_justify="left")
    for col in ("env", "default", "registry", "metrics", "traffic", "predictions", "world"):
        e.add_column(col)
    for name, roles in envs.items():
        e.add_row(
            name,
            "yes" if name == cfg.default_env else "",
            *(
                roles.get(r, "—")
                for r in ("registry", "metrics", "traffic", "predictions", "world")
            ),
        )
    out.print(e)


@click.command("console", hidden=True)
@click.pass_context
def open_console(ctx: click.Context) -> None:
    """Open the console on the default environment."""
    if _tui_available():
        from console.tui.app import run

        run(env_name(ctx))
        return
    from console.fleet import fleet_status

    with workspace(ctx) as ws:
        print_fleet(fleet_status(ws))
