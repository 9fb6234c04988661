"""`rollbook incidents`, `incident show|open`, `note`."""

from __future__ import annotations

import click

from console.cli.common import (
    FiniteRange,
    console_out,
    env_option,
    json_option,
    print_json,
    require_model,
    workspace,
)


def _store(ctx: click.Context):
    """The store alone, for read commands that need no backend."""
    from console.config import load
    from console.store import open_store

    return open_store(load())


@click.command()
@click.option("--open", "open_only", is_flag=True, help="Only incidents not yet resolved.")
@click.option("--model", default=None, help="Only this model's incidents.")
@json_option
@env_option
@click.pass_context
def incidents(ctx: click.Context, open_only: bool, model: str | None, as_json: bool) -> None:
    """List incidents, oldest first."""
    with _store(ctx) as store:
        rows = store.list(open_only=open_only, model=model)
    if model is not None and not rows:
        _require_model_lenient(ctx, model)
    if as_json:
        print_json({"incidents": rows})
        return
    from rich.table import Table

    t = Table(title="Incidents", title_justify="left")
    for col in ("id", "sev", "status", "phase", "model", "detected (UTC)", "title"):
        t.add_column(col)
    for i in rows:
        t.add_row(
            i.id + (" (drill)" if i.drill else ""),
            i.severity,
            i.status,
            i.phase,
            i.model,
            f"{i.detected_at:%Y-%m-%d %H:%M}" if i.detected_at else "—",
            i.title,
        )
    console_out().print(t if rows else "No incidents.")


@click.group()
def incident() -> None:
    """Show or open an incident."""


@incident.command("show")
@click.argument("incident_id")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="At most N events (default: all); the end says how to get the next page.",
)
@click.option(
    "--since",
    type=click.IntRange(min=0),
    default=0,
    metavar="SEQ",
    help="Only events after event #SEQ (the next page starts after the last one shown).",
)
@click.option(
    "--kinds",
    default=None,
    metavar="PREFIX[,PREFIX…]",
    help="Only events whose kind starts with one of these, e.g. 'action.,incident.'.",
)
@json_option
@env_option
@click.pass_context
def show(
    ctx: click.Context,
    incident_id: str,
    limit: int | None,
    since: int,
    kinds: str | None,
    as_json: bool,
) -> None:
    """An incident with its evidence and its timeline: all of it, or a page (--since,
    --limit, --kinds). Events are read from the store and printed page by page, so an
    incident of 100,000 events prints in bounded memory.

    With --json the output is one JSON document, streamed: {"incident": {...}, "timeline":
    [one event per line, in order], "page": {"since", "limit", "kinds", "count",
    "total_events", "last_seq", "more", "next_since"}}. "next_since" (null on the last page)
    is the --since of the next page. The timeline is the record as it was when the command
    started: events appended meanwhile are left for the next call."""
    from console.store.paging import iter_events, kind_prefixes

    prefixes = kind_prefixes(kinds)
    store = ctx.with_resource(_store(ctx))
    inc = store.get(incident_id.upper())
    until = store.last_seq()
    total = store.tail(inc.id, 0)[1]
    # one more than asked for, held back: it tells whether there is a next page
    ask = None if limit is None else limit + 1
    events = iter_events(store, inc.id, after_seq=since, until_seq=until, kinds=prefixes, limit=ask)
    page: dict = {"since": since, "limit": limit, "kinds": list(prefixes)}
    page.update(total_events=total, count=0, last_seq=None, more=False, next_since=None)
    write = _show_json if as_json else _show_text
    try:
        write(inc, _page(events, limit, page), page)
    except BrokenPipeError:
        _stdout_closed(ctx)


def _page(events, limit: int | None, page: dict):
    """Yield the page's events and fill ``page`` (count, last_seq, more, next_since) as
    they go; the event past ``limit`` is read, not yielded."""
    count, last = 0, None
    for e in events:
        if limit is not None and count >= limit:
            page["more"] = True
            break
        count, last = count + 1, e.seq
        yield e
    page.update(count=count, last_seq=last)
    page["next_since"] = (page["since"] if last is None else last) if page["more"] else None


