"""Which signal shows an incident, and fetching the incident window's signals from the
metrics backend for the charts of the HTML post-mortem. Charts are optional: any backend
problem becomes a note.

``incident_signal`` is the one place that decides which signal an incident's chart shows;
the post-mortem and the console's incident view both call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from console.backends.types import ModelInfo
from console.store import Incident, TimelineEvent

MARGIN = timedelta(minutes=15)
#: Signals of a model's *inputs*: an alert on one names the cause, not the impact.
INPUT_SIGNAL_PREFIXES = ("null_rate:", "drift:", "psi:")
#: The signal every backend has, for an incident with no alert and no model information.
DEFAULT_SIGNAL = "error_rate"


def incident_window(incident: Incident, *, now: datetime) -> tuple[datetime, datetime]:
    """From 15 minutes before the onset (else detection) to 15 minutes after resolution
    (else mitigation, else ``now``)."""
    start = incident.onset_at or incident.detected_at or incident.created_at or now
    end = incident.resolved_at or incident.mitigated_at or now
    return start - MARGIN, max(end, start) + MARGIN


def alert_signal(incident: Incident) -> str | None:
    """The signal the incident's alert fired on: its ``signal`` label (the embedded world
    sets it; give Prometheus alert rules a ``signal`` label naming a Rollbook signal to get
    the same), else ``null_rate:<feature>`` for an alert that names a feature; None when the
    alert says neither or there is no alert."""
    labels = (incident.data.get("alert") or {}).get("labels") or {}
    if labels.get("signal"):
        return str(labels["signal"])
    if labels.get("feature"):
        return f"null_rate:{labels['feature']}"
    return None


def is_input_signal(signal: str) -> bool:
    return signal.startswith(INPUT_SIGNAL_PREFIXES)


def incident_signal(incident: Incident, model_info: ModelInfo | None) -> str:
    """The one signal that shows the incident's impact, for its chart.

    The alert's own signal (``alert_signal``): fraud_loss_rate for a concept-drift alert,
    ``false_positive_rate:mobile_new`` for a segment alert, latency_p99_ms for a latency
    alert. An alert on a model *input* (a feature's null rate or drift) names the cause,
    not the impact, which shows in what the model says: then the model's key signal
    (positive_rate for the churn model). Without an alert: the model's key signal, else
    ``error_rate``."""
    own = alert_signal(incident)
    key = model_info.key_signal if model_info is not None else None
    if own and not is_input_signal(own):
        return own
    if key and not is_input_signal(key):
        return key
    return own or key or DEFAULT_SIGNAL


def watched_signals(events: Iterable[TimelineEvent]) -> list[str]:
    """Signals the recovery watch judged the impact on (``recovery.watching`` rules)."""
    out = []
    for e in events:
        if e.kind == "recovery.watching":
            rule = e.payload.get("rule") or {}
            if isinstance(rule, dict) and rule.get("signal"):
                out.append(str(rule["signal"]))
    return out


def chart_signals(
    incident: Incident, model_info: ModelInfo | None, events: Iterable[TimelineEvent] = ()
) -> list[str]:
    """The post-mortem's charts, first to last, without repeats: the incident's signal
    (``incident_signal``), the alert's own signal, the signals the recovery watch judged
    the impact on, ``null_rate:<feature>`` for every feature the evidence names, and the
    signals the incident lists (``data["signals"]``). Not the simulated world's own list
    of signals (its facts are the simulator's, not the incident's)."""
    names = [incident_signal(incident, model_info)]
    own = alert_signal(incident)
    if own:
        names.append(own)
    names += watched_signals(events)
    for ev in incident.data.get("evidence") or []:
        if isinstance(ev, dict) and ev.get("feature"):
            names.append(f"null_rate:{ev['feature']}")
    listed = incident.data.get("signals")
    if isinstance(listed, list):
        names += [str(s) for s in listed]
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
    info = None
    try:
        info = next(
            (m for m in workspace.backends.registry.models() if m.name == incident.model), None
        )
    except Exception:  # noqa: BLE001 - the registry is optional for charts
        info = None
    events: list[TimelineEvent] = []
    try:
        events = workspace.store.events(incident.id, kind_prefix="recovery.")
    except Exception:  # noqa: BLE001 - without the record, the alert's signals still chart
        events = []
    start, end = incident_window(incident, now=now)
    series: dict[str, list[tuple[datetime, Any]]] = {}
    missing: list[str] = []
    for signal in chart_signals(incident, info, events):
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
