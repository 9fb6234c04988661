"""Parsing what Prometheus and Alertmanager send: sample values arrive as strings ("0.5",
"NaN", "+Inf", "-Inf"), times as RFC 3339 with up to nanoseconds or as float seconds."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from console.backends.types import Alert, Point

# Prometheus' own label-set fingerprint (FNV-1a 64 over sorted name/value pairs with a 0xff
# separator), so an alert read from Prometheus and the same alert read from Alertmanager
# carry the same fingerprint and open one incident, not two.
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEP = 0xFF
_FRACTION = re.compile(r"\.(\d+)")


def parse_value(raw: Any) -> float | None:
    """A sample value as a finite float, or None for NaN, ±Inf, empty or garbage."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def parse_time(raw: Any) -> datetime | None:
    """RFC 3339 (nanoseconds are cut to microseconds) or Unix seconds, as UTC."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return datetime.fromtimestamp(float(raw), UTC)
    text = str(raw).strip().replace("Z", "+00:00")
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromtimestamp(float(raw), UTC)
        except (TypeError, ValueError):
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus' ``LabelSet.Fingerprint()`` as Alertmanager prints it (16 hex digits)."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for b in str(part).encode():
                h = ((h ^ b) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
            h = ((h ^ _SEP) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def sample_point(pair: Any) -> Point | None:
    """``[<unix seconds>, "<value>"]`` → Point (value None for NaN/Inf); None if malformed."""
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return None
    at = parse_time(pair[0])
    if at is None:
        return None
    return Point(at, parse_value(pair[1]))


def alert_from_labels(
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    *,
    starts_at: datetime | None,
    model_label: str,
    state: str = "firing",
    value: Any = None,
    fp: str | None = None,
) -> Alert:
    labels = {str(k): str(v) for k, v in labels.items()}
    return Alert(
        name=labels.get("alertname", "unnamed alert"),
        model=labels.get(model_label, ""),
        fingerprint=fp or fingerprint(labels),
        starts_at=starts_at or datetime.now(UTC),
        severity=labels.get("severity", "warning"),
        state=state,
        labels=labels,
        annotations={str(k): str(v) for k, v in (annotations or {}).items()},
        value=parse_value(value),
    )
