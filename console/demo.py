"""The embedded demo: a simulated fleet with an incident already unfolding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.errors import NotFound, RollbookError
from console.incidents import most_severe_first
from console.store import Incident
from console.workspace import Workspace

DEFAULT_SCENARIO = "athena-null-feature"


@dataclass(frozen=True)
class DemoState:
    scenario: str
    facts: dict[str, Any]
    incident: Incident | None
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "facts": self.facts,
            "incident": self.incident.to_dict() if self.incident else None,
            "created": self.created,
        }


def start_demo(
    ws: Workspace,
    scenario: str = DEFAULT_SCENARIO,
    *,
    drill: bool = False,
    speed: float | None = None,
) -> DemoState:
    """Inject ``scenario`` (idempotent) and open (or find) the incident its alert raises."""
    world = ws.backends.world
    if world is None:
        raise RollbookError(
            f"environment {ws.env.name!r} has no simulated world to inject into",
            hint="use the demo environment: rollbook demo --env demo",
        )
    known = world.scenarios()
    if scenario not in known:
        raise NotFound(
            f"unknown scenario {scenario!r}", hint=f"scenarios: {', '.join(sorted(known))}"
        )
    if speed is not None:
        try:
            world.set_speed(speed)
        except NotImplementedError:
            raise RollbookError(f"the {ws.env.name!r} world cannot change its speed") from None
    facts = world.inject(scenario)
    world.advance()
    alerts = [
        a
        for a in ws.backends.metrics.active_alerts()
        if a.model == facts.get("model") and a.state == "firing"
    ]
    if not alerts:
        return DemoState(scenario, facts, None, False)
    alerts = most_severe_first(alerts)
    from console.runbooks.selection import open_incident

    onset = facts.get("onset")
    incident, _runbook, created = open_incident(
        ws,
        alerts[0],
        drill=drill,
        data={"scenario": scenario, "facts": facts},
        side_alerts=alerts[1:],
        onset_at=onset if isinstance(onset, datetime) else None,
    )
    return DemoState(scenario, facts, incident, created)
