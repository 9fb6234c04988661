"""Incident metrics: time to detect, acknowledge, mitigate and resolve, in minutes.

A pure function over the incident record, so the engine, the TUI, the post-mortem and the
drill report all measure the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.store import Incident

#: What each figure measures. Reports print these next to the numbers.
METRIC_DEFINITIONS: dict[str, str] = {
    "detect_min": "time to detect: onset of impact → detection (alert fired or reported); "
    "only when the onset is known",
    "acknowledge_min": "time to acknowledge: detection → a person acknowledged the incident",
    "mitigation_applied_min": "time to mitigation applied: detection → the first change made "
    "for the incident (rollback, kill switch, traffic, paused batch job…) read back from "
    "production",
    "mitigate_min": "time to mitigate: detection → impact observed to stop (the alert's own "
    "signal back within its threshold for the required windows)",
    "resolve_min": "time to resolve: detection → incident resolved",
}

METRIC_LABELS: dict[str, str] = {
    "detect_min": "Time to detect",
    "acknowledge_min": "Time to acknowledge",
    "mitigation_applied_min": "Time to mitigation applied",
    "mitigate_min": "Time to mitigate",
    "resolve_min": "Time to resolve",
}


#: ``[drill]`` config keys (minutes) → the metric each one is a target for, and the defaults.
#: Applying a mitigation is the responder's part; the impact stopping also depends on how
#: fast the signal answers, so it gets its own, wider target.
DRILL_TARGET_KEYS: dict[str, str] = {
    "detect_minutes": "detect_min",
    "acknowledge_minutes": "acknowledge_min",
    "mitigation_applied_minutes": "mitigation_applied_min",
    "mitigate_minutes": "mitigate_min",
}
DEFAULT_DRILL_TARGETS: dict[str, float] = {
    "detect_minutes": 10.0,
    "acknowledge_minutes": 5.0,
    "mitigation_applied_minutes": 8.0,
    "mitigate_minutes": 15.0,
}


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    """Minutes from ``start`` to ``end``; None when either is unknown.

    A negative span (clock skew in imported data) is reported as None rather than a
    misleading negative duration."""
    if start is None or end is None:
        return None
    span = (end - start).total_seconds() / 60.0
    return span if span >= 0 else None


def incident_metrics(incident: Incident) -> dict[str, float | None]:
    """The four incident metrics in minutes (floats), None where a milestone is missing.

    Keys: ``detect_min`` (onset → detected; None when the onset is unknown),
    ``acknowledge_min`` (detected → acknowledged), ``mitigation_applied_min`` (detected →
    a mitigation read back), ``mitigate_min`` (detected → impact observed to stop),
    ``resolve_min`` (detected → resolved). See ``METRIC_DEFINITIONS``."""
    det = incident.detected_at
    return {
        "detect_min": minutes_between(incident.onset_at, det),
        "acknowledge_min": minutes_between(det, incident.acknowledged_at),
        "mitigation_applied_min": minutes_between(det, incident.mitigation_applied_at),
        "mitigate_min": minutes_between(det, incident.mitigated_at),
        "resolve_min": minutes_between(det, incident.resolved_at),
    }


def impact_duration_min(incident: Incident, *, now: datetime | None = None) -> float | None:
    """Minutes users were affected: onset (else detection) → mitigation (else resolution,
    else ``now`` for a still-open incident). None when nothing bounds it."""
    start = incident.onset_at or incident.detected_at
    end = incident.mitigated_at or incident.resolved_at or now
    return minutes_between(start, end)


def metrics_table(incident: Incident) -> list[dict[str, Any]]:
    """Rows ``{key, label, minutes, definition}`` in lifecycle order, for templates."""
    values = incident_metrics(incident)
    return [
        {
            "key": k,
            "label": METRIC_LABELS[k],
            "minutes": values[k],
            "definition": METRIC_DEFINITIONS[k],
        }
        for k in METRIC_DEFINITIONS
    ]
