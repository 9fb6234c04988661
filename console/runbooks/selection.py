"""Which runbook an incident follows, opening incidents from alerts with their runbook, and
keeping the incident's timeline in step with its alerts (firing / resolved)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime

from console.backends.types import Alert
from console.errors import NotFound, RollbookError
from console.runbooks.loader import RunbookLibrary, workspace_library
from console.runbooks.model import Runbook
from console.store import Incident
from console.workspace import Workspace

SCENARIO_SCORE = 10


def _match(rb: Runbook, *, model: str, alert: Alert | None, scenario: str | None) -> int | None:
    """Score of ``rb`` for one alert (None: not a match). Every criterion a runbook lists
    must hold, unless it names the drill's scenario, which settles it."""
    sel = rb.select
    if scenario and scenario in sel.scenarios:
        return SCENARIO_SCORE + 1
    score = 0
    if sel.models:
        if model not in sel.models:
            return None
        score += 1
    if sel.alerts:
        if alert is None or alert.name not in sel.alerts:
            return None
        score += 2
    for key, allowed in sel.labels.items():
        value = alert.labels.get(key) if alert else None
        if value is None or ("*" not in allowed and value not in allowed):
            return None
        score += 1
    if score == 0:
        return 0 if sel.fallback else None
    return score


def select_runbook(
    lib: RunbookLibrary, *, model: str, alerts: Iterable[Alert] = (), scenario: str | None = None
) -> Runbook:
    """The best-matching runbook over ``alerts`` (the model's firing alerts, the triggering
    one first); a fallback runbook when nothing else matches. Among equal matches the lowest
    id wins. Only the runbook chosen is checked in full (its Jinja): a runbook with a problem
    is passed over for the next best, as if it were not in the library."""
    alerts = list(alerts)
    # without alerts, a runbook is scored on the model (and the drill's scenario) alone
    candidates: list[Alert | None] = [*alerts] if alerts else [None]
    ranked: list[tuple[int, int, str]] = []
    for rb in lib.candidates():
        scores = [
            s
            for a in candidates
            if (s := _match(rb, model=model, alert=a, scenario=scenario)) is not None
        ]
        if not scores:
            continue
        # the triggering alert's match counts more than a match on a side alert
        first = _match(rb, model=model, alert=alerts[0] if alerts else None, scenario=scenario)
        ranked.append((-max(scores), 0 if first is not None else 1, rb.id))
    for *_key, runbook_id in sorted(ranked):
        chosen = lib.checked(runbook_id)
        if chosen is not None:
            return chosen
    raise NotFound(
        f"no runbook matches {model}" + (f" ({alerts[0].name})" if alerts else ""),
        hint="add a fallback runbook (select: {fallback: true}) or pass --runbook ID",
    )


def runbook_for(ws: Workspace, incident: Incident, lib: RunbookLibrary | None = None) -> Runbook:
    """The incident's attached runbook, else the one its alert selects."""
    lib = lib or workspace_library(ws.config)
    if incident.runbook:
        return lib.get(incident.runbook)
    alerts: list[Alert] = []
    raw = incident.data.get("alert")
    if raw:
        alerts.append(_alert_from_dict(raw))
    with contextlib.suppress(RollbookError):
        alerts += [
            a
            for a in ws.backends.metrics.active_alerts()
            if a.model == incident.model
            and a.state == "firing"
            and (not alerts or a.fingerprint != alerts[0].fingerprint)
        ]
    return select_runbook(
        lib, model=incident.model, alerts=alerts, scenario=incident.data.get("scenario")
    )


def attach_runbook(ws: Workspace, incident_id: str, runbook_id: str | None = None) -> Runbook:
    """Attach ``runbook_id`` (or the selected runbook) to the incident, recorded on its
    timeline; returns it. Already attached: returns the attached one."""
    lib = workspace_library(ws.config)
    inc = ws.store.get(incident_id)
    rb = lib.get(runbook_id) if runbook_id else runbook_for(ws, inc, lib)
    if inc.runbook != rb.id:
        ws.store.update(
            inc.id,
            actor=ws.actor,
            at=max(ws.now(), _last_ts(ws, inc.id)),
            message=f"runbook {rb.id}: {rb.title}",
            runbook=rb.id,
        )
    return rb


def _last_ts(ws: Workspace, incident_id: str):
    events = ws.store.events(incident_id)
    return events[-1].ts if events else ws.now()


