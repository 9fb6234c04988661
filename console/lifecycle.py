"""The incident's lifecycle: phases, milestones and the transitions between them.

Every path that acknowledges, mitigates, resolves or reviews an incident — the console's keys,
the CLI, the runbook engine, the recovery watch — calls these functions, so the same act is
always recorded the same way. The store only writes what they decide, in one transaction with
the event that explains it (``Store.transition``).

Rules:
- Phases move forward only, one at a time; each phase passed is recorded (``phase.changed``).
- Milestones are set once, in the order of ``Milestone``; a milestone's time never precedes
  an earlier milestone's.
- A later milestone implies the earlier *required* ones at the same moment (resolving an
  incident nobody acknowledged acknowledges it). ``detected`` is set on opening, and
  ``mitigation_applied`` is never implied: it means a change to production was read back, and
  an impact can stop without one (the upstream fixed itself, a manual fix outside Rollbook).
- ``mitigated`` means the impact was observed to stop. Its time is when the signal was seen
  back (which may be a little before the observer recorded it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from console.enums import EventKind, IncidentStatus, Milestone, Phase, milestone_event
from console.errors import InvalidTransition
from console.store import Change, Incident, Store

STATUS_AFTER: dict[Milestone, IncidentStatus] = {
    Milestone.DETECTED: IncidentStatus.OPEN,
    Milestone.ACKNOWLEDGED: IncidentStatus.ACKNOWLEDGED,
    Milestone.MITIGATION_APPLIED: IncidentStatus.MITIGATING,
    Milestone.MITIGATED: IncidentStatus.MITIGATED,
    Milestone.RESOLVED: IncidentStatus.RESOLVED,
    Milestone.REVIEWED: IncidentStatus.CLOSED,
}
ORDER: tuple[Milestone, ...] = tuple(Milestone)
#: Milestones that a later one does not imply (see the module's docstring).
NOT_IMPLIED = frozenset({Milestone.DETECTED, Milestone.MITIGATION_APPLIED})
#: The milestones a runbook step may set with ``marks:``. ``mitigation_applied`` is not one:
#: it is recorded by the action itself, whichever path ran it.
MARKABLE = (Milestone.ACKNOWLEDGED, Milestone.MITIGATED, Milestone.RESOLVED, Milestone.REVIEWED)

_PHASES: tuple[Phase, ...] = tuple(Phase)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("lifecycle times must be timezone-aware (UTC)")
    return at.isoformat()


def _status_rank(status: str) -> int:
    order = list(IncidentStatus)
    return order.index(IncidentStatus(status)) if status in order else -1


# ---- phases ----------------------------------------------------------------------------------
def phase_changes(inc: Incident, phase: Phase | str) -> list[Change]:
    """The ``phase.changed`` steps that bring ``inc`` forward to ``phase`` (none when it is
    there already or past it)."""
    target = Phase(phase)
    cur, new = _PHASES.index(Phase(inc.phase)), _PHASES.index(target)
    out = []
    for i in range(cur + 1, new + 1):
        a, b = _PHASES[i - 1], _PHASES[i]
        out.append(
            Change(
                EventKind.PHASE_CHANGED,
                f"{a.value} → {b.value}",
                {"phase": b.value},
                {"from": a.value, "to": b.value},
            )
        )
    return out


def enter_phase(
    store: Store, incident_id: str, phase: Phase | str, *, actor: str, at: datetime
) -> Incident:
    """Move the incident forward to ``phase``, recording each phase passed; a phase at or
    behind the current one changes nothing (phases never go back)."""
    if phase not in _PHASES:
        raise InvalidTransition(
            f"unknown phase {phase!r}", hint=f"phases: {' → '.join(p.value for p in _PHASES)}"
        )
    return store.transition(incident_id, lambda inc: phase_changes(inc, phase), actor=actor, at=at)


# ---- milestones ------------------------------------------------------------------------------
def milestone_changes(
    inc: Incident,
    milestone: Milestone | str,
    at: datetime,
    *,
    message: str = "",
    payload: dict[str, Any] | None = None,
) -> list[Change]:
    """What setting ``milestone`` at ``at`` changes on ``inc``: the implied earlier
    milestones first, then the milestone itself; none when it is set already.

    ``at`` is raised to the latest earlier milestone (a time never precedes the one before
    it). Raises InvalidTransition for an unknown milestone or ``detected``."""
    m = Milestone(milestone) if milestone in list(Milestone) else None
    if m is None or m is Milestone.DETECTED:
        raise InvalidTransition(
            f"unknown milestone {milestone!r}",
            hint=f"one of {', '.join(x.value for x in ORDER[1:])}",
        )
    if inc.milestone(m) is not None:
        return []
    earlier = ORDER[: ORDER.index(m)]
    for e in earlier:
        prev = inc.milestone(e)
        if prev is not None and prev > at:
            at = prev
    changes = []
    status = inc.status
    for e in earlier:
        if e in NOT_IMPLIED or inc.milestone(e) is not None:
            continue
        status = _later_status(status, STATUS_AFTER[e])
        changes.append(
            Change(
                milestone_event(e),
                f"{e.value} (implied by {m.value})",
                {f"{e.value}_at": _iso(at), "status": status},
                {"status": status, "implied_by": m.value},
            )
        )
    status = _later_status(status, STATUS_AFTER[m])
    changes.append(
        Change(
            milestone_event(m),
            message or m.value.replace("_", " "),
            {f"{m.value}_at": _iso(at), "status": status},
            {"status": status, **(payload or {})},
        )
    )
    return changes


def _later_status(current: str, new: IncidentStatus) -> str:
    """A status never moves back: mitigated stays mitigated when a late acknowledgement is
    implied, and an incident resolved before its mitigation was recorded stays resolved."""
    return new.value if _status_rank(new) >= _status_rank(current) else current


def mark(
    store: Store,
    incident_id: str,
    milestone: Milestone | str,
    *,
    actor: str,
    at: datetime,
    message: str = "",
    payload: dict[str, Any] | None = None,
) -> Incident:
    """Set ``milestone`` (and the earlier required ones it implies) at ``at``. Idempotent:
    a milestone already set is left as it was."""

    def decide(inc: Incident) -> Sequence[Change]:
        return milestone_changes(inc, milestone, at, message=message, payload=payload)

    return store.transition(incident_id, decide, actor=actor, at=at)


def acknowledge(store: Store, incident_id: str, *, actor: str, at: datetime) -> Incident:
    """The acting person has the incident in hand (idempotent)."""
    inc = store.get(incident_id)
    at = max(at, inc.detected_at or at)
    return mark(
        store,
        inc.id,
        Milestone.ACKNOWLEDGED,
        actor=actor,
        at=at,
        message=f"acknowledged by {actor}",
    )


def mitigation_applied(
    store: Store,
    incident_id: str,
    *,
    actor: str,
    at: datetime,
    action: str,
    summary: str,
    action_id: str | None = None,
) -> Incident:
    """A change to production made for the incident was read back: the incident moves to
    the ``mitigate`` phase (never back), ``mitigation_applied`` is set the first time, and
    acknowledging is implied (acting on production is having it in hand). Whether it *helped*
    is the recovery watch's to say (``mitigated``)."""

    def decide(inc: Incident) -> Sequence[Change]:
        out = phase_changes(inc, Phase.MITIGATE)
        if inc.acknowledged_at is None:
            out += milestone_changes(
                inc,
                Milestone.ACKNOWLEDGED,
                at,
                message=f"acknowledged by {actor} (implied by the {action})",
            )
            inc = _with(inc, acknowledged_at=at, status=IncidentStatus.ACKNOWLEDGED.value)
        if inc.mitigation_applied_at is None and inc.mitigated_at is None:
            out += milestone_changes(
                inc,
                Milestone.MITIGATION_APPLIED,
                at,
                message=f"mitigation applied: {summary}",
                payload={"action": action, "action_id": action_id},
            )
        return out

    return store.transition(incident_id, decide, actor=actor, at=at)


def mitigated(
    store: Store,
    incident_id: str,
    *,
    actor: str,
    at: datetime,
    observed_at: datetime | None = None,
    message: str,
    payload: dict[str, Any] | None = None,
) -> Incident:
    """The impact was observed to stop. The milestone's time is ``observed_at`` (when the
    signal was back, raised to the earlier milestones); the event is written at ``at`` (when
    Rollbook saw it), so the timeline never runs backwards."""
    when = min(observed_at or at, at)

    def decide(inc: Incident) -> Sequence[Change]:
        return milestone_changes(inc, Milestone.MITIGATED, when, message=message, payload=payload)

    return store.transition(incident_id, decide, actor=actor, at=at)


def _with(inc: Incident, **fields: Any) -> Incident:
    from dataclasses import replace

    return replace(inc, **fields)
