"""The post-mortem's timeline: an incident's events as rows to the minute, with the noise
left out and repeated events folded, read in one pass so a 100,000-event incident is never
held in memory.

Left out: the review's own content (tagged notes, action items: they have their sections), a
step's start when the same step finishes later (its finish row says what happened) and the
engine's "skipped, not on this path" records.

Folded: an event identical to an earlier one of the same *stretch* — same kind, actor and
detail as the reader sees them, only its time differs — adds to that row's count instead of
adding a row (``count``, ``last_at``, ``last_seq``). A stretch ends at every event that
changes the incident or production (a milestone, a phase, an action, a recovery verdict, a
drill's score), and those are never folded: an alert that fires again after the rollback
gets a row of its own after it. Every distinct event keeps its row, at its first time.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Any

from console.reports import record
from console.store import Incident, TimelineEvent

KIND_LABELS = {
    "incident.opened": "opened",
    "incident.acknowledged": "acknowledged",
    "incident.mitigation_applied": "mitigation applied",
    "incident.mitigated": "impact stopped",
    "incident.resolved": "resolved",
    "incident.reviewed": "reviewed",
    "incident.updated": "updated",
    "phase.changed": "phase",
    "note": "note",
    "step.started": "step started",
    "step.finished": "step finished",
    "alert.firing": "alert firing",
    "alert.resolved": "alert resolved",
    "recovery.watching": "watching recovery",
    "recovery.not_recovered": "not recovered",
    "silence.created": "silence created",
    "silence.expired": "silence expired",
    "drill.scored": "drill scored",
    "drill.started": "drill started",
    "postmortem.published": "post-mortem published",
}
#: Kinds that end a stretch of folding and are never folded themselves (see the module doc).
BOUNDARY_PREFIXES = ("incident.", "phase.", "action.", "recovery.", "drill.")
#: ``incident.updated`` is the exception: an alert that keeps firing writes one per firing.
NOT_BOUNDARY = frozenset({"incident.updated"})


def label(event: TimelineEvent) -> str:
    """What the event is, in a word or two: ``action rollback``, ``check failed``,
    ``finding`` (a check phrased as a question that found a problem), ``decision``, …"""
    if event.kind.startswith("action."):
        return f"action {event.kind.split('.', 1)[1]}"
    p = event.payload or {}
    if event.kind == "note" and p.get("tag") == "update":
        return "stakeholder update"
    if event.kind == "step.finished" and p.get("kind") and p.get("state"):
        if p["kind"] == "decision":
            return "decision"
        if p["kind"] == "check" and p["state"] == "failed" and _finding(event) is not None:
            return "finding"  # a question that found a problem, not a failure
        return f"{p['kind']} {p['state']}"  # "check failed", "action done", "manual done"
    return KIND_LABELS.get(event.kind, event.kind)


def _finding(event: TimelineEvent) -> str | None:
    """A check step phrased as a question, read as its answer (see ``record.finding``)."""
    if (event.payload or {}).get("kind") != "check":
        return None
    return record.step_reading(event)


def detail(event: TimelineEvent) -> str:
    """The timeline's detail: a question check or a decision as question and answer
    ("Does the null rate trip the circuit breaker? — yes: …"), else the event's message."""
    return record.step_reading(event) or event.message


def is_boundary(event: TimelineEvent) -> bool:
    """An event that changes the incident or production: it ends a stretch of folding."""
    return event.kind.startswith(BOUNDARY_PREFIXES) and event.kind not in NOT_BOUNDARY


def _key(event: TimelineEvent) -> Hashable:
    """Everything ``label`` and ``detail`` read, so two events with one key show the same
    row. Cheaper than computing the row: it is taken for every event."""
    if event.kind != "step.finished":
        return (event.kind, event.actor, event.message)
    p = event.payload or {}
    return (
        event.kind,
        event.actor,
        event.message,
        str(p.get("kind") or ""),
        str(p.get("state") or ""),
        str(p.get("summary") or ""),
    )


