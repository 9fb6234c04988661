"""Scoring a drill: the measured times against the targets, and whether the service
recovered.

The times are scored by the one scorer of drill times, ``console.reports.drill.score_drill``
(time to detect, acknowledge, mitigation applied and mitigate; the drill report scores the
same way). Targets come from the config's ``[drill]`` table (minutes); a runbook's
``drill.targets`` override them for its own slow-burning faults. Recovered means no alert for
the model is still firing once the drill ends and every waiting check (``recovery``,
``alert_cleared``) of the runbook passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from console.errors import ActionRefused, RollbookError
from console.reports.metrics import DRILL_TARGET_KEYS as CONFIG_TARGETS
from console.runbooks.engine import Engine, StepView
from console.store import Incident
from console.workspace import Workspace

WATCH_LIMIT = timedelta(minutes=90)
RECOVERY_CHECKS = ("recovery", "alert_cleared")


@dataclass
class DrillResult:
    scenario: str
    incident_id: str | None
    runbook: str | None
    env: str
    auto: bool
    passed: bool | None  # None while a hand-driven drill is still running
    measured: dict[str, float | None] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    recovered: bool | None = None
    reasons: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)

    @property
    def time_to_mitigation_applied(self) -> float | None:
        """Minutes from detection to the first change for the incident read back."""
        return self.measured.get("mitigation_applied_min")

    @property
    def time_to_mitigate(self) -> float | None:
        """Minutes from detection to the impact observed to stop."""
        return self.measured.get("mitigate_min")

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            **asdict(self),
            "time_to_mitigation_applied": self.time_to_mitigation_applied,
            "time_to_mitigate": self.time_to_mitigate,
        }


def drill_targets(ws: Workspace, runbook) -> dict[str, float]:
    merged = {**ws.config.drill_targets, **(runbook.drill_targets if runbook else {})}
    return {CONFIG_TARGETS[k]: float(v) for k, v in merged.items() if k in CONFIG_TARGETS}


def watch_alerts(ws: Workspace, incident_id: str, *, limit: timedelta = WATCH_LIMIT) -> None:
    """After the runbook ends, keep watching the model's alerts on a manual clock (five
    minutes at a time, at most ``limit``) so alerts on trailing windows — an hourly
    z-score — are seen to clear, each recorded as ``alert.resolved`` when it does."""
    from console.clock import ManualClock
    from console.runbooks.selection import sync_alerts

    clock = ws.clock
    if not isinstance(clock, ManualClock):
        return
    model = ws.store.get(incident_id).model
    end = ws.now() + limit
    while True:
        sync_alerts(ws, incident_id)
        firing = [
            a
            for a in ws.backends.metrics.active_alerts()
            if a.model == model and a.state == "firing"
        ]
        if not firing or ws.now() >= end:
            return
        clock.advance(seconds=300)


def score(ws: Workspace, incident_id: str, *, auto: bool = False) -> DrillResult:
    """Score a drill incident and record the verdict (``drill.scored``): the times as
    ``score_drill`` scores them, and passed only when the service recovered too."""
    from console.reports.drill import score_drill
    from console.runbooks.loader import workspace_library
    from console.runbooks.selection import sync_alerts

    inc = ws.store.get(incident_id.upper())
    if not inc.drill:
        raise ActionRefused(f"{inc.id} is not a drill", hint="only drill incidents are scored")
    try:
        rb = workspace_library(ws.config).get(inc.runbook) if inc.runbook else None
    except RollbookError:
        rb = None
    try:
        sync_alerts(ws, inc.id)
        still = [
            a.name
            for a in ws.backends.metrics.active_alerts()
            if a.model == inc.model and a.state == "firing"
        ]
    except RollbookError as exc:
        still = [f"(alerts unreadable: {exc.message})"]
    inc = ws.store.get(inc.id)
    targets = drill_targets(ws, rb)
    timed = score_drill(inc, targets)
    measured, reasons, passed = timed.measured, list(timed.reasons), timed.passed
    checks = _recovery_checks(ws, inc.id)
    recovered = not still and all(checks.values())
    if still:
        reasons.append(f"not recovered: still firing: {', '.join(still)}")
    failed = [sid for sid, ok in checks.items() if not ok]
    if failed:
        reasons.append(f"not recovered: recovery checks failed: {', '.join(failed)}")
    if recovered:
        reasons.append(
            "recovered: no alert firing for the model"
            + (f"; recovery checks passed ({', '.join(checks)})" if checks else "")
        )
    cleared = _cleared(ws, inc)
    if cleared:
        reasons.append("alerts cleared: " + ", ".join(cleared))
    passed = passed and recovered
    ws.store.append(
        inc.id,
        "drill.scored",
        f"drill {'PASSED' if passed else 'FAILED'}",
        actor=ws.actor,
        at=ws.now(),
        payload={
            "passed": passed,
            "measured": measured,
            "targets": targets,
            "recovered": recovered,
            "reasons": reasons,
        },
    )
    return drill_result(
        ws,
        inc.id,
        rb,
        inc.data.get("scenario", ""),
        auto=auto,
        passed=passed,
        measured=measured,
        targets=targets,
        recovered=recovered,
        reasons=reasons,
    )


def _cleared(ws: Workspace, inc: Incident) -> list[str]:
    """``"NAME after N min"`` for each alert that resolved, minutes from detection."""
    out = []
    for ev in ws.store.events(inc.id, kind_prefix="alert.resolved"):
        mins = (ev.ts - (inc.detected_at or ev.ts)).total_seconds() / 60.0
        out.append(f"{ev.payload.get('name', '?')} after {mins:.0f} min")
    return out


def _recovery_checks(ws: Workspace, incident_id: str) -> dict[str, bool]:
    last: dict[str, bool] = {}
    for ev in ws.store.events(incident_id, kind_prefix="step.finished"):
        p = ev.payload
        if p.get("check") in RECOVERY_CHECKS and p.get("state") in ("passed", "failed"):
            last[p["step"]] = p["state"] == "passed"
    return last


def drill_result(
    ws: Workspace,
    incident_id: str,
    rb,
    scenario: str,
    *,
    auto: bool,
    passed: bool | None,
    **kw: Any,
) -> DrillResult:
    from console.reports.metrics import METRIC_DEFINITIONS

    inc = ws.store.get(incident_id)
    events = ws.store.events(incident_id)
    phases = ["detect"] + [
        str(e.payload["to"]) for e in events if e.kind == "phase.changed" and e.payload.get("to")
    ]
    steps = [_step_row(v) for v in Engine(ws, incident_id, runbook=rb).steps()] if rb else []
    timeline = [
        {"ts": e.ts.isoformat(), "kind": e.kind, "actor": e.actor, "message": e.message}
        for e in events
    ]
    kw.setdefault("targets", drill_targets(ws, rb))
    return DrillResult(
        scenario,
        inc.id,
        inc.runbook,
        ws.env.name,
        auto,
        passed,
        phases=phases,
        steps=steps,
        timeline=timeline,
        facts=inc.data.get("facts", {}),
        definitions=dict(METRIC_DEFINITIONS),
        **kw,
    )


def _step_row(v: StepView) -> dict[str, Any]:
    return {
        "id": v.id,
        "phase": v.phase,
        "kind": v.kind,
        "title": v.title,
        "state": v.state,
        "summary": v.summary,
        "values": v.values,
        "answer": v.answer,
        "started_at": v.started_at,
        "finished_at": v.finished_at,
    }
