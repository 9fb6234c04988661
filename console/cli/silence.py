"""`rollbook silence add | expire | list`: silences (Alertmanager's, or the embedded world's),
recorded on the timeline."""

from __future__ import annotations

import click

from console.cli.common import (
    console_out,
    env_option,
    json_option,
    print_json,
    workspace,
)


@click.group()
def silence() -> None:
    """Silence alerts (e.g. during a drill); each change is recorded with author and comment."""


@silence.command("add")
@click.option(
    "--match",
    "-m",
    "matchers",
    multiple=True,
    required=True,
    metavar="LABEL=VALUE",
    help="Alert label matcher (=, !=, =~, !~); repeat for several (all must match).",
)
@click.option(
    "--duration", "-d", default="1h", show_default=True, help="How long: 30m, 2h, 1h30m, 1d."
)
@click.option(
    "--comment", "-c", required=True, help="Why (shown in Alertmanager and on the timeline)."
)
@click.option(
    "--incident",
    "incident_id",
    default=None,
    metavar="ID",
    help="Record on this incident (default: the open incident of the model=… "
    "matcher, else a standalone audit record).",
)
@json_option
@env_option
@click.pass_context
def add(ctx, matchers, duration, comment, incident_id, as_json) -> None:
    """Create a silence."""
    from console.errors import InvalidInput
    from console.silences import create_silence, parse_duration, parse_matchers

    try:  # a usage error, before any backend is called
        parse_matchers(list(matchers))
        parse_duration(duration)
    except InvalidInput as exc:
        param = "'--match' / '-m'" if "matcher" in exc.message else "'--duration' / '-d'"
        raise click.BadParameter(str(exc), ctx=ctx, param_hint=param) from None
    with workspace(ctx) as ws:
        rec = create_silence(
            ws,
            list(matchers),
            comment=comment,
            duration=parse_duration(duration),
            incident_id=incident_id,
        )
    if as_json:
        print_json(rec)
    else:
        console_out().print(
            f"silence {rec['silence_id']} until {rec['ends_at']}"
            + (f"; recorded on {rec['incident_id']}" if rec["incident_id"] else ""),
            markup=False,
        )


@silence.command("expire")
@click.argument("silence_id")
@click.option("--comment", "-c", default="", help="Why it is lifted.")
@click.option(
    "--incident",
    "incident_id",
    default=None,
    metavar="ID",
    help="Record on this incident (default: where the silence was recorded).",
)
@json_option
@env_option
@click.pass_context
def expire(ctx, silence_id, comment, incident_id, as_json) -> None:
    """Expire (lift) a silence."""
    from console.silences import expire_silence

    with workspace(ctx) as ws:
        rec = expire_silence(ws, silence_id, incident_id=incident_id, comment=comment)
    if as_json:
        print_json(rec)
    else:
        console_out().print(f"silence {silence_id} expired", markup=False)


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include expired silences.")
@json_option
@env_option
@click.pass_context
def list_cmd(ctx, show_all, as_json) -> None:
    """Silences (in Alertmanager, or in the embedded world)."""
    from console.silences import list_silences

    with workspace(ctx) as ws:
        items = [s for s in list_silences(ws) if show_all or s.state != "expired"]
    if as_json:
        print_json({"silences": [s.to_dict() for s in items]})
        return
    out = console_out()
    if not items:
        out.print("no silences", markup=False)
    for s in items:
        out.print(
            f"{s.id}  {s.state:<8} until {s.ends_at:%Y-%m-%d %H:%M}Z  "
            f"{' '.join(s.matchers)}  — {s.created_by}: {s.comment}",
            markup=False,
        )
