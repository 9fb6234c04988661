"""The blameless post-mortem, written from the incident's own record.

``build_postmortem`` turns an incident and its timeline into plain data (a dict the
templates read); ``render_postmortem`` renders it as Markdown or one self-contained HTML
file. Charts are drawn only for HTML and only from the ``series`` the caller supplies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from console.reports import record
from console.reports.charts import Series
from console.reports.costs import incident_cost
from console.reports.metrics import (
    impact_duration_min,
    incident_metrics,
    metrics_table,
    minutes_between,
)
from console.reports.render import render
from console.reports.timeline import TimelineFolder
from console.store import Incident, TimelineEvent

FORMATS = ("md", "html")

SECTIONS = (
    "Summary",
    "Impact",
    "Timeline",
    "Detection",
    "Root cause",
    "Trigger",
    "Resolution",
    "Contributing factors",
    "What went well",
    "What went badly",
    "Where we got lucky",
    "Action items",
    "Lessons learned",
    "ML evidence",
    "Supporting data",
)


def _impact(
    incident: Incident,
    metrics: dict[str, float | None],
    now: datetime,
    revenue_per_hour: float | None,
    mitigation: dict[str, Any],
) -> dict[str, Any]:
    """Users, requests, SLO and revenue at risk. The cost clock runs until the impact was
    observed to stop (``mitigated``), not until a mitigation was applied: a rollback that
    did not help stops nothing."""
    imp = dict(incident.data.get("impact") or {})
    rph = imp.get("revenue_per_hour", revenue_per_hour)
    mitigate = metrics["mitigate_min"]
    so_far = mitigate is None
    if so_far:
        mitigate = minutes_between(incident.detected_at, now)
    cost = incident_cost(rph, mitigate) if rph is not None and mitigate is not None else None
    return {
        "duration_min": impact_duration_min(incident, now=now),
        "duration_from": "onset" if incident.onset_at else "detection",
        "stopped": incident.mitigated_at is not None,
        "mitigation_applied": mitigation["applied_text"],
        "impact_stopped": mitigation["stopped_text"],
        "users_affected": imp.get("users_affected"),
        "requests_affected": imp.get("requests_affected"),
        "slo_breached": imp.get("slo_breached"),
        "slo": imp.get("slo"),
        "revenue_per_hour": rph,
        "revenue_minutes": mitigate,
        "revenue_so_far": so_far,
        "revenue_at_risk": cost.revenue_at_risk if cost else None,
        "description": imp.get("description"),
    }


def _detection(incident: Incident, events: Sequence[TimelineEvent]) -> dict[str, Any]:
    alert = incident.data.get("alert") or {}
    opened = next((e for e in events if e.kind == "incident.opened"), None)
    if alert:
        summary = (alert.get("annotations") or {}).get("summary")
        how = (
            f"Alert {alert.get('name')} fired: {summary}"
            if summary
            else f"Alert {alert.get('name')} fired (value {alert.get('value')})"
        )
    elif any(e.kind == "alert.firing" for e in events):
        how = next(e.message for e in events if e.kind == "alert.firing")
    else:
        who = opened.actor if opened else "a person"
        how = f"Reported by {who}"
    return {"how": how, "alert": alert, "opened_by": opened.actor if opened else None}


def _min(value: float) -> str:
    """Minutes for a sentence: ``4``, ``9.5``."""
    return f"{value:.1f}".removesuffix(".0")


def _action_text(a: dict[str, Any]) -> str:
    """``rollback v13 → v12``; a simulated world's fix as what it did; an action that
    recorded no from/to as its own last message."""
    if a["action"] in record.FIX_ACTIONS or a["moved"] in (a.get("message"), a["action"]):
        return str(a["moved"])
    return f"{a['action']} {a['moved']}".strip()


def _mitigation(
    incident: Incident,
    metrics: dict[str, float | None],
    events: Sequence[TimelineEvent],
    acts: list[dict[str, Any]],
) -> dict[str, Any]:
    """The two mitigation times in words: when a change to production was read back (and
    which change), and when the impact was observed to stop — "not observed yet" while
    ``mitigated`` is unset. ``sentence`` is what the summary and the impact section say."""
    applied_min, stopped_min = metrics["mitigation_applied_min"], metrics["mitigate_min"]
    marker = next((e for e in events if e.kind == "incident.mitigation_applied"), None)
    action = None
    if marker is not None and marker.payload.get("action_id"):
        action = next((a for a in acts if a["action_id"] == marker.payload["action_id"]), None)
    if action is not None:
        what = _action_text(action)
    elif marker is not None:
        what = marker.message.removeprefix("mitigation applied: ")
    else:
        what = ""
    if applied_min is not None:
        first = f"Mitigation applied after {_min(applied_min)} min" + (f" ({what})" if what else "")
        stop = (
            f"impact observed to stop after {_min(stopped_min)} min"
            if stopped_min is not None
            else "impact not observed to stop yet"
        )
        sentence = f"{first}; {stop}."
    elif stopped_min is not None:
        sentence = (
            f"Impact observed to stop after {_min(stopped_min)} min "
            "(no change to production was recorded for it)."
        )
    else:
        sentence = "No mitigation applied yet; impact not observed to stop yet."
    applied_text = (
        "not yet"
        if applied_min is None
        else f"after {_min(applied_min)} min" + (f" ({what})" if what else "")
    )
    stopped_text = "not observed yet" if stopped_min is None else f"after {_min(stopped_min)} min"
    return {
        "applied_min": applied_min,
        "applied_action": action,
        "applied_what": what,
        "applied_text": applied_text,
        "stopped_min": stopped_min,
        "stopped_text": stopped_text,
        "sentence": sentence,
    }


#: Outcomes that changed nothing and are left out of the summary's list of actions.
_NOT_ACTED = ("noop", "refused", "dry-run")


def summary_actions(acts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actions the summary lists, in time order: each with ``at`` (when it took effect,
    else when it was requested) and ``text`` (``rollback v13 → v12``, plus its outcome
    when it did not apply cleanly). Actions that changed nothing (no-op, refused) are left
    out."""
    out = []
    for a in acts:
        if a["outcome"] in _NOT_ACTED:
            continue
        applied = a["outcome"] in record.APPLIED_OUTCOMES
        text = _action_text(a)
        if not applied:
            text += f" ({a['outcome'] or 'not finished'})"
        at = a["ended_at"] if applied and a["ended_at"] else a["requested_at"]
        out.append({"at": at, "text": text, "action": a})
    return sorted(out, key=lambda r: r["at"])


