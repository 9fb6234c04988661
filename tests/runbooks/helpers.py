"""Test helpers: inject a scenario into the embedded world and open its incident."""

from __future__ import annotations

from typing import Any

from console.runbooks.context import StepContext
from console.runbooks.registry import CHECKS, load_registries
from console.runbooks.selection import open_incident

SEVERITY = {"critical": 0, "warning": 1}


def open_scenario(ws, scenario: str, **inject: Any):
    """Inject ``scenario`` (default onset: its own lead time before now) and open the
    incident its most severe alert raises, with the runbook it selects."""
    world = ws.backends.world
    facts = world.inject(scenario, **inject)
    world.advance()
    alerts = sorted(
        (a for a in ws.backends.metrics.active_alerts() if a.model == facts["model"]),
        key=lambda a: (SEVERITY.get(a.severity, 2), a.starts_at),
    )
    assert alerts, f"{scenario}: no alert fired"
    facts = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in facts.items()}
    inc, rb, created = open_incident(
        ws, alerts[0], side_alerts=alerts[1:], data={"scenario": scenario, "facts": facts}
    )
    assert created
    return inc, rb


def run_check(ws, incident_id: str, name: str, **params: Any):
    load_registries()
    ctx = StepContext(ws, ws.store.get(incident_id))
    return CHECKS[name].fn(ctx, params)
