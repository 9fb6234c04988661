"""Incident and timeline records as the store returns them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from console.enums import IncidentStatus, Milestone, Phase

# The lifecycle's rules (order, implied milestones, phase moves) live in console.lifecycle;
# these tuples are the vocabulary the store and the readers share.
PHASES: tuple[str, ...] = tuple(p.value for p in Phase)
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
MILESTONES: tuple[str, ...] = tuple(m.value for m in Milestone)
STATUSES: tuple[str, ...] = tuple(s.value for s in IncidentStatus)
# Timeline contract shared by the engine (writes) and the reports (read): the review tags a
# `note` event may carry, and the types of an `action_item` event.
NOTE_TAGS = (
    "why",
    "root_cause",
    "trigger",
    "resolution",
    "contributing",
    "went_well",
    "went_badly",
    "lucky",
    "lesson",
)
ACTION_ITEM_TYPES = ("prevent", "detect", "mitigate")


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    model: str
    severity: str
    status: str
    phase: str
    env: str
    runbook: str | None = None
    drill: bool = False
    alert_fingerprint: str | None = None
    created_at: datetime | None = None
    onset_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigation_applied_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    reviewed_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status not in ("resolved", "closed")

    def milestone(self, name: str) -> datetime | None:
        return getattr(self, f"{name}_at")

    def to_dict(self) -> dict[str, Any]:
        def iso(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "id": self.id,
            "title": self.title,
            "model": self.model,
            "severity": self.severity,
            "status": self.status,
            "phase": self.phase,
            "env": self.env,
            "runbook": self.runbook,
            "drill": self.drill,
            "alert_fingerprint": self.alert_fingerprint,
            "created_at": iso(self.created_at),
            "onset_at": iso(self.onset_at),
            "detected_at": iso(self.detected_at),
            "acknowledged_at": iso(self.acknowledged_at),
            "mitigation_applied_at": iso(self.mitigation_applied_at),
            "mitigated_at": iso(self.mitigated_at),
            "resolved_at": iso(self.resolved_at),
            "reviewed_at": iso(self.reviewed_at),
            "data": self.data,
        }


@dataclass(frozen=True)
class TimelineEvent:
    seq: int
    incident_id: str | None
    ts: datetime
    actor: str
    kind: str
    message: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    chain: str = ""  # the incident's id, or "audit" for standalone action records
    position: int = 0  # 1, 2, … within the chain

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "chain": self.chain,
            "position": self.position,
            "incident_id": self.incident_id,
            "ts": self.ts.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "message": self.message,
            "payload": self.payload,
            "hash": self.hash,
        }


class NewEvent(NamedTuple):
    """One event for ``Store.append_many``: what ``Store.append`` takes, as a record
    (``at`` None: the time is taken inside the append's lock)."""

    kind: str
    message: str
    actor: str
    at: datetime | None = None
    payload: dict[str, Any] | None = None
