"""Fixtures: the Slack and PagerDuty STUBS (``stubs.py``) on free loopback ports, a config
whose demo environment notifies them, and the embedded world seeded once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console.clock import ManualClock
from tests.conftest import T0
from tests.notify.stubs import PD_ROUTING_KEY, SLACK_TOKEN, PagerDutyStub, SlackStub

WORLD_FILE = "embedded-demo.db"


@pytest.fixture
def slack():
    stub = SlackStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def pagerduty():
    stub = PagerDutyStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def secrets(monkeypatch):
    """The stubs' fake credentials, in the environment variables the config names."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("PD_ROUTING_KEY", PD_ROUTING_KEY)


def notify_toml(
    slack: SlackStub | None = None,
    pagerduty: PagerDutyStub | None = None,
    *,
    env: str = "demo",
    drills: bool = False,
    webhook: bool = False,
    settings: str = "timeout = 2\nbackoff = 0.2\nflush_seconds = 8\n",
    slack_extra: str = "",
    pd_extra: str = "",
) -> str:
    """``[env.ENV.notify]`` for the stubs: Slack with the bot token (or the webhook) and
    PagerDuty, both as drill channels when ``drills``."""
    out = f"[env.{env}.notify]\n{settings}"
    flag = "drills = true\n" if drills else ""
    if slack is not None:
        how = (
            'webhook_url_env = "SLACK_WEBHOOK"\n'
            if webhook
            else f'token_env = "SLACK_BOT_TOKEN"\nchannel = "C0STUB"\napi_url = "{slack.api_url}"\n'
        )
        out += f'\n[env.{env}.notify.team]\nplugin = "slack"\n{how}{flag}{slack_extra}'
    if pagerduty is not None:
        out += (
            f'\n[env.{env}.notify.pager]\nplugin = "pagerduty"\n'
            f'routing_key_env = "PD_ROUTING_KEY"\nurl = "{pagerduty.enqueue_url}"\n'
            f'client_url = "https://rollbook.example"\n{flag}{pd_extra}'
        )
    return out


@pytest.fixture(scope="session")
def seeded_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo world seeded at T0 (seeding a day of history takes a few seconds)."""
    from plugins.embedded.world import EmbeddedWorld

    path = tmp_path_factory.mktemp("world") / WORLD_FILE
    EmbeddedWorld(path, clock=ManualClock(T0)).close()
    return path


@pytest.fixture
def world_home(seeded_world: Path, rollbook_home: Path) -> Path:
    """ROLLBOOK_HOME with a copy of the seeded world."""
    data = rollbook_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(seeded_world) + suffix)
        if src.exists():
            shutil.copy(src, data / (WORLD_FILE + suffix))
    return rollbook_home
