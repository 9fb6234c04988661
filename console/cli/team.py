"""`rollbook incident assign` and `incident severity`: who does what, and how bad it is."""

from __future__ import annotations

import click

from console.cli.common import console_out, env_option, json_option, print_json, workspace


@click.command("assign")
@click.argument("incident_id")
@click.argument("person")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["commander", "scribe", "owner"]),
    help="commander runs the incident, scribe keeps the record, owner owns the model.",
)
@json_option
@env_option
@click.pass_context
def assign_cmd(ctx: click.Context, incident_id: str, person: str, role: str, as_json: bool) -> None:
    """Give ROLE on INCIDENT_ID to PERSON (recorded on the timeline; the console's header
    shows the commander, the post-mortem lists every responder)."""
    from console.team import assign

    with workspace(ctx) as ws:
        inc = assign(ws, incident_id.upper(), role, person)
    if as_json:
        print_json({"incident": inc})
    else:
        console_out().print(f"{inc.id}: {role} is {person}", markup=False)


@click.command("severity")
@click.argument("incident_id")
@click.argument(
    "severity", type=click.Choice(["SEV1", "SEV2", "SEV3", "SEV4"], case_sensitive=False)
)
@click.option("--why", required=True, help="Why the severity changes (on the timeline).")
@json_option
@env_option
@click.pass_context
def severity_cmd(
    ctx: click.Context, incident_id: str, severity: str, why: str, as_json: bool
) -> None:
    """Change INCIDENT_ID's severity to SEVERITY, saying why."""
    from console.team import set_severity

    with workspace(ctx) as ws:
        inc = set_severity(ws, incident_id.upper(), severity, why)
    if as_json:
        print_json({"incident": inc})
    else:
        console_out().print(f"{inc.id}: {inc.severity} — {why}", markup=False)
