"""The notification core against the Slack and PagerDuty STUBS (loopback servers that check
each request against the documented contract — not the real services): the queue on the
timeline, routing, retries with backoff and Retry-After, refusals, timeouts, and two
processes sharing one store. No embedded world here: a bare store and incidents made by
hand, so each test takes a second or two."""

from __future__ import annotations

import time
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from console import lifecycle
from console.clock import ManualClock
from console.config import parse
from console.enums import EventKind, Milestone
from console.notify.channels import open_channels
from console.notify.service import NotifyService
from console.store import open_store
from tests.conftest import T0
from tests.notify.conftest import notify_toml
from tests.notify.stubs import Answer

ALERT = {
    "name": "FeatureNullRateHigh",
    "model": "churn",
    "labels": {"signal": "null_rate:avg_order_value_90d", "version": "v13"},
    "annotations": {"summary": "feature avg_order_value_90d null rate 94.2% (threshold 2.0%)"},
    "value": 0.942,
}


class Rig:
    """One store, one config, and as many services ("processes") as a test opens."""

    def __init__(self, tmp_path: Path, toml: str) -> None:
        self.path = tmp_path / "config.toml"
        self.config = parse(tomllib.loads(toml), self.path)
        self.env = self.config.env("demo")
        self.clock = ManualClock(T0)
        self.dir = tmp_path / "data"
        self.store = open_store(self.dir)
        self.services: list[NotifyService] = []

    def service(self, *, start: bool = True) -> NotifyService:
        store = open_store(self.dir)  # its own connection, like another process
        svc = NotifyService(
            store, "demo", open_channels(self.config, self.env), self.env.notify, self.clock.now
        )
        self.services.append(svc)
        return svc.start() if start else svc

    def incident(self, *, drill: bool = False, severity: str = "SEV2"):
        return self.store.create_incident(
            title="feature avg_order_value_90d null rate 94.2%",
            model="churn",
            severity=severity,
            env="demo",
            actor="alerting",
            at=self.clock.now(),
            runbook="null-feature",
            drill=drill,
            data={"alert": ALERT},
        )

    def kinds(self, incident_id: str) -> list[str]:
        return [e.kind for e in self.store.events(incident_id, kind_prefix="notify.")]

    def close(self) -> None:
        for s in self.services:
            s.stop(timeout=5)
            s.store.close()  # type: ignore[attr-defined]
        self.store.close()


@pytest.fixture
def rig_for(tmp_path, secrets):
    made: list[Rig] = []

    def make(toml: str) -> Rig:
        r = Rig(tmp_path, toml)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def wait_until(cond, what: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout:g} s")


def test_open_ack_resolve_page_and_thread(rig_for, slack, pagerduty):
    rig = rig_for(notify_toml(slack, pagerduty))
    inc = rig.incident()
    lifecycle.acknowledge(rig.store, inc.id, actor="ana", at=rig.clock.advance(60))
    lifecycle.mark(rig.store, inc.id, Milestone.RESOLVED, actor="ana", at=rig.clock.advance(600))
    svc = rig.service()
    svc.flush(10)

    # PagerDuty: one alert, triggered, acknowledged, resolved — one dedup_key throughout
    assert list(pagerduty.alerts) == [f"rollbook-{inc.id}-{rig.store.events(inc.id)[0].hash[:12]}"]
    alert = next(iter(pagerduty.alerts.values()))
    assert [e["event_action"] for e in alert["events"]] == ["trigger", "acknowledge", "resolve"]
    assert alert["state"] == "resolved"
    trigger = alert["events"][0]
    assert trigger["payload"]["severity"] == "error"  # SEV2
    assert trigger["payload"]["custom_details"]["model"] == "churn"
    assert trigger["payload"]["custom_details"]["versions"] == {"at_alert": "v13"}
    # Slack: the first message starts the thread, the others reply in it, in order
    root, *replies = slack.messages
    assert root["thread_ts"] is None and [m["thread_ts"] for m in replies] == [root["ts"]] * 2
    heads = [m["text"].splitlines()[0] for m in slack.messages]
    assert heads[0].startswith(f"SEV2 {inc.id} opened")
    assert heads[1] == f"{inc.id} acknowledged by ana"
    assert heads[2].startswith(f"{inc.id} resolved")
    assert slack.requests[-1].body.get("reply_broadcast") is True  # resolve shown in channel
    sent = [e for e in rig.store.events(inc.id, kind_prefix="notify.sent")]
    assert {e.payload["thread"] for e in sent if e.payload["channel"] == "team"} == {root["ts"]}
    assert slack.violations == [] and pagerduty.violations == []


