"""Drills: inject a fault into a simulated world, start the clock, open the incident (marked
as a drill) when its alert fires, walk the runbook — by hand, or with ``auto`` by the engine
itself — and score it against the targets.

Scoring: time to detect (onset → alert), to acknowledge and to mitigate (detection → each)
against the config's ``[drill]`` targets (a runbook's ``drill.targets`` override them, for
slow-burning faults), and whether the service recovered: no alert for the model still firing
and every ``recovery`` check of the runbook passed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from console.backends.types import Alert
from console.errors import ActionRefused, NotFound, RollbookError
from console.runbooks.engine import Engine, StepView
from console.store import Incident
from console.workspace import Workspace

CONFIG_TARGETS = {
    "detect_minutes": "detect_min",
    "acknowledge_minutes": "acknowledge_min",
    "mitigate_minutes": "mitigate_min",
}
SEVERITY_RANK = {"critical": 0, "page": 0, "warning": 1, "info": 2}
AUTO_ACTOR = "auto"
DETECT_DEADLINE = timedelta(hours=8)
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

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _targets(ws: Workspace, runbook) -> dict[str, float]:
    merged = {**ws.config.drill_targets, **(runbook.drill_targets if runbook else {})}
    return {CONFIG_TARGETS[k]: float(v) for k, v in merged.items() if k in CONFIG_TARGETS}


def _firing(ws: Workspace, model: str, since: datetime) -> list[Alert]:
    alerts = [
        a
        for a in ws.backends.metrics.active_alerts()
        if a.model == model and a.state == "firing" and a.starts_at >= since
    ]
    return sorted(alerts, key=lambda a: (SEVERITY_RANK.get(a.severity, 3), a.starts_at))


def wait_for_alert(
    ws: Workspace, model: str, onset: datetime, *, deadline: timedelta = DETECT_DEADLINE
) -> list[Alert]:
    """Let simulated time run until an alert for ``model`` fires (started at or after the
    onset). On a manual clock time is advanced: minute by minute for the first half hour,
    then five minutes at a time; on a live clock this polls every two seconds."""
    import time

    from console.clock import ManualClock

    clock = ws.clock
    since = onset - timedelta(minutes=1)
    while True:
        world = ws.backends.world
        if world is not None:
            world.advance()
        alerts = _firing(ws, model, since)
        if alerts:
            return alerts
        elapsed = ws.now() - onset
        if elapsed >= deadline:
            raise RollbookError(
                f"no alert for {model} fired within {deadline} of the fault",
                hint="the monitoring did not detect it: that is a finding",
            )
        if isinstance(clock, ManualClock):
            clock.advance(seconds=60 if elapsed < timedelta(minutes=30) else 300)
        else:
            time.sleep(2.0)


def _open(
    ws: Workspace,
    alerts: list[Alert],
    scenario: str,
    facts: dict[str, Any],
    onset: datetime,
    runbook_id: str | None = None,
) -> tuple[Incident, Any]:
    """A drill always gets a fresh incident (never deduplicated into another one)."""
    from console.incidents import evidence_from_alert
    from console.runbooks.loader import workspace_library
    from console.runbooks.selection import record_alert, select_runbook

    alert = alerts[0]
    lib = workspace_library(ws.config)
    if runbook_id:
        rb = lib.get(runbook_id)
    else:
        rb = select_runbook(lib, model=alert.model, alerts=alerts, scenario=scenario)
    inc = ws.store.create_incident(
        title=f"[drill] {alert.summary}",
        model=alert.model,
        severity=rb.severity,
        env=ws.env.name,
        actor="alerting",
        at=max(ws.now(), alert.starts_at),
        runbook=rb.id,
        drill=True,
        alert_fingerprint=alert.fingerprint,
        onset_at=min(onset, alert.starts_at),
        detected_at=alert.starts_at,
        data={
            "alert": alert.to_dict(),
            "evidence": evidence_from_alert(alert),
            "alert_starts": [alert.starts_at.isoformat()],
            "scenario": scenario,
            "facts": facts,
        },
    )
    for a in alerts:
        record_alert(ws, inc.id, a, "firing")
    return inc, rb


def run_drill(
    ws: Workspace,
    scenario: str,
    *,
    auto: bool = True,
    pace_s: float = 30.0,
    runbook: str | None = None,
) -> DrillResult:
    """Inject ``scenario`` now, wait for its alert, open the drill incident (with
    ``runbook``, else the one the alert selects) and — with ``auto`` — let the engine take
    every step, then score it (a ``drill.scored`` event)."""
    world = ws.backends.world
    if world is None:
        raise ActionRefused(
            f"environment {ws.env.name!r} has no world to inject faults into",
            hint="run drills on the demo environment (--env demo) or a "
            "staging environment whose plugins support injection",
        )
    known = world.scenarios()
    if scenario not in known:
        raise NotFound(
            f"unknown scenario {scenario!r}", hint=f"scenarios: {', '.join(sorted(known))}"
        )
    if any(f.get("scenario") == scenario for f in world.active_faults()):
        raise ActionRefused(
            f"{scenario} is already active in {ws.env.name!r}: a drill needs a clean start",
            hint="finish the open incident first, or drill in a fresh world: "
            "ROLLBOOK_HOME=$(mktemp -d) rollbook drill …",
        )
    if auto:
        ws = replace(ws, actor=AUTO_ACTOR)
    started_by = ws.actor
    onset = ws.now()
    facts = world.inject(scenario, onset=onset)
    facts = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in facts.items()}
    alerts = wait_for_alert(ws, facts.get("model", ""), onset)
    inc, rb = _open(ws, alerts, scenario, facts, onset, runbook)
    ws.store.append(
        inc.id,
        "drill.started",
        f"drill {scenario} ({'auto' if auto else 'by hand'})",
        actor=started_by,
        at=ws.now(),
        payload={
            "scenario": scenario,
            "onset": onset.isoformat(),
            "auto": auto,
            "runbook": rb.id,
            "targets": _targets(ws, rb),
        },
    )
    if not auto:
        return _result(ws, inc.id, rb, scenario, auto=False, passed=None)
    Engine(ws, inc.id, runbook=rb).run_auto(pace_s=pace_s)
    watch_alerts(ws, inc.id)
    result = score(ws, inc.id, auto=True)
    _sync_world_clock(ws)
    return result


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
    """Score a drill incident and record the verdict (``drill.scored``)."""
    from console.reports.metrics import incident_metrics
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
    measured = incident_metrics(inc)
    targets = _targets(ws, rb)
    reasons: list[str] = []
    passed = True
    for key, target in targets.items():
        value = measured.get(key)
        label = key.removesuffix("_min").replace("_", " ")
        if value is None:
            passed = False
            reasons.append(f"time to {label} not measured: the incident never got there")
        elif value > target:
            passed = False
            reasons.append(f"time to {label} {value:.1f} min exceeds the target of {target:g} min")
        else:
            reasons.append(f"time to {label} {value:.1f} min within the target of {target:g} min")
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
    return _result(
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


def _result(
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
    phases = ["detect"] + [e.payload.get("to") for e in events if e.kind == "phase.changed"]
    steps = [_step_row(v) for v in Engine(ws, incident_id, runbook=rb).steps()] if rb else []
    timeline = [
        {"ts": e.ts.isoformat(), "kind": e.kind, "actor": e.actor, "message": e.message}
        for e in events
    ]
    kw.setdefault("targets", _targets(ws, rb))
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


def _sync_world_clock(ws: Workspace) -> None:
    """An auto drill ran the world ahead on a manual clock; re-anchor the world's persisted
    clock at the drill's end so later readers (TUI, CLI) do not read behind its data."""
    from console.clock import ManualClock

    world = ws.backends.world
    if isinstance(ws.clock, ManualClock) and world is not None and hasattr(world, "set_speed"):
        with contextlib.suppress(RollbookError, AttributeError):
            world.set_speed(world.speed)


def open_drill_workspace(env_name: str | None = None, *, auto: bool = True) -> Workspace:
    """A workspace for a drill: with ``auto``, on a manual clock starting at the world's
    own now (so simulated time moves only as the engine acts)."""
    from console.clock import ManualClock
    from console.workspace import open_workspace

    ws = open_workspace(env_name)
    if not auto or ws.backends.world is None:
        return ws
    start = ws.backends.world.now()
    ws.close()
    return open_workspace(env_name, clock=ManualClock(start))