class TimelineFolder:
    """Feed it the timeline's events in order (``add``), then take its ``rows``.

    Memory: the rows (one per distinct event of each stretch) and the current stretch's
    index; the events themselves are not kept. ``events`` counts what was fed, ``folded``
    the events that added to a row's count instead of making one, ``left_out`` the review
    content, step starts and skipped steps that make no row."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._stretch: dict[Hashable, dict[str, Any]] = {}
        self._started: dict[str, TimelineEvent] = {}  # step → its start, until it finishes
        self._first_at: datetime | None = None
        self.events = 0
        self.folded = 0
        self.left_out = 0

    def add(self, e: TimelineEvent) -> None:
        if not self.events:
            self._first_at = e.ts
        self.events += 1
        if record.is_review_content(e) or e.kind.startswith("notify."):
            self.left_out += 1  # notifications: listed with the stakeholder updates
            return
        p = e.payload or {}
        step = p.get("step") if e.kind in ("step.started", "step.finished") else None
        if step and e.kind == "step.started":
            earlier = self._started.pop(step, None)
            if earlier is not None:
                self._place(earlier)  # started again before it finished: the first one stays
            self._started[step] = e
            return
        if step and e.kind == "step.finished":
            if self._started.pop(step, None) is not None:
                self.left_out += 1  # its finish row says what happened
            if p.get("auxiliary"):
                self.left_out += 1
                return
        self._place(e)

    def _place(self, e: TimelineEvent) -> None:
        if is_boundary(e):
            self._stretch.clear()
            self._rows.append(_row(e))
            return
        key = _key(e)
        row = self._stretch.get(key)
        if row is None:
            row = self._stretch[key] = _row(e)
            self._rows.append(row)
            return
        row["count"] += 1
        row["last_at"], row["last_seq"] = e.ts, e.seq
        self.folded += 1

    def rows(self, incident: Incident) -> list[dict[str, Any]]:
        """The rows to the minute, in time order: the onset (when known) and detection from
        the incident record, then one per distinct event of each stretch (see the module).

        Each row: ``at`` (its first time), ``offset_min`` (minutes from detection; negative
        before it), ``actor``, ``kind``, ``label``, ``message``, ``seq`` (None for record
        milestones), ``action`` (True for ``action.*`` events), ``count`` (events the row
        stands for, 1 when nothing folded into it), ``last_at`` and ``last_seq`` (the last
        of them; None when ``count`` is 1). A step that started and never finished keeps
        its start row."""
        for e in self._started.values():
            self._place(e)
        self._started.clear()
        det = incident.detected_at
        rows: list[dict[str, Any]] = []
        if incident.onset_at is not None:
            rows.append(
                _record_row(incident.onset_at, "onset", "impact began (from the record)", det)
            )
        first = self._first_at
        if det is not None and (first is None or det < first):
            alert = incident.data.get("alert") or {}
            how = f"alert {alert.get('name')} fired" if alert.get("name") else "detected"
            rows.append(_record_row(det, "detected", how, det))
        for r in self._rows:
            r["offset_min"] = _offset(r["at"], det)
            rows.append(r)
        rows.sort(key=lambda r: (r["at"], r["seq"] or 0))
        return rows


def _offset(at: datetime, detected: datetime | None) -> float | None:
    return None if detected is None else (at - detected).total_seconds() / 60.0


def _row(e: TimelineEvent) -> dict[str, Any]:
    return {
        "at": e.ts,
        "offset_min": None,
        "actor": e.actor,
        "kind": e.kind,
        "label": label(e),
        "message": detail(e),
        "seq": e.seq,
        "action": e.kind.startswith("action."),
        "count": 1,
        "last_at": None,
        "last_seq": None,
    }


def _record_row(at: datetime, kind: str, message: str, detected: datetime | None) -> dict:
    return {
        "at": at,
        "offset_min": _offset(at, detected),
        "actor": "—",
        "kind": kind,
        "label": kind,
        "message": message,
        "seq": None,
        "action": False,
        "count": 1,
        "last_at": None,
        "last_seq": None,
    }


def timeline(incident: Incident, events: Iterable[TimelineEvent]) -> list[dict[str, Any]]:
    """The timeline rows of ``events`` (see ``TimelineFolder.rows``), in one pass."""
    folder = TimelineFolder()
    for e in events:
        folder.add(e)
    return folder.rows(incident)
