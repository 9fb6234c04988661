"""What a plugin's entry point names: a ``Plugin`` with one factory per role it serves.

A third-party package registers ``[project.entry-points."rollbook.plugins"] name =
"pkg.module:plugin"``; the built-ins in ``plugins/`` do exactly the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.backends.interfaces import Backend
from console.clock import Clock
from console.errors import ConfigError


@dataclass
class PluginContext:
    """What a factory gets besides its options."""

    env_name: str
    data_dir: Path
    config_path: Path | None = None
    clock: Clock | None = None  # set by tests/drills to control time; plugins may offer their own
    shared: dict[str, Any] = field(default_factory=dict)  # one object shared across roles

    def secret(self, options: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
        """Read the secret whose *environment variable name* is in ``options[key + "_env"]``.

        Secrets never live in the config file, only the variable's name does."""
        var = options.get(f"{key}_env")
        if not var:
            if required:
                raise ConfigError(
                    self.config_path,
                    f"env.{self.env_name}.{key}_env",
                    f"needs the name of an environment variable holding the {key}",
                )
            return None
        value = os.environ.get(str(var))
        if value is None and required:
            raise ConfigError(
                self.config_path,
                f"env.{self.env_name}.{key}_env",
                f"environment variable {var} is not set",
                hint=f"export {var}=…",
            )
        return value


Factory = Callable[[PluginContext, Mapping[str, Any]], Backend]


@dataclass(frozen=True)
class Plugin:
    name: str
    description: str
    roles: Mapping[str, Factory]
    #: Option names this plugin understands per role (documentation and config validation).
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