def test_a_429_is_retried_after_its_retry_after(rig_for, slack):
    rig = rig_for(notify_toml(slack))
    slack.script(Answer(429, retry_after=1))
    inc = rig.incident()
    rig.service().flush(10)
    assert len(slack.messages) == 1
    first, second = slack.requests
    assert first.answered == 429 and second.answered == 200
    assert second.at - first.at >= 1.0  # Retry-After honoured (not the 0.2 s backoff)
    assert rig.kinds(inc.id) == [
        "notify.queued",
        "notify.sending",
        "notify.deferred",
        "notify.sending",
        "notify.sent",
    ]
    deferred = rig.store.events(inc.id, kind_prefix="notify.deferred")[0].payload
    assert deferred["status"] == 429 and deferred["retry_after"] == 1.0


def test_a_400_is_not_retried_and_is_recorded_as_failed(rig_for, pagerduty):
    rig = rig_for(notify_toml(None, pagerduty))
    pagerduty.script(Answer(400))
    inc = rig.incident()
    rig.service().flush(5)
    assert len(pagerduty.requests) == 1
    failed = rig.store.events(inc.id, kind_prefix="notify.failed")
    assert len(failed) == 1 and failed[0].payload["permanent"] is True
    assert failed[0].payload["status"] == 400 and "FAILED: refused" in failed[0].message


