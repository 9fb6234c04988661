"""Alertmanager's webhook as alert intake: the payload a ``webhook_configs`` receiver posts
(version "4"), read into :class:`~console.backends.types.Alert` objects and applied with the
same :func:`console.intake.intake` that ``rollbook alerts --open`` uses.

Headless and HTTP-free: ``rollbook serve`` (``console.cli.serve``) reads the request, this
module decides what it means. Alert parsing is written here rather than imported from the
alertmanager plugin (the core never imports a plugin); it reads an alert the way the plugin
reads one from Alertmanager's ``/api/v2/alerts``: the ``alertname``, ``severity`` (default
``warning``) and model labels, the ``value`` annotation, Alertmanager's own fingerprint.

A payload (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)::

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing",
     "receiver": "rollbook", "groupLabels": {...}, "commonLabels": {...},
     "commonAnnotations": {...}, "externalURL": "...",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "2026-11-22T06:47:00.123456789Z",
                 "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "...",
                 "fingerprint": "1c5e4f7d0b9a2e3f"}]}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.backends.types import Alert
from console.errors import InvalidInput
from console.intake import Intake, intake
from console.workspace import Workspace

#: The only webhook payload version Alertmanager has sent (0.x through today).
PAYLOAD_VERSION = "4"
STATES = ("firing", "resolved")


class PayloadError(InvalidInput):
    """The request body is not an Alertmanager webhook payload this receiver understands
    (not JSON, not an object, another version, no list of alerts). Answered 400: sending
    the same body again cannot help, and Alertmanager does not retry a 4xx."""


@dataclass(frozen=True)
class Skipped:
    """An alert of the payload that was not applied, and why (no model label, no
    fingerprint, an unknown status, a start time that is not RFC 3339)."""

    index: int
    fingerprint: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "fingerprint": self.fingerprint, "reason": self.reason}


@dataclass(frozen=True)
class WebhookBatch:
    """One notification: the group's alerts (firing and resolved) in payload order."""

    receiver: str
    group_key: str
    status: str
    alerts: tuple[Alert, ...]
    skipped: tuple[Skipped, ...] = ()
    #: alerts Alertmanager left out (``max_alerts``): they come in a later notification
    truncated: int = 0


def parse_payload(body: bytes | str, *, model_label: str = "model") -> WebhookBatch:
    """Read a webhook body into a batch. The envelope must hold (else :class:`PayloadError`
    naming what is wrong): a JSON object, ``version`` "4", ``alerts`` a list. A malformed
    alert inside a good envelope is skipped with its reason (``WebhookBatch.skipped``)
    rather than refusing its group's other alerts. ``model_label`` is the label naming the
    model; an alert without it is skipped (an incident is about a model)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, deep nesting
        raise PayloadError(
            f"the body is not JSON: {_short(exc)}",
            hint="POST Alertmanager's webhook payload (Content-Type: application/json)",
        ) from None
    if not isinstance(doc, dict):
        raise PayloadError(f"the payload is a JSON {type(doc).__name__}, not an object")
    version = doc.get("version")
    if version != PAYLOAD_VERSION:
        raise PayloadError(
            f"payload version {version!r} is not supported (this receiver reads version "
            f"{PAYLOAD_VERSION!r})"
            if version is not None
            else 'the payload has no version (Alertmanager sends version "4")',
            hint="point an Alertmanager webhook_configs receiver at this URL",
        )
    raw_alerts = doc.get("alerts")
    if not isinstance(raw_alerts, list):
        raise PayloadError("the payload has no list of alerts ('alerts')")
    alerts: list[Alert] = []
    skipped: list[Skipped] = []
    for i, raw in enumerate(raw_alerts):
        try:
            alerts.append(_alert(raw, model_label))
        except _Skip as exc:
            fp = raw.get("fingerprint") if isinstance(raw, dict) else None
            skipped.append(Skipped(i, fp if isinstance(fp, str) else "", str(exc)))
    truncated = doc.get("truncatedAlerts", 0)
    return WebhookBatch(
        receiver=_text(doc.get("receiver")),
        group_key=_text(doc.get("groupKey")),
        status=_text(doc.get("status")),
        alerts=tuple(alerts),
        skipped=tuple(skipped),
        truncated=truncated if isinstance(truncated, int) and truncated > 0 else 0,
    )


def receive(ws: Workspace, batch: WebhookBatch) -> list[Intake]:
    """Apply ``batch`` to the incidents of ``ws``'s environment (see
    :func:`console.intake.intake`: deduplicated by fingerprint, so a resent group writes
    nothing new). A backend or store error propagates after the alerts before it were
    applied; applying the whole group again completes it without duplicates."""
    return intake(ws, batch.alerts, open_incidents=True)


class _Skip(Exception):
    """One alert of the payload cannot be read (the message says why)."""


def _alert(raw: Any, model_label: str) -> Alert:
    if not isinstance(raw, dict):
        raise _Skip(f"not an object but a JSON {type(raw).__name__}")
    labels = raw.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise _Skip("no labels")
    labels = {str(k): _text(v) for k, v in labels.items()}
    fp = raw.get("fingerprint")
    if not isinstance(fp, str) or not fp.strip():
        raise _Skip("no fingerprint")
    status = raw.get("status")
    if status not in STATES:
        raise _Skip(f"status {status!r} is neither firing nor resolved")
    model = labels.get(model_label, "")
    if not model:
        raise _Skip(f"no {model_label!r} label naming the model ([serve] model_label)")
    starts = parse_rfc3339(raw.get("startsAt"))
    if starts is None:
        raise _Skip(f"startsAt {raw.get('startsAt')!r} is not an RFC 3339 time")
    annotations = raw.get("annotations")
    annotations = (
        {str(k): _text(v) for k, v in annotations.items()} if isinstance(annotations, dict) else {}
    )
    return Alert(
        name=labels.get("alertname") or "unnamed alert",
        model=model,
        fingerprint=fp.strip(),
        starts_at=starts,
        severity=labels.get("severity") or "warning",
        state=str(status),
        labels=labels,
        annotations=annotations,
        value=_finite(annotations.get("value")),
    )


def parse_rfc3339(raw: Any) -> datetime | None:
    """An RFC 3339 time as Alertmanager writes it (``Z`` or an offset, up to nanoseconds,
    cut to microseconds) → an aware datetime; None for anything else, and for Go's zero
    time (``0001-01-01T00:00:00Z``, the ``endsAt`` of an alert still firing)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        dt = datetime.fromisoformat(raw.strip())  # Python ≥ 3.11 reads Z and 9 digits
    except ValueError:
        return None
    if dt.tzinfo is None or dt.year <= 1:
        return None
    return dt


def _finite(raw: Any) -> float | None:
    """The ``value`` annotation as a finite float ("0.942", "NaN", "+Inf", garbage → None)."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _text(v: Any) -> str:
    return v if isinstance(v, str) else "" if v is None else json.dumps(v)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
