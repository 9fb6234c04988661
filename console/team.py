"""The people of an incident: roles (commander, scribe, owner) and severity changes — both on
the timeline — and presence: who has the incident open right now (a heartbeat that expires on
its own; not part of the record)."""

from __future__ import annotations

from datetime import timedelta

from console.enums import EventKind, Role
from console.errors import InvalidInput
from console.store import Incident
from console.store.models import SEVERITIES
from console.workspace import Workspace

PRESENCE_TTL = timedelta(seconds=30)  # a viewer not seen for this long has left


def roles(inc: Incident) -> dict[str, str]:
    """role → person, as assigned so far."""
    return dict(inc.data.get("roles") or {})


def assign(ws: Workspace, incident_id: str, role: str, person: str) -> Incident:
    """Give ``role`` to ``person`` (replacing whoever had it), recorded on the timeline."""
    if role not in list(Role):
        raise InvalidInput(f"unknown role {role!r}", hint=f"roles: {', '.join(Role)}")
    person = " ".join(person.split())
    if not person:
        raise InvalidInput("a role needs a person")
    inc = ws.store.get(incident_id)
    before = roles(inc).get(role)
    if before == person:
        return inc
    new = {**roles(inc), role: person}
    return ws.store.update(
        inc.id,
        actor=ws.actor,
        at=ws.now(),
        message=f"{role}: {person}" + (f" (was {before})" if before else ""),
        data={"roles": new},
        kind=EventKind.INCIDENT_ASSIGNED,
        payload={"role": role, "person": person, "before": before},
    )


def set_severity(ws: Workspace, incident_id: str, severity: str, why: str) -> Incident:
    """Change the severity, saying why (a severity change without a reason is refused)."""
    severity = severity.upper()
    if severity not in SEVERITIES:
        raise InvalidInput(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    if not why.strip():
        raise InvalidInput("say why the severity changes", hint='--why "revenue impact found"')
    inc = ws.store.get(incident_id)
    if inc.severity == severity:
        return inc
    return ws.store.update(
        inc.id,
        actor=ws.actor,
        at=ws.now(),
        message=f"severity {inc.severity} → {severity}: {why.strip()}",
        severity=severity,
        kind=EventKind.INCIDENT_SEVERITY,
        payload={"from": inc.severity, "to": severity, "why": why.strip()},
    )


def presence_ttl(ws: Workspace) -> timedelta:
    """How long a heartbeat counts, in the workspace clock's time. Presence is about people
    and their wall clocks: under a demo clock running ``speed`` times faster (``demo --speed
    120``), 30 s of wall time is ``30 × speed`` simulated seconds — otherwise a viewer would
    vanish between two heartbeats."""
    speed = getattr(ws.backends.clock, "speed", 1.0)
    return PRESENCE_TTL * max(1.0, float(speed))


def here(ws: Workspace, incident_id: str) -> list[str]:
    """Heartbeat for the acting person on ``incident_id``; returns who is viewing now."""
    now = ws.now()
    ws.store.heartbeat(incident_id, ws.actor, now)
    return [p for p, _ in ws.store.viewers(incident_id, now - presence_ttl(ws))]
