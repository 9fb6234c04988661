"""Step state, replayed from the incident's timeline.

The store is the only memory: each ``step.started`` / ``step.finished`` event carries the
step id, and ``step.finished`` also names the step the flow goes to next. Replaying them
gives every step's latest state and the cursor, so the TUI, the CLI and a process restarted
after a crash all agree on where an incident stands.

The cursor is found by walking the flow from the first step along each finished step's
recorded next step, stopping at the first step not finished (or finished but holding the
flow: a failed ``stop_on_fail`` step names itself as next). So a step taken ahead of the flow
(a why written early, a decision made early) is remembered without dragging the flow past the
steps before it, and the flow passes over it when it gets there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from console.store import TimelineEvent

STATES = ("pending", "running", "passed", "failed", "inconclusive", "skipped", "done")
FINISHED = ("passed", "failed", "inconclusive", "skipped", "done")


@dataclass
class StepRecord:
    state: str = "pending"
    summary: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    note: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    actor: str | None = None
    runs: int = 0
    next: str | None = None  # where the flow went after this step's latest finish

    def as_result(self) -> dict[str, Any]:
        """What Jinja sees as ``results.<step id>``."""
        return {
            "state": self.state,
            "summary": self.summary,
            "values": self.values,
            "evidence": self.evidence,
            "answer": self.answer,
            "note": self.note,
            "passed": self.state == "passed",
            "failed": self.state == "failed",
        }


@dataclass
class Replay:
    records: dict[str, StepRecord]
    cursor: str | None  # the next step to run; None when the flow has ended
    started: bool  # any step finished at all
    ended: bool

    def result_map(self) -> dict[str, dict[str, Any]]:
        return {sid: rec.as_result() for sid, rec in self.records.items() if rec.state != "pending"}


@dataclass
class Fold:
    """The step events of one incident and runbook folded so far, up to ``last_seq``. A
    fold takes only the events after what it has seen (``add``), so a refresh of a long
    incident reads its new step events, not the 80,000 before them. An incident's events
    are appended in ``seq`` order (each append holds the incident's chain), so nothing
    lands behind ``last_seq`` later."""

    runbook: str | None = None
    records: dict[str, StepRecord] = field(default_factory=dict)
    started: bool = False
    last_seq: int = 0

    def add(self, events: list[TimelineEvent]) -> None:
        runbook = self.runbook
        for ev in events:
            self.last_seq = max(self.last_seq, ev.seq)
            if ev.kind not in ("step.started", "step.finished"):
                continue
            p = ev.payload
            sid = p.get("step")
            if not sid or (runbook and p.get("runbook") not in (None, runbook)):
                continue
            rec = self.records.setdefault(sid, StepRecord())
            if ev.kind == "step.started":
                rec.state, rec.started_at, rec.actor = "running", ev.ts, ev.actor
                continue
            rec.state = p.get("state", "done")
            rec.summary = p.get("summary", "")
            rec.evidence = p.get("evidence") or {}
            rec.values = p.get("values") or {}
            rec.answer = p.get("answer")
            rec.note = p.get("note")
            rec.finished_at, rec.actor = ev.ts, ev.actor
            rec.runs += 1
            if p.get("auxiliary"):
                continue  # passed over by a jump: not on the path
            self.started = True
            rec.next = p.get("next")

    def replay(self, first_step: str | None) -> Replay:
        """The state now; the records are copies, so a caller never changes the fold."""
        records = {sid: replace(rec) for sid, rec in self.records.items()}
        cursor, ended = walk(records, first_step)
        return Replay(records, cursor, self.started, ended)


def replay(
    events: list[TimelineEvent], first_step: str | None, *, runbook: str | None = None
) -> Replay:
    """Step states and the cursor of ``runbook`` (events of another runbook attached before
    are left out; events recorded before runbook ids were stored count for any)."""
    fold = Fold(runbook)
    fold.add(events)
    return fold.replay(first_step)


def walk(records: dict[str, StepRecord], first_step: str | None) -> tuple[str | None, bool]:
    """``(cursor, ended)``: follow finished steps' recorded next steps from the first step."""
    cursor, seen = first_step, set()
    while cursor is not None:
        rec = records.get(cursor)
        if rec is None or rec.state not in FINISHED or rec.runs == 0 or cursor in seen:
            return cursor, False  # not run yet, running, or a loop back: the flow is here
        if rec.next == cursor:
            return cursor, False  # finished but holding the flow (failed, stop_on_fail)
        seen.add(cursor)
        cursor = rec.next
    return None, first_step is not None