def _summary(
    incident: Incident,
    metrics: dict[str, float | None],
    notes: dict[str, list[record.Note]],
    acts: list[dict[str, Any]],
    mitigation: dict[str, Any],
) -> str:
    if incident.data.get("summary"):
        return str(incident.data["summary"])
    parts = [f"{incident.severity} on model {incident.model} ({incident.env}): {incident.title}."]
    if incident.detected_at:
        parts.append(f"Detected at {incident.detected_at:%Y-%m-%d %H:%M} UTC.")
    parts.append(mitigation["sentence"])
    listed = summary_actions(acts)
    if listed:
        parts.append("Actions: " + "; ".join(f"{r['at']:%H:%M} {r['text']}" for r in listed) + ".")
    if metrics["resolve_min"] is not None:
        parts.append(f"Resolved after {_min(metrics['resolve_min'])} min.")
    if notes["root_cause"]:
        parts.append(f"Root cause: {notes['root_cause'][0].text}")
    return " ".join(parts)


def _authors(digest: record.RecordDigest) -> list[str]:
    names: list[str] = []
    for e in digest.kept:
        if (
            (record.tag_of(e) or e.kind == "action_item")
            and record.is_person(e.actor)
            and e.actor not in names
        ):
            names.append(e.actor)
    return names or list(digest.people)


