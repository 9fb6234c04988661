"""Opening incidents: from an alert (deduplicated by fingerprint) or by hand; notes."""

from __future__ import annotations

from datetime import datetime

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
        starts = existing.data.get("alert_starts", [])
        stamp = alert.starts_at.isoformat()
        if stamp not in starts:
            ws.store.update(
                existing.id,
                actor="alerting",
                at=ws.now(),
                message=f"alert fired again: {alert.summary}",
                data={"alert_starts": [*starts, stamp]},
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
