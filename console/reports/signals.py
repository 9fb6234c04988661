"""Fetching the key signals of an incident window from the metrics backend, for the charts
of the HTML post-mortem. Charts are optional: any backend problem becomes a note."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from console.store import Incident

MARGIN = timedelta(minutes=15)


def incident_window(incident: Incident, *, now: datetime) -> tuple[datetime, datetime]:
    """From 15 minutes before the onset (else detection) to 15 minutes after resolution
    (else mitigation, else ``now``)."""
    start = incident.onset_at or incident.detected_at or incident.created_at or now
    end = incident.resolved_at or incident.mitigated_at or now
    return start - MARGIN, max(end, start) + MARGIN


def key_signals(incident: Incident, key_signal: str | None) -> list[str]:
    """The model's key signal, ``null_rate:<feature>`` for every feature the evidence
    names, and the signals the incident lists (``data["signals"]`` or
    ``data["facts"]["signals"]``), without repeats."""
    names: list[str] = []
    for ev in incident.data.get("evidence") or []:
        if isinstance(ev, dict) and ev.get("feature"):
            names.append(f"null_rate:{ev['feature']}")
    facts = incident.data.get("facts") or {}
    for listed in (incident.data.get("signals"), facts.get("signals")):
        if isinstance(listed, list):
            names += [str(s) for s in listed]
    if key_signal:
        names.append(key_signal)
    return list(dict.fromkeys(names))


def fetch_series(
    workspace: Any, incident: Incident, *, now: datetime, step_seconds: int = 60
) -> tuple[dict[str, list[tuple[datetime, Any]]], str]:
    """``(series, note)``: signal → [(time, value)] from ``workspace.backends.metrics`` over
    the incident window. Signals that fail or return nothing are left out and named in the
    note; with no metrics backend the series is empty and the note says so."""
    metrics = getattr(getattr(workspace, "backends", None), "metrics", None)
    if metrics is None:
        return {}, "No metrics backend was available: charts omitted."
    key = None
    try:
        for m in workspace.backends.registry.models():
            if m.name == incident.model:
                key = m.key_signal
    except Exception:  # noqa: BLE001 - the registry is optional for charts
        key = None
    start, end = incident_window(incident, now=now)
    series: dict[str, list[tuple[datetime, Any]]] = {}
    missing: list[str] = []
    for signal in key_signals(incident, key):
        try:
            points = metrics.query_range(
                signal, incident.model, start, end, step_seconds=step_seconds
            )
        except Exception as exc:  # noqa: BLE001 - a failing signal must not fail the report
            missing.append(f"{signal} ({exc})")
            continue
        pts = [(p.at, p.value) for p in points]
        if any(v is not None for _, v in pts):
            series[signal] = pts
        else:
            missing.append(f"{signal} (no data)")
    note = f"Not charted: {', '.join(missing)}." if missing else ""
    if not series and not missing:
        note = "The metrics backend had no signals for this model: charts omitted."
    return series, note
