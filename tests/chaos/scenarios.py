"""The actions that change production, each as the CLI runs it on the embedded world, with
the backend calls made slow enough (``break_backend(..., mode="slow")``) that kills spread
over the run land inside its steps, not only between them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.chaos.worlds import copy_home, freeze, home_env


@dataclass(frozen=True)
class Scenario:
    name: str
    action: str  # the ActionKind recorded on the timeline
    model: str
    argv: tuple[str, ...]
    slow: tuple[tuple[str, str, float], ...]  # (role, method, seconds) slow in every process
    speed: float = 1.0  # the world's clock: simulated seconds per wall second
    setup: Callable[[Any], None] | None = None  # preconditions, on the template's workspace
    compare: tuple[str, ...] = ("pointer", "routes")
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _killswitch_rules(ws: Any) -> None:
    from console.actions.killswitch import killswitch

    res = killswitch(ws, "credit-score", level="rules")
    assert res.status == "applied", res.message


def _canary_split(ws: Any) -> None:
    from console.actions.traffic import set_traffic

    res = set_traffic(ws, "credit-score", {"v5": 50.0, "v4": 50.0})
    assert res.status == "applied", res.message


# Writes are slow (the sleep comes before the write), and so are the reads that follow
# them, so a kill can also land after a write and before the step that made it is recorded.
W, R = 0.3, 0.03
TRAFFIC = (("traffic", "set_routes", W), ("traffic", "routes", R))
REGISTRY = (("registry", "set_production", W), ("registry", "production_version", R))

ROLLOUT_ARGV = ("rollout", "fraud", "v22", "--stages", "50,100", "--dwell", "1", "--yes")

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "rollback",
            "rollback",
            "credit-score",
            ("rollback", "credit-score", "--yes", "--timeout", "60"),
            slow=TRAFFIC + REGISTRY,
        ),
        Scenario(
            "killswitch",
            "killswitch",
            "credit-score",
            ("killswitch", "credit-score", "--yes", "--timeout", "60"),
            slow=TRAFFIC,
        ),
        Scenario(
            "restore",
            "restore",
            "credit-score",
            ("restore", "credit-score", "--yes", "--timeout", "60"),
            slow=TRAFFIC,
            setup=_killswitch_rules,
        ),
        Scenario(
            "traffic",
            "traffic",
            "credit-score",
            ("traffic", "credit-score", "v5=50", "v4=50", "--yes", "--timeout", "60"),
            slow=TRAFFIC,
        ),
        Scenario(
            "pointer",
            "pointer",
            "credit-score",
            ("pointer", "credit-score", "v4", "--yes", "--timeout", "60"),
            slow=REGISTRY,
            setup=_canary_split,  # both versions serve: moving the pointer makes no split
        ),
        Scenario(
            "stage",
            "stage",
            "fraud",
            ("stage", "fraud", "v22", "Staging"),
            slow=(("registry", "transition_stage", W), ("registry", "version", R)),
            compare=("pointer", "routes", "stages"),
        ),
        # The rollout's time goes to its stages (slow writes and reads; a dwell waits at
        # least one poll of the clock, 1 s, whatever the world's speed)…
        Scenario(
            "rollout-stages",
            "rollout",
            "fraud",
            ROLLOUT_ARGV,
            slow=(
                ("traffic", "set_routes", 0.5),
                ("registry", "set_production", 0.5),
                ("traffic", "routes", R),
                ("registry", "production_version", R),
            ),
            speed=1200.0,
            notes="kills land mostly in the traffic and registry steps",
        ),
        # …or to its dwells (one simulated minute = 0.5 s; fast writes).
        Scenario(
            "rollout-dwells",
            "rollout",
            "fraud",
            ROLLOUT_ARGV,
            slow=(("traffic", "set_routes", 0.02),),
            speed=120.0,
            notes="kills land mostly while the canary collects traffic",
        ),
    ]
}


def seed_world(home: Path) -> Path:
    """A home with the embedded world seeded (a day of history: about a second)."""
    from console.workspace import open_workspace

    home.mkdir(parents=True)
    with home_env(home), open_workspace("demo", actor="setup"):
        pass
    freeze(home)
    return home


def build_template(
    base: Path,
    home: Path,
    scenario: Scenario,
    *,
    config: str | None = None,
    env: dict[str, str] | None = None,
) -> Path:
    """A home for ``scenario`` made from the seeded ``base``: its preconditions, an open
    incident on its model (so an applied change is recorded as the incident's mitigation),
    its slow backend calls, and the simulated time frozen for copies. ``config`` (and the
    variables in ``env``) put its store elsewhere: PostgreSQL."""
    from console.incidents import open_manual
    from console.workspace import open_workspace

    copy_home(base, home)
    if config is not None:
        (home / "config.toml").write_text(config)
        (home / "data" / "incidents.db").unlink(missing_ok=True)
    with home_env(home, **(env or {})), open_workspace("demo", actor="setup") as ws:
        world = ws.backends.world
        if scenario.setup is not None:
            scenario.setup(ws)
        open_manual(ws, scenario.model, f"chaos: {scenario.name}", severity="SEV2")
        for role, method, delay in scenario.slow:
            world.break_backend(role, method, mode="slow", times=-1, delay_s=delay)
        world.set_speed(scenario.speed)
    freeze(home)
    return home
