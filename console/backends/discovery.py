"""Find plugins through the ``rollbook.plugins`` entry-point group.

Names are listed without importing anything; only the plugins an environment uses are
imported. A plugin that fails to import is reported, never fatal for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from console.backends.plugin import Plugin
from console.errors import ConfigError

GROUP = "rollbook.plugins"


@dataclass(frozen=True)
class PluginStatus:
    name: str
    target: str  # "module:attribute"
    distribution: str
    plugin: Plugin | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.plugin is not None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "target": self.target,
            "distribution": self.distribution,
            "ok": self.ok,
            "error": self.error,
            "roles": sorted(self.plugin.roles) if self.plugin else [],
            "description": self.plugin.description if self.plugin else "",
        }


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)  # first wins, like importlib's own resolution
    return found


def plugin_names() -> list[str]:
    """Installed plugin names, without importing any of them."""
    return sorted(_entry_points())


@cache
def _load(name: str) -> PluginStatus:
    ep = _entry_points().get(name)
    if ep is None:
        return PluginStatus(name, "", "", None, "not installed")
    dist = ep.dist.name if ep.dist is not None else ""
    try:
        obj = ep.load()
    except Exception as exc:  # a broken plugin must not take the console down
        return PluginStatus(name, ep.value, dist, None, f"{type(exc).__name__}: {exc}")
    if not isinstance(obj, Plugin):
        return PluginStatus(
            name,
            ep.value,
            dist,
            None,
            f"entry point is a {type(obj).__name__}, not a rollbook Plugin",
        )
    return PluginStatus(name, ep.value, dist, obj, None)


def load_plugin(name: str, *, config_path: object = None, key: str = "") -> Plugin:
    status = _load(name)
    if status.plugin is None:
        raise ConfigError(
            config_path,
            key or None,
            f"plugin {name!r} unavailable: {status.error}",
            hint=f"installed plugins: {', '.join(plugin_names()) or 'none'}",
        )
    return status.plugin


def plugin_report() -> list[PluginStatus]:
    """Every installed plugin, imported, with its error if it failed."""
    return [_load(name) for name in plugin_names()]


def clear_cache() -> None:
    _load.cache_clear()
