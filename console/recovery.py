"""Watching for recovery: after a mitigation, is the impact observed to stop?

A mitigation that was applied (traffic and registry read back) may still not help — a
rollback cannot undo an upstream rename. So after every mitigation on an open incident,
Rollbook watches the alert's own signal: the runbook's recovery check (the check step that
``marks: mitigated``), or, without one, the opening alert until it clears. Only when the
signal is seen back within its threshold for the required consecutive minutes is the incident
``mitigated`` (at the time the signal was back) and its cost clock stopped; when the deadline
passes first, the watch records NOT RECOVERED with the runbook's next options.

The watch keeps no state of its own: ``start`` records the rule and the deadline on the
timeline (``recovery.watching``) and ``observe`` re-evaluates the signal's history since then,
so the console, ``rollbook incident watch``, ``--wait`` and a restarted process agree. Any of
them may record the outcome; recording it twice is prevented inside the store's transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from console.enums import EventKind, Recovery
from console.errors import RollbookError
from console.fleet import format_signal
from console.store import Incident
from console.workspace import Workspace

OPS_WORDS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}


@dataclass(frozen=True)
class RecoveryRule:
    """When the impact counts as stopped. A signal rule compares one signal's per-minute
    values with ``threshold`` (``op``) or keeps them within ``[low, high]`` (``op ==
    "within"``); an alert rule (``signal`` None) waits for the alert ``alert`` to clear."""

    signal: str | None
    op: str = "<="
    threshold: float | None = None
    low: float | None = None
    high: float | None = None
    consecutive: int = 2
    deadline_minutes: float = 15.0
    source: str = ""
    alert: str | None = None

    def good(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.op == "within":
            return (self.low is None or value >= self.low) and (
                self.high is None or value <= self.high
            )
        t = self.threshold
        if t is None:
            return False
        return {
            "<=": value <= t,
            "<": value < t,
            ">=": value >= t,
            ">": value > t,
        }.get(self.op, False)

    def needs(self) -> str:
        """What recovered means, for people: "≤ 24.0%", "within 630–660"."""
        if self.signal is None:
            return f"{self.alert or 'the alert'} to clear"
        if self.op == "within":
            return (
                f"within {format_signal(self.signal, self.low)}–"
                f"{format_signal(self.signal, self.high)}"
            )
        return f"{OPS_WORDS.get(self.op, self.op)} {format_signal(self.signal, self.threshold)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "op": self.op,
            "threshold": self.threshold,
            "low": self.low,
            "high": self.high,
            "consecutive": self.consecutive,
            "deadline_minutes": self.deadline_minutes,
            "source": self.source,
            "alert": self.alert,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecoveryRule:
        return cls(
            signal=d.get("signal"),
            op=str(d.get("op") or "<="),
            threshold=d.get("threshold"),
            low=d.get("low"),
            high=d.get("high"),
            consecutive=int(d.get("consecutive") or 1),
            deadline_minutes=float(d.get("deadline_minutes") or 15.0),
            source=str(d.get("source") or ""),
            alert=d.get("alert"),
        )


@dataclass(frozen=True)
class RecoveryWatch:
    """What the watch has seen so far."""

    incident_id: str
    state: Recovery
    now: datetime
    rule: RecoveryRule | None = None
    started_at: datetime | None = None
    deadline_at: datetime | None = None
    value: float | None = None
    recovered_at: datetime | None = None
    streak: int = 0
    action: str | None = None
    next_options: tuple[str, ...] = field(default_factory=tuple)
    error: str | None = None

    @property
    def minutes_left(self) -> float | None:
        if self.deadline_at is None:
            return None
        return max(0.0, (self.deadline_at - self.now).total_seconds() / 60.0)

    @property
    def done(self) -> bool:
        return self.state in (Recovery.RECOVERED, Recovery.NOT_RECOVERED)

    def line(self) -> str:
        """One line for a person: what is watched, against what, and how long is left."""
        rule = self.rule
        if self.state is Recovery.RECOVERED:
            at = f" at {self.recovered_at:%H:%M:%S} UTC" if self.recovered_at else ""
            what = (
                f"{rule.signal} {format_signal(rule.signal, self.value)}"
                if (rule and rule.signal and self.value is not None)
                else "the signal"
            )
            return f"RECOVERED: {what} back{at}" + (f" ({rule.needs()})" if rule else "")
        if rule is None:
            return f"recovery unknown: {self.error or 'no signal to watch'}"
        shown = (
            f"{rule.signal} {format_signal(rule.signal, self.value)}"
            if rule.signal
            else f"{rule.alert or 'the alert'} still firing"
        )
        if self.state is Recovery.NOT_RECOVERED:
            nxt = f" — next: {'; '.join(self.next_options)}" if self.next_options else ""
            return (
                f"NOT RECOVERED: {shown} after {rule.deadline_minutes:g} min "
                f"(needs {rule.needs()}){nxt}"
            )
        if self.error:
            return f"watching recovery: {self.error}"
        left = self.minutes_left
        return (
            f"watching recovery: {shown} (needs {rule.needs()}), "
            f"{'<1' if left is not None and left < 1 else f'{left:.0f}'} min left"
        )

    def to_dict(self) -> dict[str, Any]:
        def iso(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "incident_id": self.incident_id,
            "state": self.state.value,
            "line": self.line(),
            "rule": self.rule.to_dict() if self.rule else None,
            "started_at": iso(self.started_at),
            "deadline_at": iso(self.deadline_at),
            "value": self.value,
            "recovered_at": iso(self.recovered_at),
            "minutes_left": self.minutes_left,
            "action": self.action,
            "next_options": list(self.next_options),
            "error": self.error,
        }


# ---- the rule ------------------------------------------------------------------------------
def rule_for(ws: Workspace, inc: Incident) -> RecoveryRule | None:
    """The runbook's recovery check (the check step that marks the incident mitigated) as a
    rule; else the opening alert clearing; None for an incident with neither."""
    th = ws.config.thresholds
    consecutive = int(th["recovery_consecutive"])
    deadline = float(th["recovery_deadline_minutes"])
    if inc.runbook:
        try:
            from console.runbooks.engine import Engine

            found = Engine(ws, inc.id).mitigation_check()
        except RollbookError:
            found = None
        if found is not None:
            step_id, check, params = found
            return _from_check(ws, inc, step_id, check, params, consecutive, deadline)
    alert = (inc.data.get("alert") or {}).get("name")
    if alert:
        return RecoveryRule(
            None, consecutive=1, deadline_minutes=deadline, source=f"alert {alert}", alert=alert
        )
    return None


def _from_check(
    ws: Workspace,
    inc: Incident,
    step_id: str,
    check: str,
    params: dict[str, Any],
    consecutive: int,
    deadline: float,
) -> RecoveryRule:
    source = f"runbook step {step_id}"
    deadline = float(params.get("deadline_minutes", deadline))
    if check == "alert_cleared":
        alert = params.get("alert") or (inc.data.get("alert") or {}).get("name")
        return RecoveryRule(
            None,
            consecutive=1,
            deadline_minutes=deadline,
            source=source,
            alert=None if alert == "*" else alert,
        )
    signal = str(params["signal"])
    need = int(params.get("consecutive", consecutive))
    if "threshold" in params:
        return RecoveryRule(
            signal,
            str(params.get("op", "<=")),
            float(params["threshold"]),
            consecutive=need,
            deadline_minutes=deadline,
            source=source,
        )
    from console.runbooks.checks.signals import mean_over
    from console.runbooks.context import StepContext

    ctx = StepContext(ws, inc)
    start, end = ctx.reference_window(1.0)
    baseline = mean_over(ctx, signal, start, end, version=params.get("version"))
    if baseline is None:
        raise RollbookError(f"no baseline for {signal} before the incident to watch against")
    tol = abs(baseline) * float(params.get("tolerance_pct", 5)) / 100.0
    return RecoveryRule(
        signal,
        "within",
        low=baseline - tol,
        high=baseline + tol,
        consecutive=need,
        deadline_minutes=deadline,
        source=source,
    )


# ---- recording and observing ----------------------------------------------------------------
def start(ws: Workspace, incident_id: str, *, action: str, action_id: str | None) -> RecoveryWatch:
    """Record that the watch starts now for the mitigation ``action`` (a no-op answer when
    the incident is mitigated already)."""
    inc = ws.store.get(incident_id)
    now = ws.now()
    if inc.mitigated_at is not None:
        return RecoveryWatch(inc.id, Recovery.RECOVERED, now, recovered_at=inc.mitigated_at)
    try:
        rule = rule_for(ws, inc)
    except RollbookError as exc:
        return RecoveryWatch(inc.id, Recovery.UNKNOWN, now, error=exc.message, action=action)
    if rule is None:
        return RecoveryWatch(
            inc.id,
            Recovery.UNKNOWN,
            now,
            action=action,
            error="no runbook recovery check and no alert to watch: confirm recovery by hand",
        )
    if action_id is not None and any(
        e.payload.get("action_id") == action_id
        for e in ws.store.events(inc.id, kind_prefix=EventKind.RECOVERY_WATCHING)
    ):
        # already watching for this action (another console caught the mitigation up
        # first, see ``catch_up``): one watch per action
        return observe(ws, inc.id) or RecoveryWatch(inc.id, Recovery.WATCHING, now, rule)
    deadline = now + timedelta(minutes=rule.deadline_minutes)
    ws.store.append(
        inc.id,
        EventKind.RECOVERY_WATCHING,
        f"watching recovery after the {action}: {rule.signal or rule.alert} (needs "
        f"{rule.needs()}) until {deadline:%H:%M:%S} UTC",
        actor="rollbook",
        at=now,
        payload={
            "watch_id": uuid.uuid4().hex[:12],
            "action": action,
            "action_id": action_id,
            "rule": rule.to_dict(),
            "deadline_at": deadline.isoformat(),
        },
    )
    return observe(ws, inc.id) or RecoveryWatch(
        inc.id, Recovery.WATCHING, now, rule, now, deadline, action=action
    )


def catch_up(ws: Workspace, inc: Incident) -> bool:
    """Record a mitigation whose recording was cut short. An action records ``finished`` and
    then, in separate appends, the incident's ``mitigation_applied`` and the recovery watch;
    a crash or kill between them (the chaos suite finds it in ~1 of 1,000 kills) left the
    change applied and the incident unaware of it. The latest finished change to serving on
    an open, unmitigated incident that neither a milestone nor a watch names is recorded
    now, at the time it finished, and watched. True when something was recorded (``inc`` is
    then out of date)."""
    from console import lifecycle
    from console.enums import CHANGES_SERVING

    if not inc.is_open or inc.mitigated_at is not None:
        return False
    finished = [
        e
        for e in ws.store.events(inc.id, kind_prefix=EventKind.ACTION_FINISHED)
        if e.payload.get("action") in CHANGES_SERVING and e.payload.get("action_id")
    ]
    if not finished:
        return False
    last = finished[-1]
    action_id = last.payload["action_id"]
    named = {
        e.payload.get("action_id")
        for prefix in (EventKind.RECOVERY_WATCHING, EventKind.INCIDENT_MITIGATION_APPLIED)
        for e in ws.store.events(inc.id, kind_prefix=prefix)
    }
    if action_id in named:
        return False
    action = str(last.payload["action"])
    lifecycle.mitigation_applied(
        ws.store,
        inc.id,
        actor=ws.actor,
        at=last.ts,
        action=action,
        summary=f"{last.message} (recorded after the action was cut short)",
        action_id=action_id,
    )
    start(ws, inc.id, action=action, action_id=action_id)
    return True


def observe(ws: Workspace, incident_id: str, *, record: bool = True) -> RecoveryWatch | None:
    """The watch's state now (None when no mitigation started one). With ``record``, an
    outcome seen for the first time is written: ``mitigated`` (at the time the signal was
    back) or ``recovery.not_recovered`` once the deadline has passed."""
    inc = ws.store.get(incident_id)
    if record and catch_up(ws, inc):
        inc = ws.store.get(incident_id)
    now = ws.now()
    watching = ws.store.events(inc.id, kind_prefix="recovery.")
    starts = [e for e in watching if e.kind == EventKind.RECOVERY_WATCHING]
    if not starts:
        if inc.mitigated_at is not None:
            return RecoveryWatch(inc.id, Recovery.RECOVERED, now, recovered_at=inc.mitigated_at)
        return None
    ev = starts[-1]
    p = ev.payload
    rule = RecoveryRule.from_dict(p.get("rule") or {})
    started, deadline = ev.ts, datetime.fromisoformat(str(p["deadline_at"]))
    base = RecoveryWatch(
        inc.id, Recovery.WATCHING, now, rule, started, deadline, action=p.get("action")
    )
    if inc.mitigated_at is not None:
        return replace(
            base,
            state=Recovery.RECOVERED,
            recovered_at=inc.mitigated_at,
            value=_latest(ws, inc, rule, now),
        )
    gave_up = [
        e
        for e in watching
        if e.kind == EventKind.RECOVERY_NOT_RECOVERED
        and e.payload.get("watch_id") == p.get("watch_id")
    ]
    if gave_up:
        g = gave_up[-1].payload
        return replace(
            base,
            state=Recovery.NOT_RECOVERED,
            value=g.get("value"),
            next_options=tuple(g.get("next_options") or ()),
        )
    try:
        recovered_at, value, streak = _evaluate(ws, inc, rule, started, min(now, deadline))
    except RollbookError as exc:
        return replace(base, state=Recovery.WATCHING, error=f"signal unreadable: {exc.message}")
    if recovered_at is not None:
        if record:
            from console.lifecycle import mitigated

            what = (
                f"{rule.signal} {format_signal(rule.signal, value)}"
                if rule.signal
                else f"{rule.alert or 'the alert'} cleared"
            )
            mitigated(
                ws.store,
                inc.id,
                actor="rollbook",
                at=now,
                observed_at=recovered_at,
                message=f"mitigated: {what} ({rule.needs()}) since "
                f"{recovered_at:%H:%M:%S} UTC, after the {p.get('action')}",
                payload={
                    "watch_id": p.get("watch_id"),
                    "rule": rule.to_dict(),
                    "value": value,
                    "observed_at": recovered_at.isoformat(),
                },
            )
        return replace(
            base, state=Recovery.RECOVERED, value=value, recovered_at=recovered_at, streak=streak
        )
    if now >= deadline:
        options = _next_options(ws, inc, str(p.get("action") or ""))
        if record:
            _record_not_recovered(ws, inc, p, rule, value, options, now)
        return replace(
            base,
            state=Recovery.NOT_RECOVERED,
            value=value,
            streak=streak,
            next_options=tuple(options),
        )
    return replace(base, state=Recovery.WATCHING, value=value, streak=streak)


def _record_not_recovered(
    ws: Workspace,
    inc: Incident,
    p: dict[str, Any],
    rule: RecoveryRule,
    value: float | None,
    options: list[str],
    now: datetime,
) -> None:
    shown = (
        f"{rule.signal} still {format_signal(rule.signal, value)}"
        if rule.signal
        else f"{rule.alert or 'the alert'} still firing"
    )
    nxt = f"; next: {'; '.join(options)}" if options else ""

    def decide(current: Incident) -> list[Any]:
        from console.store import Change

        already = [
            e
            for e in ws.store.events(inc.id, kind_prefix="recovery.not")
            if e.payload.get("watch_id") == p.get("watch_id")
        ]
        if already or current.mitigated_at is not None:
            return []
        return [
            Change(
                EventKind.RECOVERY_NOT_RECOVERED,
                f"NOT RECOVERED after the {p.get('action')}: {shown} after "
                f"{rule.deadline_minutes:g} min (needs {rule.needs()}){nxt}",
                payload={
                    "watch_id": p.get("watch_id"),
                    "value": value,
                    "rule": rule.to_dict(),
                    "next_options": options,
                },
            )
        ]

    ws.store.transition(inc.id, decide, actor="rollbook", at=now)


def _evaluate(
    ws: Workspace, inc: Incident, rule: RecoveryRule, start: datetime, end: datetime
) -> tuple[datetime | None, float | None, int]:
    """``(recovered_at, latest value, good minutes in a row)`` over [start, end]."""
    if rule.signal is None:
        firing = [
            a
            for a in ws.backends.metrics.active_alerts()
            if a.model == inc.model
            and a.state == "firing"
            and (rule.alert is None or a.name == rule.alert)
        ]
        return (None if firing else end), None, 0 if firing else 1
    points = ws.backends.metrics.query_range(rule.signal, inc.model, start, end, step_seconds=60)
    streak, value = 0, None
    for pt in points:
        if pt.at < start:
            continue
        value = pt.value
        streak = streak + 1 if rule.good(pt.value) else 0
        if streak >= max(1, rule.consecutive):
            return pt.at, value, streak
    return None, value, streak


def _latest(ws: Workspace, inc: Incident, rule: RecoveryRule, now: datetime) -> float | None:
    if rule.signal is None:
        return None
    try:
        return ws.backends.metrics.query(rule.signal, inc.model, at=now)
    except RollbookError:
        return None


def _next_options(ws: Workspace, inc: Incident, action: str) -> list[str]:
    from console.actions.targets import runbook_alternatives

    try:
        return runbook_alternatives(ws, inc.id, exclude=action)
    except RollbookError:
        return []


def watch(
    ws: Workspace,
    incident_id: str,
    *,
    poll_seconds: float = 10.0,
    on_update: Callable[[RecoveryWatch], None] | None = None,
) -> RecoveryWatch | None:
    """Observe until the watch ends (RECOVERED or NOT RECOVERED). On a manual clock (tests)
    simulated time moves ``poll_seconds`` per round; otherwise the environment's clock is
    waited on (wall time live, simulated time in a sped-up demo world)."""
    from console.clock import ManualClock

    last = None
    while True:
        w = observe(ws, incident_id)
        if w is None:
            return None
        if on_update is not None and (last is None or w.line() != last):
            on_update(w)
            last = w.line()
        if w.done or w.state is Recovery.UNKNOWN:
            return w
        if isinstance(ws.clock, ManualClock):
            ws.clock.advance(seconds=poll_seconds)
        else:
            time.sleep(poll_seconds)
