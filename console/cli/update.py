"""``rollbook update ID "text"``: a stakeholder update, posted to the incident's channels."""

from __future__ import annotations

import click

from console.cli.common import console_out, env_option, json_option, print_json, workspace


@click.command()
@click.argument("incident_id")
@click.argument("text", nargs=-1, required=True)
@click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(min=0, max=600),
    default=None,
    metavar="SECONDS",
    help="Wait at most this long for delivery (default: the environment's flush_seconds); "
    "what is not sent by then stays queued and is sent by the next rollbook process.",
)
@json_option
@env_option
@click.pass_context
def update(
    ctx: click.Context, incident_id: str, text: tuple[str, ...], wait_s: float | None, as_json: bool
) -> None:
    """Post a stakeholder update (TEXT) to the incident's channels and record it on its
    timeline (a note tagged update; the post-mortem lists it).

    The update is recorded first, whatever happens to its delivery. Exit 5 when a channel
    refused it or gave up after its attempts (it stays on the timeline as failed)."""
    from console.notify.updates import post_update

    with workspace(ctx) as ws:
        result = post_update(ws, incident_id.upper(), " ".join(text), wait=wait_s)
    if as_json:
        print_json(result.to_dict())
    else:
        out = console_out()
        ev = result.event
        drill = " (drill)" if result.drill else ""
        out.print(
            f"Update recorded on {ev.incident_id}{drill} (#{ev.seq} at {ev.ts:%H:%M:%S} UTC).",
            markup=False,
        )
        if not result.channels:
            out.print(
                "No notification channel of this environment takes updates"
                + (" for drills" if result.drill else "")
                + ": recorded only.",
                markup=False,
            )
        for n in result.deliveries:
            if n.state == "sent":
                where = f" ({n.remote_id}" + (", in the incident's thread)" if n.thread else ")")
                out.print(f"  {n.channel}: sent{where}", markup=False)
            elif n.state == "failed":
                out.print(f"  {n.channel}: FAILED — {n.error}", markup=False)
            else:
                why = f" — {n.error}" if n.error else ""
                out.print(
                    f"  {n.channel}: {n.state}{why}; it stays queued and the next rollbook "
                    "process sends it",
                    markup=False,
                )
        for p in result.problems:
            click.echo(f"warning: {p}", err=True)
    if result.failed:
        ctx.exit(5)
