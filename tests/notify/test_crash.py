"""A crash between queueing and sending: a child ``rollbook`` process is killed with SIGKILL
while its first Slack and PagerDuty requests hang at the STUBS (loopback servers — not the
real services) and its next messages wait queued behind them. A later process (any command
that opens the environment) finds the queued messages and the attempts without an outcome,
and each message reaches the channel exactly once: Slack's after looking for it in the
channel by its notification id, PagerDuty's by sending again under the same ``dedup_key``
(one alert)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from console.store import open_store
from tests.notify.conftest import notify_toml
from tests.notify.stubs import Answer

CHILD = """
import time
from console import lifecycle
from console.workspace import open_workspace

ws = open_workspace("demo")
lifecycle.acknowledge(ws.store, "INC-0001", actor="ana", at=ws.now())
print("acknowledged", flush=True)
time.sleep(600)  # killed long before
"""


def wait_for(cond, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout:g} s")


@pytest.mark.parametrize(
    "slack_answer",
    [Answer(hang=True), Answer(hang_after=True)],
    ids=["slack-never-got-it", "slack-posted-it-unanswered"],
)
def test_killed_mid_send_then_each_message_arrives_once(
    world_home, slack, pagerduty, secrets, slack_answer
):
    data = world_home / "data"
    with open_store(data) as store:  # no workspace: nothing here sends
        from console.workspace import open_workspace

        with open_workspace("demo") as ws:
            now = ws.now()
        inc = store.create_incident(
            title="prices are zero", model="pricing", severity="SEV1", env="demo",
            actor="alerting", at=now,
        )  # fmt: skip
    (world_home / "config.toml").write_text(notify_toml(slack, pagerduty))
    slack.script(slack_answer)
    pagerduty.script(Answer(hang_after=True))  # PagerDuty took the trigger; no answer came
    env = {**os.environ, "ROLLBOOK_HOME": str(world_home)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        with open_store(data) as store:

            def stuck() -> bool:
                kinds = [(e.kind, e.payload.get("channel")) for e in store.events(
                    inc.id, kind_prefix="notify.")]  # fmt: skip
                return (
                    kinds.count(("notify.queued", "team")) == 2
                    and kinds.count(("notify.queued", "pager")) == 2
                    and ("notify.sending", "team") in kinds
                    and ("notify.sending", "pager") in kinds
                    and len(slack.requests) == 1
                    and len(pagerduty.requests) == 1
                )

            wait_for(stuck, "the child queueing both messages and hanging on the first")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    slack.release()
    pagerduty.release()
    slack.script()  # answer normally from now on

    restart = subprocess.run(
        [sys.executable, "-m", "console", "status", "--json"],  # opens the environment
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert restart.returncode == 0, restart.stderr

    heads = [m["text"].splitlines()[0] for m in slack.messages]
    assert heads == [f"SEV1 {inc.id} opened — pricing: prices are zero",
                     f"{inc.id} acknowledged by ana"]  # fmt: skip
    assert slack.messages[1]["thread_ts"] == slack.messages[0]["ts"]
    looked = [r.path for r in slack.requests if r.method == "GET"]
    assert looked == ["/api/conversations.history"]  # it looked before posting again
    (_key, alert), *others = pagerduty.alerts.items()
    assert others == []  # one page
    assert [e["event_action"] for e in alert["events"]] == ["trigger", "trigger", "acknowledge"]
    assert alert["state"] == "acknowledged"
    with open_store(data) as store:
        events = store.events(inc.id, kind_prefix="notify.")
        sent = [e.payload for e in events if e.kind == "notify.sent"]
        assert len(sent) == 4  # each of the four notifications, once
        assert len({p["notification_id"] for p in sent}) == 4
        taken_over = [e.payload for e in events if e.kind == "notify.sending"
                      and e.payload["recovering"]]  # fmt: skip
        assert {p["channel"] for p in taken_over} == {"team", "pager"}
        root = next(p for p in sent if p["channel"] == "team" and p["attempt"] == 2)
        assert root["found"] is (slack_answer.hang_after is True)
    assert slack.violations == [] and pagerduty.violations == []
