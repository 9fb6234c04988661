"""Alertmanager webhook payloads (version 4) as Alertmanager 0.25 writes them: firing alerts
carry Go's zero time as ``endsAt``, times have nanoseconds, fingerprints are 16 hex digits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"
T_FIRE = datetime(2026, 11, 22, 6, 47, tzinfo=UTC)


def rfc3339(at: datetime, nanos: str = "123456789") -> str:
    """``2026-11-22T06:47:00.123456789Z`` — Go's RFC 3339 with nanoseconds."""
    return at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{nanos}" if nanos else "") + "Z"


def am_alert(
    name: str = "FeatureNullRateHigh",
    model: str = "churn",
    *,
    fingerprint: str = "a1b2c3d4e5f60718",
    status: str = "firing",
    starts: datetime = T_FIRE,
    ends: datetime | None = None,
    severity: str = "warning",
    value: str | None = "0.942",
    summary: str | None = None,
    **labels: str,
) -> dict[str, Any]:
    lab = {"alertname": name, "severity": severity, **labels}
    if model:
        lab["model"] = model
    ann = {"summary": summary or f"{model}: {name}"}
    if value is not None:
        ann["value"] = value
    if status == "resolved" and ends is None:
        ends = starts + timedelta(minutes=20)
    return {
        "status": status,
        "labels": lab,
        "annotations": ann,
        "startsAt": rfc3339(starts),
        "endsAt": rfc3339(ends) if ends else ZERO_TIME,
        "generatorURL": "http://prometheus.example/graph?g0.expr=x",
        "fingerprint": fingerprint,
    }


def payload(*alerts: dict[str, Any], version: Any = "4", **over: Any) -> dict[str, Any]:
    firing = any(a.get("status") == "firing" for a in alerts if isinstance(a, dict))
    doc = {
        "version": version,
        "groupKey": '{}:{alertname="FeatureNullRateHigh", model="churn"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "rollbook",
        "groupLabels": {"alertname": "FeatureNullRateHigh", "model": "churn"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }
    doc.update(over)
    return doc


def body(*alerts: dict[str, Any], **over: Any) -> bytes:
    return json.dumps(payload(*alerts, **over)).encode()
