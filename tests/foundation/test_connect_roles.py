"""connect() checks that each role's backend implements that role's interface: a plugin
whose factory returns something else is named as broken (exit 3), not found out later by an
AttributeError in the first command that uses it."""

from __future__ import annotations

import pytest

from console.backends import connect as connect_module
from console.backends.interfaces import Backend
from console.backends.plugin import Plugin
from console.config import load
from console.errors import ConfigError


class _NotARegistry(Backend):
    """A backend of no role at all."""


def test_a_factory_returning_the_wrong_kind_of_backend_is_a_config_error(
    rollbook_home, monkeypatch
):
    (rollbook_home / "config.toml").write_text(
        'default_env = "odd"\n'
        '[env.odd.registry]\nplugin = "odd"\n'
        '[env.odd.metrics]\nplugin = "embedded"\n'
        '[env.odd.traffic]\nplugin = "embedded"\n'
    )
    real = connect_module.load_plugin

    def load_plugin(name: str, **kw):
        if name == "odd":
            return Plugin("odd", "a broken plugin", {"registry": lambda ctx, opts: _NotARegistry()})
        return real(name, **kw)

    monkeypatch.setattr(connect_module, "load_plugin", load_plugin)
    with pytest.raises(ConfigError) as err:
        connect_module.connect(load())
    assert "env.odd.registry" in str(err.value)
    assert "_NotARegistry, which is not a Registry" in str(err.value)
    assert "console.backends.interfaces.Registry" in (err.value.hint or "")


def test_the_embedded_plugin_passes_the_check(rollbook_home):
    (rollbook_home / "config.toml").write_text("")
    with connect_module.connect(load()) as backends:
        assert backends.world is not None
        assert backends.predictions is not None
