"""Alert intake: every firing alert becomes an incident with its runbook, or joins the open
incident with the same fingerprint (Prometheus, Alertmanager and the embedded world all
give stable fingerprints)."""

from __future__ import annotations

from dataclasses import dataclass

from console.backends.types import Alert
from console.store import Incident
from console.workspace import Workspace


@dataclass(frozen=True)
class Intake:
    alert: Alert
    incident: Incident | None
    created: bool

    def to_dict(self) -> dict:
        return {
            "alert": self.alert.to_dict(),
            "incident": self.incident.id if self.incident else None,
            "created": self.created,
        }


def intake_alerts(
    ws: Workspace, *, open_incidents: bool = True, model: str | None = None
) -> list[Intake]:
    """Read the active alerts (of ``model`` only, when given); with ``open_incidents`` open or
    update one incident per alert group (a model's alerts that fire together share the
    incident of the most severe)."""
    from console.incidents import most_severe_first
    from console.runbooks.selection import open_incident

    alerts = most_severe_first(
        [
            a
            for a in ws.backends.metrics.active_alerts()
            if a.state == "firing" and model in (None, a.model)
        ]
    )
    out: list[Intake] = []
    for alert in alerts:
        existing = ws.store.find_open(fingerprint=alert.fingerprint, env=ws.env.name)
        sibling = existing or ws.store.find_open(model=alert.model, env=ws.env.name)
        if not open_incidents:
            out.append(Intake(alert, sibling, False))
            continue
        if existing is None and sibling is not None:
            # another alert of the same model: one incident, the alert on its timeline
            from console.runbooks.selection import record_alert

            seen = {
                e.payload.get("fingerprint")
                for e in ws.store.events(sibling.id)
                if e.kind == "alert.firing"
            }
            if alert.fingerprint not in seen:
                record_alert(ws, sibling.id, alert, "firing")
            out.append(Intake(alert, sibling, False))
            continue
        incident, _rb, created = open_incident(ws, alert)
        out.append(Intake(alert, incident, created))
    return out