def _event_json(e, encode) -> str:
    """One event as compact JSON; ``encode`` refuses what JSON has no word for (NaN, inf,
    a non-JSON value in a payload), which then goes through ``to_jsonable`` (NaN → null)."""
    try:
        return encode(e.to_dict())
    except (TypeError, ValueError):
        from console.cli.common import to_jsonable

        return encode(to_jsonable(e))


def _show_json(inc, events, page: dict) -> None:
    import json
    import sys

    from console.cli.common import to_jsonable

    out = sys.stdout
    head = json.dumps(to_jsonable(inc), indent=2).replace("\n", "\n  ")
    out.write('{\n  "incident": ' + head + ',\n  "timeline": [')
    sep = "\n    "
    encode = json.JSONEncoder(allow_nan=False).encode  # one encoder, not one per event
    for e in events:
        out.write(sep + _event_json(e, encode))
        sep = ",\n    "
    out.write("\n  ],\n" if sep != "\n    " else "],\n")
    out.write('  "page": ' + json.dumps(page) + "\n}\n")
    out.flush()


def _show_text(inc, events, page: dict) -> None:
    import sys

    from console.enums import Milestone

    out = console_out()
    out.print(
        f"[bold]{inc.id}[/] {inc.severity} · {inc.status} · phase {inc.phase} · "
        f"model {inc.model}" + (" · DRILL" if inc.drill else "")
    )
    out.print(f"  {inc.title}", markup=False)
    for ev in inc.data.get("evidence", []):
        out.print(f"  evidence: {ev.get('summary')}", markup=False)
    for m in Milestone:
        name = m.value.replace("_", " ")
        at = inc.milestone(m)
        out.print(f"  {name:<19}{at:%Y-%m-%d %H:%M:%S} UTC" if at else f"  {name:<19}—")
    out.print(f"\n[bold]Timeline[/] ({page['total_events']:,} events)")
    # plain writes: rich's per-line layout costs more than the store at 100,000 lines
    day = inc.detected_at.date() if inc.detected_at else None
    write = sys.stdout.write
    for e in events:
        if e.ts.date() != day:
            day = e.ts.date()
            write(f"  — {day:%Y-%m-%d} —\n")
        write(f"  #{e.seq:<7} {e.ts:%H:%M:%S}  {e.actor:<10} {e.kind:<22} {e.message}\n")
    if not page["count"]:
        write("  (no events" + (" match" if page["kinds"] or page["since"] else "") + ")\n")
    if page["more"]:
        again = f"rollbook incident show {inc.id} --since {page['next_since']}"
        again += f" --limit {page['limit']}" if page["limit"] is not None else ""
        again += f" --kinds {','.join(page['kinds'])}" if page["kinds"] else ""
        write(f"  … more after #{page['next_since']}: {again}\n")
    sys.stdout.flush()


def _stdout_closed(ctx: click.Context) -> None:
    """The reader went away (``… | head``): stop quietly, as a pipe's writer does."""
    import os
    import sys

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
    ctx.exit(1)


