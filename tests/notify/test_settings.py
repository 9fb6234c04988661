"""``[env.X.notify]``: bad configs name the file and the key; secrets stay out of the file;
a channel that cannot work is kept with its problem instead of failing the environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from console.config import parse
from console.errors import ConfigError
from console.notify.channels import open_channels
from console.notify.model import Topic

PATH = Path("/etc/rollbook/config.toml")


def env(toml: str):
    cfg = parse(tomllib.loads(toml), PATH)
    return cfg, cfg.env("prod")


@pytest.mark.parametrize(
    "toml, key, problem",
    [
        ('[env.prod.notify.team]\nplugin = "slack"\nwebhook_url = "https://hooks.slack.com/x"\n',
         "env.prod.notify.team.webhook_url", "secrets are never stored"),
        ('[env.prod.notify.pager]\nplugin = "pagerduty"\nrouting_key = "0123"\n',
         "env.prod.notify.pager.routing_key", "secrets are never stored"),
        ('[env.prod.notify.team]\nplugin = "slack"\nevents = ["opened", "paged"]\n',
         "env.prod.notify.team.events", "unknown event 'paged'"),
        ('[env.prod.notify.team]\nevents = ["opened"]\n', "env.prod.notify.team.plugin",
         "missing plugin name"),
        ('[env.prod.notify]\nretries = 3\n', "env.prod.notify.retries", "unknown key"),
        ('[env.prod.notify]\nattempts = 0\n', "env.prod.notify.attempts", "expected 1 to 20"),
        ('[env.prod.notify.team]\nplugin = "slack"\nmin_severity = "P1"\n',
         "env.prod.notify.team.min_severity", "must be one of"),
        ('[env.prod.notify]\npostmortem_url = "wiki/pm"\n', "env.prod.notify.postmortem_url",
         "expected an http(s) URL"),
    ],
)  # fmt: skip
def test_bad_notify_config_names_the_key(toml, key, problem):
    with pytest.raises(ConfigError) as err:
        env('[env.prod]\nregistry = "embedded"\n' + toml)
    assert err.value.key == key and problem in err.value.problem and err.value.exit_code == 3


def test_channels_settings_and_defaults(monkeypatch):
    monkeypatch.setenv("PD_KEY", "0123456789abcdef0123456789abcdef")
    cfg, prod = env(
        "[env.prod.notify]\nattempts = 6\ntimeout = 3\n"
        '[env.prod.notify.team]\nplugin = "slack"\ntoken_env = "NOT_SET_ANYWHERE"\n'
        'channel = "C1"\nattempts = 2\n'
        '[env.prod.notify.pager]\nplugin = "pagerduty"\nrouting_key_env = "PD_KEY"\n'
        'min_severity = "SEV2"\n'
    )
    team, pager = prod.notify.channels
    assert (team.retry.attempts, team.retry.timeout_s) == (2, 3.0)  # its own, then the env's
    assert (pager.retry.attempts, pager.min_severity, pager.drills) == (6, "SEV2", False)
    assert pager.takes(Topic.OPENED, drill=False, severity="SEV1")
    assert not pager.takes(Topic.OPENED, drill=False, severity="SEV3")
    assert not pager.takes(Topic.OPENED, drill=True, severity="SEV1")  # not a drill channel
    chans = {c.name: c for c in open_channels(cfg, prod)}
    assert chans["team"].notifier is None and "NOT_SET_ANYWHERE is not set" in str(
        chans["team"].problem
    )
    assert chans["pager"].notifier is not None
    assert chans["pager"].topics() == {
        Topic.OPENED, Topic.SEVERITY, Topic.ACKNOWLEDGED, Topic.RESOLVED
    }  # fmt: skip
    for c in chans.values():
        c.close()


def test_a_channel_asking_for_what_its_service_cannot_say_is_a_problem(monkeypatch):
    monkeypatch.setenv("PD_KEY", "0123456789abcdef0123456789abcdef")
    cfg, prod = env(
        '[env.prod.notify.pager]\nplugin = "pagerduty"\nrouting_key_env = "PD_KEY"\n'
        'events = ["opened", "update"]\n'
        '[env.prod.notify.odd]\nplugin = "slack"\nwebhook_url_env = "X"\ncolour = "red"\n'
        '[env.prod.notify.none]\nplugin = "embedded"\n'
    )
    chans = {c.name: c for c in open_channels(cfg, prod)}
    assert "pagerduty cannot send: update" in str(chans["pager"].problem)
    assert "unknown option for plugin 'slack'" in str(chans["odd"].problem)
    assert "does not serve the notify role" in str(chans["none"].problem)
