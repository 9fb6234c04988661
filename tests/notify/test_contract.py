"""Rollbook's Slack and PagerDuty requests against the documented contracts, and against what
the REAL Alertmanager (Debian's 0.25) sends to the same endpoints — recorded once by
``capture_alertmanager.py`` into ``fixtures/``, so the STUBS' checks are not only our own idea
of the APIs: Alertmanager's requests must pass them too, and ours must carry the fields and
headers Alertmanager's carry."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from console.backends.plugin import PluginContext
from console.notify.model import DeliveryError, Message, Topic
from plugins.pagerduty.notifier import PagerDutyNotifier
from plugins.slack.notifier import SlackNotifier, blocks
from tests.conftest import T0
from tests.notify.stubs import PD_ROUTING_KEY, Answer, PagerDutyStub, Request

FIXTURES = Path(__file__).parent / "fixtures"
#: Events API v2: required on every event, and on a trigger's payload (PagerDuty's docs).
PD_REQUIRED = {"routing_key", "event_action", "dedup_key"}
PD_PAYLOAD_REQUIRED = {"summary", "source", "severity"}


def fixture(name: str) -> list[dict]:
    data = json.loads((FIXTURES / f"alertmanager_{name}.json").read_text())
    assert data["recorded_with"].startswith("alertmanager, version 0.25")
    assert data["stub_violations"] == []  # Alertmanager's own requests passed the stubs
    return data["requests"]


def message(topic: Topic = Topic.OPENED, *, drill: bool = False, **kw) -> Message:
    headline = ("[DRILL] " if drill else "") + "SEV2 INC-0001 opened — churn: nulls"
    base = dict(
        id="INC-0001:0123456789ab:team",
        incident_id="INC-0001",
        incident_key="INC-0001-0123456789ab",
        topic=topic,
        headline=headline,
        text=f"{headline}\nModel churn (prod): nulls",
        severity="SEV2",
        status="open",
        model="churn",
        env="prod",
        title="feature avg_order_value_90d null rate 94.2%",
        drill=drill,
        at=T0.isoformat(),
        actor="alerting",
        fields=(("Severity", "SEV2"), ("Model", "churn")),
        alert="FeatureNullRateHigh",
        details={"model": "churn", "versions": {"at_alert": "v13"}, "runbook_step": None},
    )
    base.update(kw)
    return Message(**base)


def ctx() -> PluginContext:
    return PluginContext(env_name="prod", data_dir=Path("/nonexistent"))


@pytest.fixture
def pd_notifier(pagerduty, secrets):
    n = PagerDutyNotifier(
        ctx(),
        {
            "routing_key_env": "PD_ROUTING_KEY",
            "url": pagerduty.enqueue_url,
            "client_url": "https://rollbook.example",
        },
    )
    yield n
    n.close()


@pytest.fixture
def slack_bot(slack, secrets):
    n = SlackNotifier(ctx(), {"token_env": "SLACK_BOT_TOKEN", "channel": "C0STUB",
                              "api_url": slack.api_url})  # fmt: skip
    yield n
    n.close()


def test_alertmanagers_pagerduty_events_pass_the_stub_and_ours_carry_their_fields(
    pagerduty, pd_notifier
):
    am_trigger, am_resolve = fixture("pagerduty")
    for am in (am_trigger, am_resolve):
        req = Request("POST", am["path"], {}, am["headers"], am["body"], 0.0)
        assert PagerDutyStub.check(req) == []
    assert am_trigger["body"]["event_action"] == "trigger"
    assert am_resolve["body"]["event_action"] == "resolve"

    pd_notifier.send(message(), thread=None, timeout=2)
    pd_notifier.send(message(Topic.ACKNOWLEDGED), thread=None, timeout=2)
    pd_notifier.send(message(Topic.RESOLVED), thread=None, timeout=2)
    trigger, ack, resolve = (r.body for r in pagerduty.requests)
    assert pagerduty.violations == []
    # the same path and content type as Alertmanager, and every field it sends on a trigger
    assert {r.path for r in pagerduty.requests} == {am_trigger["path"]}
    assert all(
        r.headers["content-type"].startswith(am_trigger["headers"]["content-type"])
        for r in pagerduty.requests
    )
    assert set(am_trigger["body"]) <= set(trigger)
    assert set(am_trigger["body"]["payload"]) <= set(trigger["payload"])
    assert set(am_resolve["body"]) >= PD_REQUIRED and set(resolve) >= PD_REQUIRED
    assert set(ack) >= PD_REQUIRED
    assert set(trigger["payload"]) >= PD_PAYLOAD_REQUIRED
    assert trigger["dedup_key"] == ack["dedup_key"] == resolve["dedup_key"]
    assert [r["event_action"] for r in (trigger, ack, resolve)] == [
        "trigger",
        "acknowledge",
        "resolve",
    ]
    assert trigger["routing_key"] == PD_ROUTING_KEY
    cd = trigger["payload"]["custom_details"]
    assert cd["model"] == "churn" and cd["versions"] == {"at_alert": "v13"} and "runbook_step" in cd


def test_pagerduty_summary_is_cut_to_1024_characters_and_severity_mapped(pd_notifier):
    long = message(title="x" * 5000)
    body = pd_notifier.body(long)
    assert len(body["payload"]["summary"]) == 1024 and body["payload"]["summary"].endswith("…")
    sev = {s: pd_notifier.body(message(severity=s))["payload"]["severity"] for s in
           ("SEV1", "SEV2", "SEV3", "SEV4")}  # fmt: skip
    assert sev == {"SEV1": "critical", "SEV2": "error", "SEV3": "warning", "SEV4": "info"}
    assert pd_notifier.body(message(drill=True))["payload"]["summary"].startswith("[DRILL] ")
    with pytest.raises(DeliveryError) as err:
        pd_notifier.body(message(Topic.UPDATE))
    assert not err.value.retryable


@pytest.mark.parametrize(
    "answer, retryable, retry_after",
    [
        (Answer(429, retry_after=7), True, 7.0),
        (Answer(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"), True, 0.0),  # a past date
        (Answer(500), True, None),
        (Answer(400), False, None),
    ],
)
def test_pagerduty_errors_classified(pagerduty, pd_notifier, answer, retryable, retry_after):
    pagerduty.script(answer)
    with pytest.raises(DeliveryError) as err:
        pd_notifier.send(message(), thread=None, timeout=2)
    assert err.value.retryable is retryable
    assert err.value.retry_after == retry_after
    assert err.value.status == answer.status


def test_alertmanagers_slack_posts_pass_the_stub_and_ours_carry_its_auth_and_fields(
    slack, slack_bot
):
    am = fixture("slack_postmessage")
    for r in am:  # replayed to the stub as Alertmanager sent them
        httpx.post(slack.url + r["path"], json=r["body"], headers=r["headers"])
    assert slack.violations == []
    assert len(slack.messages) == 2
    slack.messages.clear()
    root = slack_bot.send(message(), thread=None, timeout=2)
    reply = slack_bot.send(message(Topic.ACKNOWLEDGED), thread=root.thread, timeout=2)
    assert root.thread == root.remote_id and reply.thread == root.remote_id
    ours = [r for r in slack.requests if r.path == "/api/chat.postMessage"][-2:]
    assert slack.violations == []
    for r in ours:
        assert r.headers["authorization"] == am[0]["headers"]["authorization"]  # Bearer xoxb-…
        assert r.headers["content-type"].startswith(am[0]["headers"]["content-type"])
        assert {"channel"} <= set(am[0]["body"]) and r.body["channel"] == "C0STUB"
        assert r.body["text"] and r.body["blocks"]  # Block Kit with the plain fallback
        assert (
            r.body["metadata"]["event_payload"]["notification_id"] == "INC-0001:0123456789ab:team"
        )
    assert "thread_ts" not in ours[0].body and ours[1].body["thread_ts"] == root.remote_id


def test_alertmanagers_webhook_posts_pass_the_stub_and_ours_too(slack, secrets, monkeypatch):
    am = fixture("slack_webhook")
    for r in am:
        httpx.post(slack.url + r["path"], json=r["body"], headers=r["headers"])
    assert slack.violations == [] and len(slack.webhook_posts) == 2
    monkeypatch.setenv("SLACK_WEBHOOK", slack.webhook_url)
    hook = SlackNotifier(ctx(), {"webhook_url_env": "SLACK_WEBHOOK"})
    try:
        got = hook.send(message(drill=True), thread=None, timeout=2)
        assert got.remote_id == "webhook" and got.thread is None and not hook.can_look()
    finally:
        hook.close()
    ours = slack.requests[-1]
    assert ours.path == am[0]["path"]
    assert ours.headers["content-type"].startswith(am[0]["headers"]["content-type"])
    assert "authorization" not in ours.headers  # the URL is the secret
    assert slack.violations == []
    posted = slack.webhook_posts[-1]
    assert "[DRILL]" in posted["text"] and "DRILL" in json.dumps(posted["blocks"])


def test_slack_errors_classified(slack, slack_bot):
    slack.script(Answer(200, body={"ok": False, "error": "channel_not_found"}))
    with pytest.raises(DeliveryError) as err:
        slack_bot.send(message(), thread=None, timeout=2)
    assert not err.value.retryable and "channel_not_found" in err.value.message
    slack.script(
        Answer(200, body={"ok": False, "error": "ratelimited"}), Answer(429, retry_after=3)
    )
    for expect in (None, 3.0):
        with pytest.raises(DeliveryError) as err:
            slack_bot.send(message(), thread=None, timeout=2)
        assert err.value.retryable and err.value.retry_after == expect


def test_block_kit_limits_and_escaping():
    long = message(
        topic=Topic.UPDATE,
        text="INC-0001 update\n" + "<!here> & " * 1000,
        fields=tuple((f"f{i}", "v" * 3000) for i in range(15)),
        link="https://wiki.example/pm/INC-0001",
    )
    out = blocks(long)
    assert len(out) <= 50
    sections = [b for b in out if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= 3000 for b in sections if "text" in b)
    fields = next(b["fields"] for b in sections if "fields" in b)
    assert len(fields) == 10 and all(len(f["text"]) <= 2000 for f in fields)
    assert "<!here>" not in json.dumps(out) and "&lt;!here&gt; &amp;" in json.dumps(out)
    assert any("<https://wiki.example/pm/INC-0001|Link>" in b["text"]["text"] for b in sections
               if "text" in b)  # fmt: skip