def _responders(incident: Incident, digest: record.RecordDigest) -> list[dict[str, Any]]:
    """Everyone who took part: people with a role first (commander, scribe, owner, as
    assigned on the timeline; a role handed on reads "commander until 03:20"), then every
    other person in the record, in order of first appearance. Each is ``{"person",
    "roles"}`` (``roles`` empty for a responder without one)."""
    from console.enums import EventKind, Role

    held: dict[str, tuple[str, datetime | None]] = {}  # role → (person, since)
    past: list[tuple[str, str, datetime]] = []  # (person, role, until)
    for e in digest.kept:
        if e.kind != EventKind.INCIDENT_ASSIGNED:
            continue
        role, person = str(e.payload.get("role") or ""), str(e.payload.get("person") or "")
        if role in held and held[role][0] != person:
            past.append((held[role][0], role, e.ts))
        held[role] = (person, e.ts)
    for role, person in (incident.data.get("roles") or {}).items():
        held.setdefault(str(role), (str(person), incident.detected_at))
    roles: dict[str, list[str]] = {}
    for role in [*Role, *sorted(set(held) - set(Role))]:
        if role in held:
            roles.setdefault(held[role][0], []).append(str(role))
    for person, role, until in past:
        roles.setdefault(person, []).append(f"{role} until {until:%H:%M}")
    for person in digest.people:
        roles.setdefault(person, [])
    return [{"person": p, "roles": r} for p, r in roles.items()]


def _checks(digest: record.RecordDigest) -> list[dict[str, Any]]:
    """Check results for the supporting data: ``result`` (passed, failed, inconclusive, or
    ``finding`` for a question that found a problem), ``finding`` (the question and its
    answer, None for a check that is not phrased as a question), and ``runs`` with
    ``last_at``: a check run again and again with the same result is one entry (``runs`` 1
    and ``last_at`` None when it ran once)."""
    out = []
    kept_checks = [e for e in digest.kept if e.kind == "step.finished"]
    for e, c in zip(kept_checks, record.checks(kept_checks), strict=True):
        found = record.finding(c.title, c.state, c.summary) if c.title else None
        result = c.state or ("passed" if c.passed else "failed" if c.passed is False else "")
        if found is not None and c.state == "failed":
            result = "finding"
        runs, last_at = digest.check_runs.get(e.seq, (1, None))
        out.append(
            {
                "step": c.step,
                "check": c.check,
                "title": c.title,
                "passed": c.passed,
                "state": c.state,
                "result": result,
                "summary": c.summary,
                "finding": found,
                "at": c.at,
                "runs": runs,
                "last_at": last_at,
            }
        )
    return out


def _supporting(
    incident: Incident, digest: record.RecordDigest, folder: TimelineFolder, rows: int
) -> dict[str, Any]:
    """Evidence, check results, the drill's verdict, the record's hash chain and what the
    timeline made of it: ``timeline_rows``, ``folded`` (events counted in a row they repeat)
    and ``left_out`` (review content, step starts, skipped steps: no row). The facts a
    simulated world injected with its fault (``bad_version``, ``scenario``, …) are the
    simulator's answer key, not evidence: they are left out."""
    scored = [e.payload for e in digest.kept if e.kind == "drill.scored"]
    return {
        "evidence": [ev for ev in incident.data.get("evidence") or [] if isinstance(ev, dict)],
        "checks": _checks(digest),
        "drill": scored[-1] if scored else None,
        "event_count": digest.count,
        "first_seq": digest.first_seq,
        "last_seq": digest.last_seq,
        "last_hash": digest.last_hash,
        "timeline_rows": rows,
        "folded": folder.folded,
        "left_out": folder.left_out,
    }


def read_record(events: Iterable[TimelineEvent]) -> tuple[record.RecordDigest, TimelineFolder]:
    """One pass over the timeline: what the record's readers need, and the timeline rows.
    ``events`` may be a list or anything iterable in seq order (a ``PagedTimeline`` reading
    the store page by page): nothing keeps the events themselves."""
    digest, folder = record.RecordDigest(), TimelineFolder()
    keep, fold = digest.add, folder.add  # bound once: this loop runs once per event
    for e in events:
        keep(e)
        fold(e)
    return digest, folder


