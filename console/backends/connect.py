"""Open the backends an environment names: one object per role, sharing a context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from console.backends.discovery import load_plugin
from console.backends.interfaces import Backend, Metrics, PredictionLog, Registry, Traffic, World
from console.backends.plugin import PluginContext
from console.clock import Clock, SystemClock
from console.config import Config, EnvironmentConfig
from console.errors import ConfigError

REQUIRED = ("registry", "metrics", "traffic")
#: The interface each role's backend implements.
ROLES: dict[str, type[Backend]] = {
    "registry": Registry,
    "metrics": Metrics,
    "traffic": Traffic,
    "predictions": PredictionLog,
    "world": World,
}


class _WorldClock:
    def __init__(self, world: World) -> None:
        self._world = world

    def now(self) -> datetime:
        return self._world.now()


@dataclass
class Backends:
    env: EnvironmentConfig
    registry: Registry
    metrics: Metrics
    traffic: Traffic
    predictions: PredictionLog | None
    world: World | None
    clock: Clock
    context: PluginContext | None = field(repr=False, default=None)

    def close(self) -> None:
        seen: set[int] = set()
        for b in (self.registry, self.metrics, self.traffic, self.predictions, self.world):
            if b is not None and id(b) not in seen:
                seen.add(id(b))
                b.close()

    def __enter__(self) -> Backends:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(config: Config, env_name: str | None = None, *, clock: Clock | None = None) -> Backends:
    env = config.env(env_name)
    ctx = PluginContext(
        env_name=env.name, data_dir=config.data_dir, config_path=config.path, clock=clock
    )
    made: dict[str, Backend] = {}
    for role in ROLES:
        rc = env.role(role)
        if rc is None:
            if role in REQUIRED:
                raise ConfigError(
                    config.path,
                    f"env.{env.name}.{role}",
                    "no plugin configured",
                    hint=f'add {role} = "embedded" (or another plugin)',
                )
            continue
        key = f"env.{env.name}.{role}"
        plugin = load_plugin(rc.plugin, config_path=config.path, key=key)
        factory = plugin.roles.get(role)
        if factory is None:
            if role in REQUIRED:
                raise ConfigError(
                    config.path,
                    key,
                    f"plugin {rc.plugin!r} does not serve the {role} role",
                    hint=f"it serves: {', '.join(sorted(plugin.roles))}",
                )
            continue
        allowed = plugin.options.get(role)
        if allowed is not None:
            for opt in rc.options:
                if opt not in allowed:
                    raise ConfigError(
                        config.path,
                        f"{key}.{opt}",
                        f"unknown option for plugin {rc.plugin!r}",
                        hint=f"known: {', '.join(allowed) or 'none'}",
                    )
        made[role] = factory(ctx, rc.options)
    registry, metrics, traffic = made["registry"], made["metrics"], made["traffic"]
    predictions, world = made.get("predictions"), made.get("world")
    # A factory that returns something else is a broken plugin: say so here rather than
    # with an AttributeError deep inside the first command that uses it.
    if not isinstance(registry, Registry):
        raise _not_a(registry, "registry", config, env.name)
    if not isinstance(metrics, Metrics):
        raise _not_a(metrics, "metrics", config, env.name)
    if not isinstance(traffic, Traffic):
        raise _not_a(traffic, "traffic", config, env.name)
    if predictions is not None and not isinstance(predictions, PredictionLog):
        raise _not_a(predictions, "predictions", config, env.name)
    if world is not None and not isinstance(world, World):
        raise _not_a(world, "world", config, env.name)
    effective = clock or (_WorldClock(world) if world is not None else SystemClock())
    return Backends(
        env=env,
        registry=registry,
        metrics=metrics,
        traffic=traffic,
        predictions=predictions,
        world=world,
        clock=effective,
        context=ctx,
    )


def _not_a(backend: Backend, role: str, config: Config, env: str) -> ConfigError:
    kind = ROLES[role].__name__
    return ConfigError(
        config.path,
        f"env.{env}.{role}",
        f"the plugin made a {type(backend).__name__}, which is not a {kind}",
        hint=f"the plugin is broken: its {role} factory must return a "
        f"console.backends.interfaces.{kind}",
    )
