"""Opening incidents: from an alert (deduplicated by fingerprint) or by hand; notes."""

from __future__ import annotations

from datetime import UTC, datetime

from console.backends.types import Alert
from console.errors import InvalidInput, NotFound
from console.store import Incident
from console.workspace import Workspace

_ALERT_RANK = {"page": 0, "critical": 0, "error": 1, "warning": 1, "info": 2}


def incident_severity(ws: Workspace, alert: Alert, runbook_default: str | None = None) -> str:
    """The incident's severity: the alert's ``severity`` label through the ``[severity]``
    map (default page → SEV1, critical → SEV2, warning → SEV3, info → SEV4), or the
    runbook's default when that is more severe or the label is unknown; SEV3 with neither."""
    mapped = ws.config.severity.get(alert.severity)
    candidates = [s for s in (mapped, runbook_default) if s]
    return min(candidates) if candidates else "SEV3"  # "SEV1" < "SEV2": most severe first


def most_severe_first(alerts: list[Alert]) -> list[Alert]:
    """Alerts ordered as an incident should take them: most severe, then oldest, first."""
    return sorted(alerts, key=lambda a: (_ALERT_RANK.get(a.severity, 3), a.starts_at))


def evidence_from_alert(alert: Alert) -> list[dict]:
    item = {
        "source": "alert",
        "alert": alert.name,
        "summary": alert.summary,
        "value": alert.value,
        "labels": dict(alert.labels),
    }
    if "feature" in alert.labels:
        item["feature"] = alert.labels["feature"]
    return [item]


#: the alert's most recent start times kept on the incident (and written into each "fired
#: again" event): a flapping alert must not grow every event by the whole history.
#: ``alert_fired`` counts them all.
ALERT_STARTS_KEPT = 20


def _when(stamp: str) -> datetime:
    at = datetime.fromisoformat(stamp)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _new_start(starts: list[str], at: datetime) -> bool:
    """Is ``at`` a start time the incident has not seen? One older than every kept start,
    when the list is full, was seen and dropped (alerts resend their current start only)."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    seen = {_when(s) for s in starts}
    if at in seen:
        return False
    return not (len(starts) >= ALERT_STARTS_KEPT and at < min(seen))


def open_from_alert(
    ws: Workspace,
    alert: Alert,
    *,
    runbook: str | None = None,
    severity: str | None = None,
    drill: bool = False,
    data: dict | None = None,
    onset_at: datetime | None = None,
) -> tuple[Incident, bool]:
    """Open an incident for a firing alert, or return the open one with the same
    fingerprint (a repeated firing is noted on its timeline once per new start time).

    Returns ``(incident, created)``."""
    existing = ws.store.find_open(fingerprint=alert.fingerprint, env=ws.env.name)
    if existing is not None:
        starts = list(existing.data.get("alert_starts", []))
        if _new_start(starts, alert.starts_at):
            kept = sorted([*starts, alert.starts_at.isoformat()], key=_when)[-ALERT_STARTS_KEPT:]
            fired = int(existing.data.get("alert_fired", len(starts))) + 1
            ws.store.update(
                existing.id,
                actor="alerting",
                at=ws.now(),
                message=f"alert fired again: {alert.summary}",
                data={"alert_starts": kept, "alert_fired": fired},
            )
            existing = ws.store.get(existing.id)
        return existing, False
    inc = ws.store.create_incident(
        title=alert.summary,
        model=alert.model,
        severity=incident_severity(ws, alert, severity),
        env=ws.env.name,
        actor="alerting",
        at=max(ws.now(), alert.starts_at),
        runbook=runbook,
        drill=drill,
        alert_fingerprint=alert.fingerprint,
        detected_at=alert.starts_at,
        onset_at=min(onset_at, alert.starts_at) if onset_at else None,
        data={
            "alert": alert.to_dict(),
            "evidence": evidence_from_alert(alert),
            "alert_starts": [alert.starts_at.isoformat()],
            **(data or {}),
        },
    )
    return inc, True


def open_manual(
    ws: Workspace,
    model: str,
    title: str,
    *,
    severity: str = "SEV3",
    runbook: str | None = None,
    drill: bool = False,
) -> Incident:
    names = {m.name for m in ws.backends.registry.models()}
    if model not in names:
        raise NotFound(
            f"no model {model!r} in environment {ws.env.name!r}",
            hint=f"models: {', '.join(sorted(names))}",
        )
    if not title.strip():
        raise InvalidInput("an incident needs a title", hint='--title "what is wrong"')
    if runbook is not None:
        from console.runbooks.loader import workspace_library

        workspace_library(ws.config).get(runbook)  # NotFound naming the known ids
    return ws.store.create_incident(
        title=title.strip(),
        model=model,
        severity=severity,
        env=ws.env.name,
        actor=ws.actor,
        at=ws.now(),
        runbook=runbook,
        drill=drill,
    )


def add_note(ws: Workspace, incident_id: str, text: str):
    if not text.strip():
        raise InvalidInput("a note needs some text")
    return ws.store.append(incident_id, "note", text.strip(), actor=ws.actor, at=ws.now())


def acknowledge(ws: Workspace, incident_id: str) -> Incident:
    """Mark the incident acknowledged by the acting person (idempotent)."""
    from console.lifecycle import acknowledge as ack

    return ack(ws.store, ws.store.get(incident_id).id, actor=ws.actor, at=ws.now())


def add_action_item(
    ws: Workspace,
    incident_id: str,
    *,
    what: str,
    owner: str = "",
    due: str = "",
    type: str = "",
    link: str = "",
    supersedes: int | None = None,
):
    """Record an action item (or, with ``supersedes``, a complete new version of one: the
    timeline is append-only, so edits are new events). ``due`` is an ISO date."""
    from datetime import date

    if not what.strip():
        raise InvalidInput("an action item needs a 'what'")
    if due:
        try:
            date.fromisoformat(due)
        except ValueError:
            raise InvalidInput(f"due date {due!r} is not YYYY-MM-DD") from None
    from console.store.models import ACTION_ITEM_TYPES

    if type and type not in ACTION_ITEM_TYPES:
        raise InvalidInput(
            f"action item type {type!r} is not one of {', '.join(ACTION_ITEM_TYPES)}"
        )
    if supersedes is not None:
        ev = [e for e in ws.store.events(incident_id) if e.seq == supersedes]
        if not ev or ev[0].kind != "action_item":
            raise InvalidInput(f"event {supersedes} is not an action item of {incident_id}")
    payload: dict[str, str | int] = {
        "what": what.strip(),
        "owner": owner.strip(),
        "due": due,
        "type": type,
        "link": link,
    }
    if supersedes is not None:
        payload["supersedes"] = supersedes
    verb = "edited" if supersedes is not None else "added"
    return ws.store.append(
        incident_id,
        "action_item",
        f"action item {verb}: {what.strip()}",
        actor=ws.actor,
        at=ws.now(),
        payload=payload,
    )


def parse_item(text: str) -> dict[str, str]:
    """``what; owner; due; type`` (trailing fields optional) → fields for add_action_item."""
    parts = [p.strip() for p in text.split(";")]
    keys = ("what", "owner", "due", "type")
    return {k: v for k, v in zip(keys, parts, strict=False)}
