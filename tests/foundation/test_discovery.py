"""Plugins are found through entry points; a broken one is reported, not fatal."""

import pytest

from console.backends import discovery
from console.errors import ConfigError


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch):
    """A distribution on sys.path registering one broken and one good extra plugin."""
    site = tmp_path / "site"
    dist = site / "rollbook_fake-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rollbook-fake\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[rollbook.plugins]\n"
        "broken = rollbook_fake_broken:plugin\n"
        "notaplugin = rollbook_fake_good:something_else\n"
    )
    (site / "rollbook_fake_broken.py").write_text("raise ImportError('needs libfoo')\n")
    (site / "rollbook_fake_good.py").write_text("something_else = 42\n")
    monkeypatch.syspath_prepend(str(site))
    discovery.clear_cache()
    yield
    discovery.clear_cache()


def test_builtin_embedded_is_registered_like_any_plugin():
    assert "embedded" in discovery.plugin_names()
    status = {s.name: s for s in discovery.plugin_report()}["embedded"]
    assert status.ok, status.error
    assert {"registry", "metrics", "traffic", "predictions"} <= set(status.plugin.roles)


def test_listing_names_imports_nothing(fake_plugins):
    import sys

    names = discovery.plugin_names()
    assert {"broken", "notaplugin", "embedded"} <= set(names)
    assert "rollbook_fake_broken" not in sys.modules


def test_broken_plugin_is_reported_not_fatal(fake_plugins):
    report = {s.name: s for s in discovery.plugin_report()}
    assert not report["broken"].ok
    assert "ImportError: needs libfoo" in report["broken"].error
    assert not report["notaplugin"].ok
    assert "not a rollbook Plugin" in report["notaplugin"].error
    assert report["embedded"].ok


def test_environment_using_broken_plugin_gets_config_error(fake_plugins, rollbook_home):
    from console.config import load
    from console.workspace import open_workspace

    (rollbook_home / "config.toml").write_text(
        '[env.bad]\nregistry = "broken"\nmetrics = "embedded"\ntraffic = "embedded"\n'
    )
    with pytest.raises(ConfigError) as err:
        open_workspace("bad", config=load())
    assert err.value.key == "env.bad.registry"
    assert "needs libfoo" in str(err.value)


def test_plugins_command_lists_broken_plugin(fake_plugins):
    from click.testing import CliRunner

    from console.cli.main import cli

    r = CliRunner().invoke(cli, ["plugins", "--json"])
    assert r.exit_code == 0, r.output
    import json

    data = json.loads(r.output)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["broken"]["ok"] is False
    assert by_name["embedded"]["ok"] is True
    assert data["environments"]["demo"]["registry"] == "embedded"
