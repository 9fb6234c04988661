"""Alert intake: every firing alert becomes an incident with its runbook, or joins the open
incident with the same fingerprint (Prometheus, Alertmanager and the embedded world all
give stable fingerprints); a resolved alert is recorded on the incident it fired on.

One function, :func:`intake`, applies a batch of alerts whoever read them: ``rollbook alerts
--open`` polls the metrics backend (:func:`intake_alerts`), ``rollbook serve`` is pushed
Alertmanager's webhook (``console.intake_webhook``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.backends.types import Alert
from console.store import Incident
from console.workspace import Workspace

#: What intake did with one alert (``Intake.outcome``):
#: ``listed`` — read only (no ``open_incidents``); ``opened`` — a new incident;
#: ``joined`` — recorded as firing on the open incident of its model; ``repeat`` — already
#: known firing there (a resend: nothing new, or only a new start time noted);
#: ``refired`` — it had resolved and fires again, recorded as firing; ``resolved`` —
#: recorded as resolved; ``already_resolved`` — a resend of a recorded resolution;
#: ``no_incident`` — resolved, but no open incident knows it as firing.
OUTCOMES = (
    "listed",
    "opened",
    "joined",
    "repeat",
    "refired",
    "resolved",
    "already_resolved",
    "no_incident",
)


@dataclass(frozen=True)
class Intake:
    alert: Alert
    incident: Incident | None
    created: bool
    outcome: str = "listed"

    def to_dict(self) -> dict:
        return {
            "alert": self.alert.to_dict(),
            "incident": self.incident.id if self.incident else None,
            "created": self.created,
            "outcome": self.outcome,
        }


def intake_alerts(
    ws: Workspace, *, open_incidents: bool = True, model: str | None = None
) -> list[Intake]:
    """Read the active alerts (of ``model`` only, when given); with ``open_incidents`` open or
    update one incident per alert group (a model's alerts that fire together share the
    incident of the most severe)."""
    alerts = [
        a
        for a in ws.backends.metrics.active_alerts()
        if a.state == "firing" and model in (None, a.model)
    ]
    return intake(ws, alerts, open_incidents=open_incidents)


def intake(ws: Workspace, alerts: Iterable[Alert], *, open_incidents: bool = True) -> list[Intake]:
    """Apply a batch of alerts to the incidents of ``ws``'s environment, idempotently: the
    same batch applied twice writes nothing the second time (Alertmanager resends a whole
    group every ``repeat_interval``; a poller reads the same alerts every round).

    Firing alerts, most severe first: one incident per fingerprint, opened with the runbook
    the alert selects; a model's other alerts join its open incident (``alert.firing`` on its
    timeline once, and again only after they resolved). Resolved alerts (``state ==
    "resolved"``): ``alert.resolved`` — with the signal's value at resolution when the
    metrics backend can read it — on the open incident whose timeline last saw them firing;
    nothing when none did. Returns one :class:`Intake` per alert, firing ones first, in the
    order they were applied. Without ``open_incidents`` nothing is written: each alert comes
    back with the open incident it would belong to."""
    from console.incidents import most_severe_first
    from console.runbooks.selection import open_incident, record_alert

    batch = list(alerts)
    firing = most_severe_first([a for a in batch if a.state == "firing"])
    resolved = [a for a in batch if a.state == "resolved"]
    out: list[Intake] = []
    for alert in firing:
        existing = ws.store.find_open(fingerprint=alert.fingerprint, env=ws.env.name)
        sibling = existing or ws.store.find_open(model=alert.model, env=ws.env.name)
        if not open_incidents:
            out.append(Intake(alert, sibling, False))
            continue
        if sibling is None:
            incident, _rb, created = open_incident(ws, alert)
            out.append(Intake(alert, incident, created, "opened" if created else "repeat"))
            continue
        last = _last_state(ws, sibling.id, alert.fingerprint)
        if existing is not None:
            # the incident's own alert: a new start time is noted on it (open_from_alert)
            incident, _rb, _created = open_incident(ws, alert)
            if last == "resolved":
                record_alert(ws, incident.id, alert, "firing")
            out.append(
                Intake(alert, incident, False, "refired" if last == "resolved" else "repeat")
            )
            continue
        # another alert of the same model: one incident, the alert on its timeline
        if last != "firing":
            record_alert(ws, sibling.id, alert, "firing")
        outcome = {None: "joined", "resolved": "refired"}.get(last, "repeat")
        out.append(Intake(alert, sibling, False, outcome))
    for alert in resolved:
        out.append(_resolve(ws, alert, open_incidents=open_incidents))
    return out


def _resolve(ws: Workspace, alert: Alert, *, open_incidents: bool) -> Intake:
    """Record a resolved alert on the open incident that last saw it firing (its own, else
    its model's)."""
    from console.runbooks.selection import record_alert

    candidates = [
        ws.store.find_open(fingerprint=alert.fingerprint, env=ws.env.name),
        ws.store.find_open(model=alert.model, env=ws.env.name),
    ]
    for inc in candidates:
        if inc is None:
            continue
        last = _last_state(ws, inc.id, alert.fingerprint)
        if last is None:
            continue
        if last == "resolved":
            return Intake(alert, inc, False, "already_resolved")
        if open_incidents:
            record_alert(ws, inc.id, alert, "resolved")
            return Intake(alert, ws.store.get(inc.id), False, "resolved")
        return Intake(alert, inc, False)
    return Intake(alert, None, False, "no_incident")


def _last_state(ws: Workspace, incident_id: str, fingerprint: str) -> str | None:
    """``"firing"`` or ``"resolved"``: what the incident's timeline last recorded of the
    alert with ``fingerprint``; None when it never mentioned it."""
    state = None
    for ev in ws.store.events(incident_id, kind_prefix="alert."):
        if ev.payload.get("fingerprint") == fingerprint:
            state = ev.kind.removeprefix("alert.")
    return state
