"""The one place that turns the record into notifications.

``Pump.run`` reads the timeline's events after its cursor (whoever wrote them: this process,
another console, a CLI), asks ``formatting.draft`` what each one means, addresses it to every
channel that takes it (its ``events``, drills only to drill channels, ``min_severity``) and
queues it durably (``queue.queue``: ``notify.queued`` on the incident's own timeline).

Restart-safe: a new process starts its cursor at the newest event already queued for this
environment (``Ledger.max_source_seq``) and re-reads from there; notification ids are stable
(``INC-0001:<source hash>:<channel>``) and queueing one twice adds nothing, so re-reading is
harmless. An event older than ``max_age_minutes`` (by the environment's clock) is not
announced: switching notifications on, or a process that starts after a long pause, does not
replay old incidents into a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from console.notify.channels import Channel
from console.notify.formatting import IncidentFacts, draft
from console.notify.queue import OVERLAP, Ledger, Store, queue
from console.notify.settings import NotifySettings
from console.store import Incident, TimelineEvent


def notification_id(event: TimelineEvent, channel: str) -> str:
    """Stable across processes and store copies: the incident, the source event's hash (its
    content and place in the chain) and the channel."""
    return f"{event.incident_id}:{event.hash[:12]}:{channel}"


@dataclass
class Pump:
    store: Store
    env: str
    channels: Sequence[Channel]
    settings: NotifySettings
    ledger: Ledger
    now: Callable[[], datetime]
    cursor: int | None = None  # None: not started (set from the ledger on the first run)
    _facts: dict[str, IncidentFacts] = field(default_factory=dict)
    _incidents: dict[str, Incident | None] = field(default_factory=dict)
    _done: set[int] = field(default_factory=set)

    def _incident(self, incident_id: str) -> Incident | None:
        """This environment's incident, or None for another environment's."""
        if incident_id not in self._incidents:
            inc = self.store.get(incident_id)
            self._incidents[incident_id] = inc if inc.env == self.env else None
        return self._incidents[incident_id]

    def _facts_for(self, inc: Incident, before_seq: int) -> IncidentFacts:
        """The incident's facts from its events before ``before_seq`` (read once)."""
        facts = self._facts.get(inc.id)
        if facts is None:
            facts = IncidentFacts(inc.id, severity=inc.severity)
            for e in self.store.events(inc.id):
                if e.seq >= before_seq:
                    break
                facts.see(e)
            self._facts[inc.id] = facts
        return facts

    def run(self) -> list[str]:
        """Queue what the events since the last run mean. Returns the ids queued now."""
        if self.cursor is None:
            self.cursor = self.ledger.max_source_seq()
            start = max(0, self.cursor - 1)  # the newest source again: one of its channels
        else:  # may have been queued before a crash and the others not
            start = max(0, self.cursor - OVERLAP)
        events = self.store.events(all_incidents=True, after_seq=start)
        queued: list[str] = []
        oldest = self.now() - timedelta(minutes=self.settings.max_age_minutes)
        for e in events:
            self.cursor = max(self.cursor or 0, e.seq)
            if e.seq in self._done or e.incident_id is None or e.kind.startswith("notify."):
                continue
            self._done.add(e.seq)
            inc = self._incident(e.incident_id)
            if inc is None:
                continue
            facts = self._facts_for(inc, e.seq)
            d = draft(e, inc, facts, postmortem_url=self.settings.postmortem_url)
            facts.see(e)
            if d is None or e.ts < oldest:
                continue
            entries: list[dict[str, Any]] = []
            for ch in self.channels:
                if not ch.takes(d.topic, drill=inc.drill, severity=facts.severity):
                    continue
                nid = notification_id(e, ch.name)
                if self.ledger.known(nid):
                    continue
                msg = d.message(nid, e, inc, facts)
                entries.append(
                    {
                        "notification_id": nid,
                        "channel": ch.name,
                        "plugin": ch.settings.plugin,
                        "topic": d.topic.value,
                        "source_seq": e.seq,
                        "source_kind": e.kind,
                        "source_hash": e.hash,
                        "message": msg.to_dict(),
                    }
                )
            if entries:
                queued += queue(self.store, inc.id, entries, self.now)
        if len(self._done) > 8 * OVERLAP:
            floor = (self.cursor or 0) - 2 * OVERLAP
            self._done = {s for s in self._done if s >= floor}
        return queued
