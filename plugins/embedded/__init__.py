"""The embedded backend: a deterministic simulated fleet in one SQLite file.

No server needed: ``rollbook demo`` seeds a day of history for five models (churn,
recommendations, credit-score, fraud, pricing), injects a fault, and every role — registry,
metrics, traffic, predictions, world — reads and acts on the same simulated production.

Options (every role): ``path`` (the SQLite file; default
``<data_dir>/embedded-<env>.db``), ``seed`` (int, default 7), ``speed`` (simulated seconds
per wall second for a new world, default 1.0), ``thresholds`` (alert threshold overrides, see
``plugins.embedded.alerts.DEFAULT_THRESHOLDS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.clock import speed_problem
from console.errors import ConfigError

OPTIONS = ("path", "seed", "speed", "thresholds")
SHARED_KEY = "embedded"


def world_for(ctx: PluginContext, options: Mapping[str, Any]):
    """The one ``EmbeddedWorld`` all roles of this connection share (``ctx.shared``)."""
    world = ctx.shared.get(SHARED_KEY)
    if world is not None:
        return world
    from plugins.embedded.world import EmbeddedWorld

    def bad(key: str, problem: str) -> ConfigError:
        return ConfigError(ctx.config_path, f"env.{ctx.env_name}.{key}", problem)

    try:
        seed = int(options.get("seed", 7))
    except (TypeError, ValueError):
        raise bad("seed", f"must be an integer, got {options.get('seed')!r}") from None
    speed = options.get("speed", 1.0)
    if problem := speed_problem(speed):  # NaN, inf, 0, negative, too fast, not a number
        raise bad("speed", problem)
    thresholds = options.get("thresholds") or {}
    if not isinstance(thresholds, Mapping):
        raise bad("thresholds", "must be a table of threshold names to numbers")
    path = options.get("path")
    path = Path(path).expanduser() if path else Path(ctx.data_dir) / f"embedded-{ctx.env_name}.db"
    world = EmbeddedWorld(path, seed=seed, speed=speed, clock=ctx.clock, thresholds=thresholds)
    ctx.shared[SHARED_KEY] = world
    return world


def _registry(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.embedded.registry import EmbeddedRegistry

    return EmbeddedRegistry(world_for(ctx, options))


def _metrics(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.embedded.metrics import EmbeddedMetrics

    return EmbeddedMetrics(world_for(ctx, options))


def _traffic(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.embedded.traffic import EmbeddedTraffic

    return EmbeddedTraffic(world_for(ctx, options))


def _predictions(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.embedded.predictions import EmbeddedPredictionLog

    return EmbeddedPredictionLog(world_for(ctx, options))


def _world(ctx: PluginContext, options: Mapping[str, Any]):
    return world_for(ctx, options)


plugin = Plugin(
    name="embedded",
    description="Simulated fleet in a local SQLite file (demo, drills, tests); no server.",
    roles={
        "registry": _registry,
        "metrics": _metrics,
        "traffic": _traffic,
        "predictions": _predictions,
        "world": _world,
    },
    options={role: OPTIONS for role in ("registry", "metrics", "traffic", "predictions", "world")},
)
