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
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from console.backends.types import Alert
from console.errors import ActionRefused, NotFound, RollbookError
from console.incidents import most_severe_first
from console.runbooks.engine import Engine
from console.runbooks.scoring import DrillResult, drill_result, drill_targets, score, watch_alerts
from console.store import Incident
from console.workspace import Workspace

AUTO_ACTOR = "auto"
DETECT_DEADLINE = timedelta(hours=8)


def _firing(ws: Workspace, model: str, since: datetime) -> list[Alert]:
    alerts = [
        a
        for a in ws.backends.metrics.active_alerts()
        if a.model == model and a.state == "firing" and a.starts_at >= since
    ]
    return most_severe_first(alerts)


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
    progress: Callable[[str], None] | None = None,
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
    if progress is not None:
        progress(f"{scenario} injected at {onset:%H:%M:%S} UTC; waiting for its alert…")
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
            "targets": drill_targets(ws, rb),
        },
    )
    if not auto:
        return drill_result(ws, inc.id, rb, scenario, auto=False, passed=None)
    Engine(ws, inc.id, runbook=rb).run_auto(pace_s=pace_s)
    watch_alerts(ws, inc.id)
    result = score(ws, inc.id, auto=True)
    _sync_world_clock(ws)
    return result


def _sync_world_clock(ws: Workspace) -> None:
    """An auto drill ran the world ahead on a manual clock. When that is ahead of the
    world's own (persisted, scaled) clock, re-anchor the persisted clock at the drill's end
    so later readers — the TUI, the next command — do not read behind the drill's data."""
    from console.clock import ManualClock
    from console.workspace import open_workspace

    world = ws.backends.world
    if not isinstance(ws.clock, ManualClock) or world is None or not hasattr(world, "set_speed"):
        return
    with contextlib.suppress(RollbookError, AttributeError):
        with open_workspace(ws.env.name, config=ws.config) as live:
            behind = live.backends.world is not None and live.backends.world.now() < ws.now()
        speed = getattr(world, "speed", None)  # a capability of scaled-time worlds only
        if behind and isinstance(speed, int | float):
            world.set_speed(float(speed))  # re-anchors the scaled clock at the drill's now


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