def build_postmortem(
    incident: Incident,
    events: Iterable[TimelineEvent],
    *,
    now: datetime,
    revenue_per_hour: float | None = None,
    authors: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Everything a post-mortem template needs, computed from the record.

    ``events`` is read once, in order (see ``read_record``). ``now`` is the generation time
    (pass the workspace clock; tests pass a fixed one). ``revenue_per_hour`` is used when
    the incident's ``data["impact"]`` has none (the CLI passes the environment's configured
    figure for the model). Revenue at risk = revenue per hour × time to mitigate (up to
    ``now`` while not mitigated)."""
    digest, folder = read_record(events)
    return _context(
        incident, digest, folder, now=now, revenue_per_hour=revenue_per_hour, authors=authors
    )


def _context(
    incident: Incident,
    digest: record.RecordDigest,
    folder: TimelineFolder,
    *,
    now: datetime,
    revenue_per_hour: float | None,
    authors: Sequence[str] | None,
) -> dict[str, Any]:
    kept = digest.kept
    metrics = incident_metrics(incident)
    notes = record.notes_by_tag(kept)
    acts = record.actions(kept)
    lineage = record.lineage_diff(kept)
    drift = record.drift_evidence(kept)
    versions = record.versions_involved(kept, {**incident.data, "model": incident.model})
    mitigation = _mitigation(incident, metrics, kept, acts)
    rows = folder.rows(incident)
    return {
        "incident": incident,
        "generated_at": now,
        "authors": list(authors) if authors else _authors(digest),
        "responders": _responders(incident, digest),
        "summary": _summary(incident, metrics, notes, acts, mitigation),
        "mitigation": mitigation,
        "impact": _impact(incident, metrics, now, revenue_per_hour, mitigation),
        "timeline": rows,
        "detection": _detection(incident, kept),
        "metrics": metrics,
        "metrics_table": metrics_table(incident),
        "notes": notes,
        "whys": notes["why"],
        "actions": acts,
        "action_items": record.action_items(kept),
        "updates": digest.updates,
        "ml": {
            "lineage": lineage,
            "drift": drift["features"],
            "renames": drift["renames"],
            "versions": versions,
            "present": bool(lineage or drift["features"] or drift["renames"] or versions),
        },
        "supporting": _supporting(incident, digest, folder, len(rows)),
        "sections": SECTIONS,
        "describe_change": record.describe_change,
    }


JSON_KEYS = (
    "incident",
    "generated_at",
    "authors",
    "responders",
    "summary",
    "mitigation",
    "impact",
    "timeline",
    "detection",
    "metrics",
    "whys",
    "notes",
    "actions",
    "action_items",
    "updates",
    "ml",
    "supporting",
)


def postmortem_json(pm: dict[str, Any]) -> dict[str, Any]:
    """The data of ``build_postmortem`` without template helpers, for ``--json``."""
    return {k: pm[k] for k in JSON_KEYS}


def render_postmortem(
    incident: Incident,
    events: Iterable[TimelineEvent],
    *,
    now: datetime,
    fmt: str = "md",
    user_dir: Path | None = None,
    currency: str = "USD",
    revenue_per_hour: float | None = None,
    series: Mapping[str, Series] | None = None,
    series_note: str | None = None,
    authors: Sequence[str] | None = None,
) -> str:
    """The post-mortem as Markdown (``fmt="md"``) or one self-contained HTML file.

    ``events`` is read once, in order, and not kept (see ``read_record``): pass a
    ``PagedTimeline`` and a 100,000-event incident renders in bounded memory, repeated
    events folded (``console.reports.timeline``). For HTML, ``series`` maps signal name →
    [(time, value)] across the incident window; each signal becomes an inline SVG chart with
    actions marked. Without series the charts are omitted and ``series_note`` (or a default
    note) says why."""
    if fmt not in FORMATS:
        from console.errors import InvalidInput

        raise InvalidInput(f"unknown format {fmt!r}", hint="use md or html")
    digest, folder = read_record(events)
    ctx = _context(
        incident, digest, folder, now=now, revenue_per_hour=revenue_per_hour, authors=authors
    )
    charts: list[Any] = []
    chart_notes: list[str] = []
    if fmt == "html":
        try:
            import matplotlib  # noqa: F401 - charts need it; the report does not
        except ImportError:
            series, series_note = None, "matplotlib is not installed: charts omitted."
        if series:
            from markupsafe import Markup

            from console.reports.charts import action_marks, signal_charts

            made, chart_notes = signal_charts(series, action_marks(digest.kept))
            charts = [{"signal": c.signal, "svg": Markup(c.svg), "points": c.points} for c in made]
            if series_note:
                chart_notes.append(series_note)
        else:
            chart_notes = [series_note or "No metrics backend was available: charts omitted."]
    ctx["charts"] = charts
    ctx["chart_notes"] = chart_notes
    return render(f"postmortem.{fmt}", ctx, user_dir=user_dir, currency=currency)