@incident.command("watch")
@click.argument("incident_id")
@click.option(
    "--poll",
    type=FiniteRange(0, 3600, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds between looks at the signal (above 0, at most an hour).",
)
@json_option
@env_option
@click.pass_context
def watch_cmd(ctx: click.Context, incident_id: str, poll: float, as_json: bool) -> None:
    """Watch the incident's signal after its last mitigation until it is seen back
    (RECOVERED: the incident is marked mitigated at that time) or the watch's deadline passes
    (NOT RECOVERED, with the runbook's next options). Prints a line whenever what it sees
    changes; with --json, one object per line.

    Exit codes: 0 recovered (or mitigated already) · 1 not recovered, or nothing to watch
    (no mitigation applied yet) · 4 no such incident · 5 the signal cannot be read."""
    import json

    from console.cli.common import to_jsonable
    from console.enums import Recovery
    from console.recovery import watch

    out = console_out()

    def show(w) -> None:
        if as_json:
            click.echo(json.dumps(to_jsonable(w)))
        else:
            out.print(f"{w.now:%H:%M:%S} {w.line()}", markup=False, soft_wrap=True)

    with workspace(ctx) as ws:
        inc = ws.store.get(incident_id.upper())
        w = watch(ws, inc.id, poll_seconds=poll, on_update=show)
    if w is None:
        message = (
            f"nothing to watch: no mitigation has been applied on {inc.id} yet "
            f"(rollbook rollback {inc.model} --wait, or K/R in the console)"
        )
        if as_json:
            click.echo(json.dumps({"incident_id": inc.id, "state": None, "line": message}))
        else:
            out.print(message, markup=False)
        ctx.exit(1)
    if w.state is Recovery.UNKNOWN and w.error and "unreadable" in w.error:
        ctx.exit(5)
    ctx.exit(0 if w.state is Recovery.RECOVERED else 1)


from console.cli.follow import follow_cmd  # noqa: E402 - registered on the group above
from console.cli.team import assign_cmd, severity_cmd  # noqa: E402

incident.add_command(follow_cmd)
incident.add_command(assign_cmd)
incident.add_command(severity_cmd)


@incident.command("open")
@click.argument("model")
@click.option("--title", required=True, help="What is wrong, in a line.")
@click.option(
    "--severity",
    default="SEV3",
    show_default=True,
    type=click.Choice(["SEV1", "SEV2", "SEV3", "SEV4"]),
)
@click.option("--runbook", default=None, help="Runbook id to follow.")
@json_option
@env_option
@click.pass_context
def open_cmd(
    ctx: click.Context, model: str, title: str, severity: str, runbook: str | None, as_json: bool
) -> None:
    """Open an incident by hand for MODEL."""
    from console.incidents import open_manual

    with workspace(ctx) as ws:
        inc = open_manual(ws, model, title, severity=severity, runbook=runbook)
    if as_json:
        print_json({"incident": inc})
    else:
        console_out().print(f"Opened {inc.id} ({inc.severity}) for {inc.model}: {inc.title}")


@click.command()
@click.argument("incident_id")
@click.argument("text", nargs=-1, required=True)
@json_option
@env_option
@click.pass_context
def note(ctx: click.Context, incident_id: str, text: tuple[str, ...], as_json: bool) -> None:
    """Add a note (TEXT) to an incident's timeline."""
    from console.incidents import add_note

    with workspace(ctx) as ws:
        ev = add_note(ws, incident_id.upper(), " ".join(text))
    if as_json:
        print_json({"event": ev})
    else:
        console_out().print(f"Noted on {incident_id.upper()} (#{ev.seq} at {ev.ts:%H:%M:%S} UTC).")


@click.command()
@click.option(
    "--open",
    "open_incidents",
    is_flag=True,
    help="Open (or update) an incident with its runbook for every firing alert.",
)
@click.option("--model", default=None, help="Only this model's alerts.")
@click.option(
    "--watch",
    "watch",
    type=FiniteRange(min=0, max=86400),
    default=None,
    metavar="SECONDS",
    help="Keep reading every SECONDS until interrupted (with --open: a small intake "
    "service); --json prints one JSON object per line per round.",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="With --watch: stop after N rounds.",
)
@json_option
@env_option
@click.pass_context
def alerts(
    ctx: click.Context,
    open_incidents: bool,
    model: str | None,
    watch: float | None,
    count: int | None,
    as_json: bool,
) -> None:
    """Active alerts, and the incident each belongs to. With --open, alerts become incidents
    (deduplicated by fingerprint; a model's concurrent alerts share one incident).

    Exit code 0 when nothing fires, 1 when something does. With --watch, rounds whose backend
    fails are reported on stderr and retried the next round; the exit code is that of the last
    round (5 when its backend failed)."""
    from console.intake import intake_alerts

    if watch is None:
        if count is not None:
            raise click.UsageError("--count needs --watch")
        with workspace(ctx) as ws:
            require_model(ws, model)
            rows = intake_alerts(ws, open_incidents=open_incidents, model=model)
        if as_json:
            print_json({"alerts": rows})
        else:
            _print_alerts(rows)
        ctx.exit(1 if rows else 0)
    ctx.exit(_watch_alerts(ctx, open_incidents, model, watch, count, as_json))


def _require_model_lenient(ctx: click.Context, model: str) -> None:
    """``require_model`` for a listing that matched nothing; the store may hold incidents of
    models the registry has since dropped, so only an empty answer asks, and a registry
    that cannot answer leaves the answer empty rather than failing it."""
    from console.errors import NotFound, RollbookError

    try:
        with workspace(ctx) as ws:
            require_model(ws, model)
    except NotFound:
        raise
    except RollbookError:
        pass


def _print_alerts(rows) -> None:
    from rich.table import Table

    t = Table(title="Active alerts", title_justify="left")
    for col in ("alert", "model", "severity", "since (UTC)", "incident", "summary"):
        t.add_column(col)
    for r in rows:
        a = r.alert
        inc = (r.incident.id + (" (new)" if r.created else "")) if r.incident else "—"
        t.add_row(a.name, a.model, a.severity, f"{a.starts_at:%H:%M}", inc, a.summary)
    console_out().print(t if rows else "No alerts firing.")


def _watch_alerts(
    ctx: click.Context,
    open_incidents: bool,
    model: str | None,
    every: float,
    count: int | None,
    as_json: bool,
) -> int:
    """Rounds of intake until interrupted; only what changed is printed in human mode."""
    import json
    import sys
    import time

    from console.cli.common import to_jsonable
    from console.errors import NotFound, RollbookError
    from console.intake import intake_alerts

    out = console_out()
    seen: dict[str, str] | None = None  # fingerprint → "alert model", as last printed
    code = 0
    n = 0
    with workspace(ctx) as ws:
        try:
            require_model(ws, model)
        except NotFound:
            raise
        except RollbookError:
            pass  # a dead registry is no reason not to watch: the rounds report it
        try:
            while count is None or n < count:
                if n:
                    time.sleep(every)
                n += 1
                at = ws.now()
                try:
                    rows = intake_alerts(ws, open_incidents=open_incidents, model=model)
                except RollbookError as exc:
                    code = exc.exit_code
                    print(f"{at:%H:%M:%S} error: {exc.message}", file=sys.stderr, flush=True)
                    continue
                code = 1 if rows else 0
                if as_json:
                    sys.stdout.write(json.dumps(to_jsonable({"at": at, "alerts": rows})) + "\n")
                    sys.stdout.flush()
                    continue
                now = {r.alert.fingerprint: f"{r.alert.name} {r.alert.model}" for r in rows}
                for r in rows:
                    if seen is None or r.alert.fingerprint not in seen or r.created:
                        inc = (
                            r.incident.id + (" (new)" if r.created else "")
                            if r.incident
                            else "no incident"
                        )
                        out.print(
                            f"{at:%H:%M:%S} firing   {r.alert.name} {r.alert.model} "
                            f"{r.alert.severity} → {inc}: {r.alert.summary}",
                            soft_wrap=True,
                        )
                for fp, what in (seen or {}).items():
                    if fp not in now:
                        out.print(f"{at:%H:%M:%S} resolved {what}", soft_wrap=True)
                if seen is None and not rows:
                    out.print(f"{at:%H:%M:%S} no alerts firing")
                seen = now
        except KeyboardInterrupt:
            pass
    return code