def _alert_from_dict(d: dict) -> Alert:
    from console.clock import parse_ts

    return Alert(
        d["name"],
        d["model"],
        d.get("fingerprint", ""),
        parse_ts(d["starts_at"]) if isinstance(d.get("starts_at"), str) else d["starts_at"],
        d.get("severity", "warning"),
        d.get("state", "firing"),
        dict(d.get("labels") or {}),
        dict(d.get("annotations") or {}),
        d.get("value"),
    )


def open_incident(
    ws: Workspace,
    alert: Alert,
    *,
    drill: bool = False,
    data: dict | None = None,
    side_alerts: Iterable[Alert] = (),
    onset_at: datetime | None = None,
) -> tuple[Incident, Runbook, bool]:
    """Open an incident for ``alert`` with the runbook it selects (and that runbook's
    default severity), or return the open incident a repeated firing belongs to.
    Returns ``(incident, runbook, created)``."""
    from console.incidents import open_from_alert

    lib = workspace_library(ws.config)
    existing = ws.store.find_open(fingerprint=alert.fingerprint, env=ws.env.name)
    if existing is not None:
        inc, created = open_from_alert(ws, alert)
        return inc, runbook_for(ws, inc, lib), created
    scenario = (data or {}).get("scenario")
    rb = select_runbook(lib, model=alert.model, alerts=[alert, *side_alerts], scenario=scenario)
    inc, created = open_from_alert(
        ws,
        alert,
        runbook=rb.id,
        severity=rb.severity,
        drill=drill,
        data=data,
        onset_at=onset_at,
    )
    if created:
        record_alert(ws, inc.id, alert, "firing")
    return inc, rb, created


def record_alert(ws: Workspace, incident_id: str, alert: Alert, state: str) -> None:
    """Record ``alert`` firing or resolved on the incident's timeline. A resolved alert is
    recorded with its signal's value at resolution (``value``; the value it fired with is
    kept as ``firing_value``), not the value it fired with."""
    verb = "firing" if state == "firing" else "resolved"
    at = max(ws.now(), _last_ts(ws, incident_id))
    payload = {**alert.to_dict(), "state": verb}
    message = f"{alert.name} {verb}: {alert.summary}"
    if verb == "resolved":
        signal = alert.labels.get("signal")
        value = _value_at(ws, signal, alert.model, at)
        payload.update(firing_value=alert.value, value=value, signal=signal)
        if signal and value is not None:
            message = f"{alert.name} resolved: {signal} {_signal_text(signal, value)} at resolution"
        else:
            message = f"{alert.name} resolved (value at resolution not available)"
    ws.store.append(incident_id, f"alert.{verb}", message, actor="alerting", at=at, payload=payload)


def _value_at(ws: Workspace, signal: str | None, model: str, at: datetime) -> float | None:
    """The alert's signal at ``at``; None when the alert names no signal or the backend has
    no answer (a resolved alert is still recorded)."""
    if not signal:
        return None
    try:
        return ws.backends.metrics.query(signal, model, at=at)
    except RollbookError:
        return None


def _signal_text(signal: str, value: float) -> str:
    """As the fleet shows the signal; small plain numbers keep four significant digits (a
    churn prediction mean of 0.1729 is not "0.2")."""
    from console.fleet import format_signal

    text = format_signal(signal, value)
    if text == f"{value:,.1f}" and abs(value) < 100:
        return f"{value:.4g}"
    return text


def sync_alerts(ws: Workspace, incident_id: str) -> list[tuple[str, str]]:
    """Record the model's alerts that started or stopped firing since the timeline last
    said so. Returns ``(alert name, "firing"|"resolved")`` for each change."""
    inc = ws.store.get(incident_id)
    known: dict[str, tuple[str, dict]] = {}
    for ev in ws.store.events(incident_id, kind_prefix="alert."):
        known[ev.payload.get("fingerprint", "")] = (ev.kind.removeprefix("alert."), ev.payload)
    firing = {
        a.fingerprint: a
        for a in ws.backends.metrics.active_alerts()
        if a.model == inc.model and a.state == "firing"
    }
    changes = []
    for fp, alert in firing.items():
        if known.get(fp, ("resolved",))[0] != "firing":
            record_alert(ws, incident_id, alert, "firing")
            changes.append((alert.name, "firing"))
    for fp, (state, payload) in known.items():
        if state == "firing" and fp not in firing:
            record_alert(ws, incident_id, _alert_from_dict(payload), "resolved")
            changes.append((payload.get("name", "?"), "resolved"))
    return changes