def test_5xx_are_retried_with_backoff_then_failed_after_the_attempts(rig_for, slack):
    rig = rig_for(notify_toml(slack, settings="timeout = 2\nbackoff = 0.2\nattempts = 3\n"))
    slack.script(Answer(500), Answer(502), Answer(503))
    inc = rig.incident()
    rig.service().flush(10)
    assert [r.answered for r in slack.requests] == [500, 502, 503]
    gaps = [b.at - a.at for a, b in zip(slack.requests, slack.requests[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4  # 0.2 s, doubled
    failed = rig.store.events(inc.id, kind_prefix="notify.failed")[0].payload
    assert failed["attempts"] == 3 and failed["permanent"] is False
    assert slack.messages == []


def test_a_hanging_service_times_out_then_the_message_goes_once(rig_for, slack):
    rig = rig_for(notify_toml(slack, settings="timeout = 0.5\nbackoff = 0.1\n"))
    slack.script(Answer(hang=True))
    inc = rig.incident()
    started = time.monotonic()
    rig.service().flush(10)
    assert time.monotonic() - started < 5
    deferred = rig.store.events(inc.id, kind_prefix="notify.deferred")[0].payload
    assert deferred["unknown"] is True  # it may have arrived: the next attempt looks first
    lookups = [r.path for r in slack.requests if r.method == "GET"]
    assert lookups == ["/api/conversations.history"]
    assert len(slack.messages) == 1  # the hung request stored nothing; posted once after


def test_two_processes_send_each_message_once(rig_for, slack, pagerduty):
    rig = rig_for(notify_toml(slack, pagerduty))
    incidents = [rig.incident() for _ in range(3)]
    for inc in incidents:
        lifecycle.acknowledge(rig.store, inc.id, actor="ana", at=rig.clock.advance(5))
    a, b = rig.service(), rig.service()
    a.flush(10)
    b.flush(10)
    queued = [e for inc in incidents for e in rig.store.events(inc.id, kind_prefix="notify.queued")]
    ids = [e.payload["notification_id"] for e in queued]
    assert len(ids) == len(set(ids)) == 12  # 3 incidents × (open, ack) × 2 channels
    assert len(slack.messages) == 6
    assert sorted(len(a["events"]) for a in pagerduty.alerts.values()) == [2, 2, 2]
    sent = [e for inc in incidents for e in rig.store.events(inc.id, kind_prefix="notify.sent")]
    assert len(sent) == 12


def test_drills_go_only_to_drill_channels_and_say_drill(rig_for, slack, monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK", slack.webhook_url)
    toml = notify_toml(slack) + (
        '\n[env.demo.notify.drills]\nplugin = "slack"\nwebhook_url_env = "SLACK_WEBHOOK"\n'
        "drills = true\n"
    )
    rig = rig_for(toml)
    drill = rig.incident(drill=True)
    lifecycle.acknowledge(rig.store, drill.id, actor="ana", at=rig.clock.advance(30))
    rig.incident()
    rig.service().flush(10)
    assert len(slack.webhook_posts) == 2  # the drill: opened, acknowledged — via the webhook
    assert all("[DRILL]" in p["text"] for p in slack.webhook_posts)
    assert all("DRILL" in p["blocks"][-1]["elements"][0]["text"] for p in slack.webhook_posts)
    assert [m["text"].split()[1] for m in slack.messages] == ["INC-0002"]  # the real one only
    assert slack.violations == []


def test_events_min_severity_and_max_age_filter(rig_for, slack, pagerduty):
    toml = notify_toml(
        slack,
        pagerduty,
        slack_extra='events = ["opened", "resolved"]\n',
        pd_extra='min_severity = "SEV1"\n',
    )
    rig = rig_for(toml)
    old = rig.incident(severity="SEV1")
    rig.clock.advance(minutes=61)  # older than max_age_minutes (60): not announced
    inc = rig.incident(severity="SEV3")
    lifecycle.acknowledge(rig.store, inc.id, actor="ana", at=rig.clock.advance(5))
    rig.service().flush(10)
    assert rig.kinds(old.id) == []
    assert [m["text"].splitlines()[0][:20] for m in slack.messages] == [f"SEV3 {inc.id} opened"]
    assert pagerduty.requests == []  # SEV3 is below the pager's SEV1


def test_a_channel_that_cannot_open_keeps_its_messages_queued(rig_for, slack, monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    rig = rig_for(notify_toml(slack))
    inc = rig.incident()
    svc = rig.service()
    svc.flush(3)
    assert svc.problems and "SLACK_BOT_TOKEN is not set" in svc.problems[0]
    assert rig.kinds(inc.id) == ["notify.queued"]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-stub-0000000000-token")
    rig.service().flush(5)  # the config fixed: the next process sends it
    assert rig.kinds(inc.id) == ["notify.queued", "notify.sending", "notify.sent"]


def test_severity_change_and_long_text_within_slack_limits(rig_for, slack, pagerduty):
    rig = rig_for(notify_toml(slack, pagerduty))
    inc = rig.incident()
    rig.store.update(
        inc.id, actor="ana", at=rig.clock.advance(60), message="wider impact", severity="SEV1"
    )
    rig.store.append(
        inc.id,
        EventKind.NOTE,
        "<!channel> " + "x" * 5000,
        actor="ana",
        at=rig.clock.advance(60),
        payload={"tag": "update"},
    )
    rig.service().flush(10)
    heads = [m["text"].splitlines()[0] for m in slack.messages]
    assert heads[1].startswith(f"{inc.id} severity SEV2 → SEV1")
    update = slack.messages[2]
    assert len(update["text"]) <= 4000
    assert "<!channel>" not in str(update["blocks"])  # escaped: no channel-wide ping
    assert "&lt;!channel&gt;" in str(update["blocks"])
    alert = next(iter(pagerduty.alerts.values()))
    assert [e["payload"]["severity"] for e in alert["events"]] == ["error", "critical"]
    assert slack.violations == [] and pagerduty.violations == []


def test_a_message_slack_posted_but_never_answered_is_found_not_posted_twice(rig_for, slack):
    """Slack stores the message, the answer never comes back (a timeout: the outcome is
    unknown). The next attempt looks in the incident's thread by the notification id, finds
    it and records it as sent — it does not post it a second time."""
    rig = rig_for(notify_toml(slack, settings="timeout = 0.5\nbackoff = 0.1\n"))
    inc = rig.incident()
    lifecycle.acknowledge(rig.store, inc.id, actor="ana", at=rig.clock.advance(60))
    slack.script(Answer(), Answer(hang_after=True))  # the root is answered, the reply is not
    rig.service().flush(10)
    assert len(slack.messages) == 2  # the root and the acknowledgement, once each
    looked = [r for r in slack.requests if r.method == "GET"]
    assert [r.path for r in looked] == ["/api/conversations.replies"]
    assert looked[0].query["ts"] == [slack.messages[0]["ts"]]  # read in the incident's thread
    sent = rig.store.events(inc.id, kind_prefix="notify.sent")[-1].payload
    assert sent["found"] is True and sent["remote_id"] == slack.messages[1]["ts"]
    assert rig.kinds(inc.id)[-4:] == [
        "notify.sending",
        "notify.deferred",
        "notify.sending",
        "notify.sent",
    ]


def test_an_attempt_without_outcome_is_taken_over_when_its_process_is_gone(tmp_path):
    import subprocess
    import sys

    from console.notify.model import Message, Topic
    from console.notify.queue import SENDING, Notification, owner

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    msg = Message(
        "i",
        "INC-0001",
        "k",
        Topic.OPENED,
        "h",
        "t",
        "SEV2",
        "open",
        "m",
        "demo",
        "title",
        False,
        T0.isoformat(),
        "a",
    )
    n = Notification("i", "INC-0001", "team", msg, 1, 1, state=SENDING)
    now = time.time()
    n.holder, n.lease_until = owner(), now + 30  # this process, alive, lease running
    assert not n.due(now) and n.when_due(now) == now + 30
    assert n.due(now + 31)  # the lease passed: taken over even though the owner may live
    n.holder = {"host": owner()["host"], "pid": int(gone.stdout)}  # that process has exited
    assert n.due(now)
    n.holder = {"host": "another-host", "pid": 1}  # cannot be told: the lease decides
    assert not n.due(now)


def test_retry_policy_waits():
    from console.notify.settings import MAX_BACKOFF_S, RetryPolicy

    p = RetryPolicy(attempts=5, timeout_s=1, backoff_s=2)
    assert [p.wait_before(n, None) for n in (2, 3, 4)] == [2, 4, 8]
    assert p.wait_before(9, None) == MAX_BACKOFF_S
    assert p.wait_before(2, 7.5) == 7.5 and p.wait_before(2, -3) == 0.0
    assert timedelta(seconds=p.wait_before(2, 10**9)).total_seconds() == 3600.0
