"""The words of the record: incident phases, milestones and statuses, action statuses, recovery
states and timeline event kinds. One module, so the store, the engine, the CLI, the console
and the reports never spell them differently.

They are ``StrEnum``s: a member *is* its string (``EventKind.NOTE == "note"``), so the JSON on
disk and in ``--json`` output is unchanged and comparisons with stored strings just work. The
event contracts (which payload each kind carries) are written down in ``docs/events.md``.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """The six runbook phases, in order. An incident's phase only moves forward."""

    DETECT = "detect"
    TRIAGE = "triage"
    MITIGATE = "mitigate"
    DIAGNOSE = "diagnose"
    FIX = "fix"
    REVIEW = "review"


class Milestone(StrEnum):
    """Moments of an incident, in the order they happen. Each is set once.

    ``mitigation_applied`` is when a change to production made for the incident was read back
    (traffic and registry agree); ``mitigated`` is when the impact was *observed* to stop (the
    alert's signal back within its threshold for the required windows). They differ exactly
    when a mitigation did not help."""

    DETECTED = "detected"
    ACKNOWLEDGED = "acknowledged"
    MITIGATION_APPLIED = "mitigation_applied"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REVIEWED = "reviewed"


class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    MITIGATING = "mitigating"  # a mitigation applied; recovery not observed yet
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ActionStatus(StrEnum):
    """How an action ended (or, for a dry run, would end)."""

    APPLIED = "applied"  # changed, and the change was read back
    NOOP = "noop"  # nothing to change
    DRY_RUN = "dry-run"
    REFUSED = "refused"  # a rule or a preflight check said no; nothing changed
    FAILED = "failed"  # nothing changed
    COMPENSATED = "compensated"  # failed half-way and was undone
    PARTIAL = "partial"  # some of it changed: finish and undo commands say how to go on
    INTERRUPTED = "interrupted"  # stopped by a signal mid-way: like a crash found later


class Recovery(StrEnum):
    """What the recovery watch has seen of the alert's signal since the last mitigation."""

    WATCHING = "watching"
    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"  # the deadline passed with the signal still bad
    UNKNOWN = "unknown"  # no rule to watch, or no data


class ActionKind(StrEnum):
    """Every action that changes production (or the registry)."""

    ROLLBACK = "rollback"
    KILLSWITCH = "killswitch"
    RESTORE = "restore"
    TRAFFIC = "traffic"
    POINTER = "pointer"
    ROLLOUT = "rollout"
    STAGE = "stage"
    PAUSE_BATCH = "pause_batch"
    RESUME_BATCH = "resume_batch"
    CLEAR_FAULT = "clear_fault"  # simulated worlds only: the fix deployed


#: Actions that change what serves the model's users: on an open incident each one counts as
#: a mitigation applied and starts the recovery watch. A stage is a label; clearing a
#: simulated fault is the fix, not a mitigation.
CHANGES_SERVING = frozenset(
    {
        ActionKind.ROLLBACK,
        ActionKind.KILLSWITCH,
        ActionKind.RESTORE,
        ActionKind.TRAFFIC,
        ActionKind.POINTER,
        ActionKind.ROLLOUT,
        ActionKind.PAUSE_BATCH,
        ActionKind.RESUME_BATCH,
    }
)


class Role(StrEnum):
    """Who does what in an incident (on the timeline, in the post-mortem)."""

    COMMANDER = "commander"
    SCRIBE = "scribe"
    OWNER = "owner"


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"  # a check that had no data to judge
    SKIPPED = "skipped"
    DONE = "done"


class EventKind(StrEnum):
    """Timeline event kinds. See docs/events.md for each one's payload."""

    INCIDENT_OPENED = "incident.opened"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_ASSIGNED = "incident.assigned"  # a role (commander, scribe, owner) given
    INCIDENT_SEVERITY = "incident.severity"  # severity changed, with why
    INCIDENT_ACKNOWLEDGED = "incident.acknowledged"
    INCIDENT_MITIGATION_APPLIED = "incident.mitigation_applied"
    INCIDENT_MITIGATED = "incident.mitigated"
    INCIDENT_RESOLVED = "incident.resolved"
    INCIDENT_REVIEWED = "incident.reviewed"
    PHASE_CHANGED = "phase.changed"

    STEP_STARTED = "step.started"
    STEP_FINISHED = "step.finished"

    ACTION_REQUESTED = "action.requested"
    ACTION_CONFIRMED = "action.confirmed"
    ACTION_STEP = "action.step"
    ACTION_DECISION = "action.decision"  # a rollout's stage judgement
    ACTION_VERIFIED = "action.verified"
    ACTION_FINISHED = "action.finished"
    ACTION_NOOP = "action.noop"
    ACTION_REFUSED = "action.refused"
    ACTION_FAILED = "action.failed"
    ACTION_PARTIAL = "action.partial"
    ACTION_INTERRUPTED = "action.interrupted"  # not terminal: `audit pending` still lists it

    RECOVERY_WATCHING = "recovery.watching"
    RECOVERY_NOT_RECOVERED = "recovery.not_recovered"

    NOTE = "note"
    ACTION_ITEM = "action_item"
    ALERT_FIRING = "alert.firing"
    ALERT_RESOLVED = "alert.resolved"
    SILENCE_CREATED = "silence.created"
    SILENCE_EXPIRED = "silence.expired"
    DRILL_STARTED = "drill.started"
    DRILL_SCORED = "drill.scored"
    POSTMORTEM_PUBLISHED = "postmortem.published"  # a post-mortem file written (path, link)

    # Notifications (Slack, PagerDuty…), queued durably on the incident's timeline by
    # console.notify: queued → (sending → deferred)* → sending → sent | failed.
    NOTIFY_QUEUED = "notify.queued"
    NOTIFY_SENDING = "notify.sending"
    NOTIFY_DEFERRED = "notify.deferred"
    NOTIFY_SENT = "notify.sent"
    NOTIFY_FAILED = "notify.failed"


#: Action event kinds after which an action is over (``interrupted`` is not one of them).
ACTION_TERMINAL = frozenset(
    {
        EventKind.ACTION_FINISHED,
        EventKind.ACTION_FAILED,
        EventKind.ACTION_PARTIAL,
        EventKind.ACTION_NOOP,
        EventKind.ACTION_REFUSED,
    }
)


def milestone_event(milestone: Milestone | str) -> EventKind:
    return EventKind(f"incident.{Milestone(milestone).value}")
