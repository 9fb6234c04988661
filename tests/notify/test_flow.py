"""Whole incidents on the embedded demo world, told to the Slack and PagerDuty STUBS
(loopback servers checking the documented contracts — not the real services): every
message in order in one thread, the page kept in step, stakeholder updates from the CLI and
in the post-mortem, drills to drill channels only, and a hanging service that holds no
action and no command's exit."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from console import mitigation
from console.clock import ManualClock
from console.demo import start_demo
from console.enums import ActionKind, ActionStatus
from console.notify.updates import post_update
from console.runbooks.engine import Engine
from console.workspace import open_workspace
from tests.conftest import T0
from tests.notify.conftest import notify_toml
from tests.notify.stubs import Answer


def headlines(slack) -> list[str]:
    return [m["text"].splitlines()[0] for m in slack.messages]


def test_a_whole_demo_incident_in_order_in_one_thread(
    world_home, slack, pagerduty, secrets, tmp_path
):
    (world_home / "config.toml").write_text(notify_toml(slack, pagerduty))
    with open_workspace("demo", clock=ManualClock(T0)) as ws:
        inc = start_demo(ws).incident
        assert inc is not None
        Engine(ws, inc.id).run_auto(pace_s=30)
        result = post_update(ws, inc.id, "Scores are back to normal; the pipeline fix is live.")
        assert [n.state for n in result.deliveries] == ["sent"]
        assert result.deliveries[0].thread == slack.messages[0]["ts"]
    from console.cli.main import main

    pm = tmp_path / "pm.md"
    try:
        main(["postmortem", inc.id, "-o", str(pm)])
    except SystemExit as done:
        assert not done.code

    root = slack.messages[0]
    assert root["thread_ts"] is None
    assert all(m["thread_ts"] == root["ts"] for m in slack.messages[1:])  # one thread
    expected = [
        f"SEV2 {inc.id} opened — churn:",
        f"{inc.id} acknowledged by",
        f"{inc.id} mitigation starting: pause churn batch job",
        f"{inc.id} APPLIED: churn batch job paused",
        f"{inc.id} RECOVERED: impact stopped",
        f"{inc.id} mitigation starting: resume churn batch job",
        f"{inc.id} APPLIED: churn batch job resumed",
        f"{inc.id} resolved — churn:",
        f"{inc.id} update from",
        f"{inc.id} post-mortem written by",
    ]
    got = headlines(slack)
    assert len(got) == len(expected), got
    for line, start in zip(got, expected, strict=True):
        assert line.startswith(start), (line, start)
    assert str(pm.resolve()) in slack.messages[-1]["text"]  # the post-mortem's path
    assert "Scores are back to normal" in slack.messages[-2]["text"]
    assert not any("DRILL" in h for h in got)
    # the page: triggered on open, acknowledged, resolved — one dedup_key
    (key, alert), *others = pagerduty.alerts.items()
    assert others == [] and key.startswith(f"rollbook-{inc.id}-")
    assert [e["event_action"] for e in alert["events"]] == ["trigger", "acknowledge", "resolve"]
    assert slack.violations == [] and pagerduty.violations == []
    # the post-mortem lists the update and where it went; delivery mechanics are not rows
    text = pm.read_text()
    assert "### Stakeholder updates" in text
    assert "Scores are back to normal; the pipeline fix is live." in text
    assert "team (sent)" in text
    assert "notify." not in text


def test_update_from_the_cli(world_home, slack, pagerduty, secrets, rollbook_home):
    (world_home / "config.toml").write_text(notify_toml(slack, pagerduty))
    with open_workspace("demo") as ws:  # the world's own clock, like the CLI's
        inc = ws.store.create_incident(
            title="prices are zero", model="pricing", severity="SEV1", env="demo",
            actor="ana", at=ws.now(),
        )  # fmt: skip
    env = {**os.environ, "ROLLBOOK_HOME": str(rollbook_home)}
    run = subprocess.run(
        [sys.executable, "-m", "console", "update", inc.id, "Rolled", "back;", "watching."],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"Update recorded on {inc.id}" in run.stdout
    assert "team: sent (" in run.stdout and "in the incident's thread" in run.stdout
    assert headlines(slack)[-1] == f"{inc.id} update from tester"
    assert "Rolled back; watching." in slack.messages[-1]["text"]
    assert slack.messages[-1]["thread_ts"] == slack.messages[0]["ts"]
    assert len(pagerduty.alerts) == 1  # the page was triggered by the opening; no update
    assert [e["event_action"] for e in next(iter(pagerduty.alerts.values()))["events"]] == [
        "trigger"
    ]
    bad = subprocess.run(
        [sys.executable, "-m", "console", "update", "INC-0999", "x", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 4 and '"exit_code": 4' in bad.stdout


def test_a_drill_tells_only_drill_channels_and_says_drill(
    world_home, slack, pagerduty, secrets, monkeypatch
):
    monkeypatch.setenv("SLACK_WEBHOOK", slack.webhook_url)
    toml = notify_toml(slack, pagerduty) + (
        '\n[env.demo.notify.drills]\nplugin = "slack"\nwebhook_url_env = "SLACK_WEBHOOK"\n'
        "drills = true\n"
    )
    (world_home / "config.toml").write_text(toml)
    from console.runbooks.drills import run_drill

    with open_workspace("demo", clock=ManualClock(T0)) as ws:
        result = run_drill(ws, "pricing-zero", auto=True)
        assert result.passed
    assert slack.messages == [] and pagerduty.requests == []  # not the real channels
    posts = slack.webhook_posts
    assert len(posts) >= 6
    assert all(p["text"].startswith("[DRILL] ") for p in posts)
    assert all("DRILL" in p["blocks"][-1]["elements"][0]["text"] for p in posts)
    assert slack.violations == []


def test_a_hanging_service_holds_no_action_and_no_exit(world_home, slack, pagerduty, secrets):
    (world_home / "config.toml").write_text(
        notify_toml(slack, pagerduty, settings="timeout = 5\nflush_seconds = 2\n")
    )
    slack.script(*[Answer(hang=True)] * 20)
    pagerduty.script(*[Answer(hang=True)] * 20)
    with open_workspace("demo", clock=ManualClock(T0)) as ws:
        inc = start_demo(ws).incident
        assert inc is not None
        time.sleep(0.5)  # let the senders start their (hanging) first requests
        started = time.monotonic()
        res = mitigation.run(
            ws, mitigation.Request(ActionKind.PAUSE_BATCH, "churn"), incident_id=inc.id
        )
        took = time.monotonic() - started
        assert res.status is ActionStatus.APPLIED
        assert took < 2.0, took  # the action never waits for a message
        closing = time.monotonic()
    closed = time.monotonic() - closing
    assert closed < 2 + 1.0, closed  # flush_seconds bounds the wait at exit
    assert slack.messages == []  # nothing got through — and nothing was lost:
    with open_workspace("demo", clock=ManualClock(T0)) as ws:
        queued = ws.store.events(inc.id, kind_prefix="notify.queued")
        assert len(queued) >= 5  # opened ×2, mitigation, applied — still on the timeline
    slack.release()
    pagerduty.release()


def test_a_command_exits_within_flush_seconds_while_slack_hangs(
    world_home, slack, secrets, rollbook_home
):
    (world_home / "config.toml").write_text(
        notify_toml(slack, settings="timeout = 5\nflush_seconds = 2\n")
    )
    with open_workspace("demo") as ws:
        inc = ws.store.create_incident(
            title="prices are zero", model="pricing", severity="SEV1", env="demo",
            actor="ana", at=ws.now(),
        )  # fmt: skip
        ws.notifications.flush(5)  # type: ignore[union-attr]
    assert len(slack.messages) == 1
    slack.script(*[Answer(hang=True)] * 5)
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "console", "update", inc.id, "still", "investigating"],
        env={**os.environ, "ROLLBOOK_HOME": str(rollbook_home)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    took = time.monotonic() - started
    slack.release()
    assert run.returncode == 0, run.stderr
    assert "team: deferred" in run.stdout and "stays queued" in run.stdout  # not lost
    assert took < 12, took  # start-up and imports, plus flush_seconds (2) once — not 5 + 5
