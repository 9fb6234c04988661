"""Slack: Block Kit messages with a plain-text fallback, one thread per incident.

Two ways in:

- a bot token (``token_env``, scope ``chat:write``; ``channels:history`` /
  ``groups:history`` for the duplicate check) → ``chat.postMessage`` with
  ``Authorization: Bearer …``. The incident's first message starts its thread; its ``ts``
  is recorded on the timeline (``notify.sent``'s ``thread``) and every later message of the
  incident — from any process — replies in it (``thread_ts``). Each message carries its
  notification id in Slack's message ``metadata``, so after an attempt whose outcome is
  unknown the thread is read (``conversations.replies``) and a message already there is not
  posted again.
- an incoming webhook (``webhook_url_env``): the same blocks, posted to the webhook's
  channel. A webhook answers only "ok": no ``ts``, so no thread, and no way to look for a
  message after an unknown outcome.

Limits kept (Slack's documented ones): a section's text ≤ 3,000 characters, a field ≤ 2,000
and ≤ 10 fields, ≤ 50 blocks, the fallback ``text`` ≤ 4,000 (Slack truncates at 40,000 and
splits long ones). Text from the record is escaped for mrkdwn (``&``, ``<``, ``>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from console.backends.plugin import PluginContext
from console.errors import ConfigError
from console.notify.model import Delivery, DeliveryError, Message, Notifier, Topic, clip
from plugins.http_common.notify import request

API_URL = "https://slack.com/api"
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
TEXT_MAX = 4000
METADATA_TYPE = "rollbook_notification"
#: chat.postMessage errors (HTTP 200, ``ok: false``) that another attempt may get past.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
ICONS: dict[Topic, str] = {
    Topic.OPENED: ":rotating_light:",
    Topic.SEVERITY: ":arrow_up_down:",
    Topic.ACKNOWLEDGED: ":eyes:",
    Topic.MITIGATION: ":hammer_and_wrench:",
    Topic.APPLIED: ":white_check_mark:",
    Topic.ACTION_FAILED: ":x:",
    Topic.RECOVERED: ":large_green_circle:",
    Topic.NOT_RECOVERED: ":red_circle:",
    Topic.RESOLVED: ":checkered_flag:",
    Topic.POSTMORTEM: ":memo:",
    Topic.UPDATE: ":loudspeaker:",
}
OPTIONS = ("token_env", "webhook_url_env", "channel", "api_url", "broadcast")


def escape(text: str) -> str:
    """Text for Slack's mrkdwn: ``&``, ``<`` and ``>`` escaped (what Slack requires; a note
    saying ``<!channel>`` must not ping the channel)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_MAX)}}


def blocks(message: Message) -> list[dict[str, Any]]:
    """The message as Block Kit: the headline, the body, the fields, the link, and a context
    line (incident, environment, who, when; DRILL for a drill)."""
    icon = ICONS.get(message.topic, ":information_source:")
    out = [_section(f"{icon} *{escape(message.headline)}*")]
    body = message.text.split("\n", 1)[1] if "\n" in message.text else ""
    if message.link and body.endswith(message.link):
        body = body[: -len(message.link)].rstrip("\n")
    if body.strip():
        out.append(_section(escape(body)))
    if message.fields:
        out.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": clip(f"*{escape(k)}*\n{escape(v)}", FIELD_MAX)}
                    for k, v in message.fields[:FIELDS_MAX]
                ],
            }
        )
    if message.link:
        link = message.link
        if link.startswith(("http://", "https://")):
            label = "Post-mortem" if message.topic is Topic.POSTMORTEM else "Link"
            out.append(_section(f"<{link}|{label}>"))
        else:
            out.append(_section(f"`{escape(link)}`"))
    when = _hhmm(message.at)
    context = " · ".join(
        x
        for x in (
            "DRILL" if message.drill else "",
            message.incident_id,
            message.env,
            f"by {message.actor}" if message.actor else "",
            when,
        )
        if x
    )
    out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(context)}]})
    return out[:50]


def _hhmm(iso: str) -> str:
    try:
        return f"{datetime.fromisoformat(iso):%H:%M} UTC"
    except ValueError:
        return ""


class SlackNotifier(Notifier):
    topics: ClassVar[frozenset[Topic]] = frozenset(Topic)
    default_topics: ClassVar[frozenset[Topic]] = frozenset(Topic)
    resend_is_safe: ClassVar[bool] = False

    def __init__(self, ctx: PluginContext, options: Mapping[str, Any]) -> None:
        super().__init__(ctx, options)
        where = f"env.{ctx.env_name}.notify"
        self.token = ctx.secret(options, "token") if options.get("token_env") else None
        self.webhook = (
            ctx.secret(options, "webhook_url") if options.get("webhook_url_env") else None
        )
        if options.get("token_env") and not self.token:
            raise ConfigError(
                ctx.config_path,
                f"{where}.token_env",
                f"environment variable {options['token_env']} is not set",
                hint=f"export {options['token_env']}=xoxb-…",
            )
        if options.get("webhook_url_env") and not self.webhook:
            raise ConfigError(
                ctx.config_path,
                f"{where}.webhook_url_env",
                f"environment variable {options['webhook_url_env']} is not set",
                hint=f"export {options['webhook_url_env']}=https://hooks.slack.com/services/…",
            )
        if not self.token and not self.webhook:
            raise ConfigError(
                ctx.config_path,
                where,
                "slack needs token_env (a bot token) or webhook_url_env (an incoming webhook)",
            )
        self.channel = str(options.get("channel") or "")
        if self.token and not self.channel:
            raise ConfigError(
                ctx.config_path,
                f"{where}.channel",
                "a bot token needs the channel to post to",
                hint='channel = "C0123456789" (its ID: the duplicate check reads the thread)',
            )
        self.api_url = str(options.get("api_url") or API_URL).rstrip("/")
        broadcast = options.get("broadcast", ["resolved"])
        self.broadcast = frozenset(str(b) for b in broadcast or ())
        self._http = httpx.Client()

    def close(self) -> None:
        self._http.close()

    def describe(self) -> str:
        if self.token:
            return f"Slack {self.channel} via chat.postMessage, one thread per incident"
        return "Slack incoming webhook"

    def can_look(self) -> bool:
        return self.token is not None

    # ---- sending ------------------------------------------------------------------------
    def body(self, message: Message, thread: str | None) -> dict[str, Any]:
        """The JSON posted: ``text`` (the plain fallback), ``blocks``; with a bot token also
        ``channel``, ``metadata`` (the notification id) and ``thread_ts`` in a thread."""
        out: dict[str, Any] = {
            "text": clip(message.text, TEXT_MAX),
            "blocks": blocks(message),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if self.token:
            out["channel"] = self.channel
            out["metadata"] = {
                "event_type": METADATA_TYPE,
                "event_payload": {
                    "notification_id": message.id,
                    "incident": message.incident_id,
                    "incident_key": message.incident_key,
                },
            }
            if thread:
                out["thread_ts"] = thread
                if message.topic.value in self.broadcast:
                    out["reply_broadcast"] = True
        return out

    def send(self, message: Message, *, thread: str | None, timeout: float) -> Delivery:
        if self.token:
            resp = request(
                self._http,
                "POST",
                f"{self.api_url}/chat.postMessage",
                service="Slack chat.postMessage",
                timeout=timeout,
                json=self.body(message, thread),
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json; charset=utf-8",
                },
            )
            data = _api_answer(resp, "chat.postMessage")
            ts = str(data.get("ts") or "")
            if not ts:
                raise DeliveryError("Slack answered ok without a ts", retryable=False)
            return Delivery(ts, thread or ts)
        assert self.webhook is not None
        request(
            self._http,
            "POST",
            self.webhook,
            service="Slack webhook",
            timeout=timeout,
            json=self.body(message, None),
        )
        return Delivery("webhook", None)

    def find(self, message: Message, *, thread: str | None, timeout: float) -> Delivery | None:
        """Look for ``message`` by its notification id: among the thread's replies, or —
        when it would have started the thread — among the channel's latest messages."""
        if not self.token:
            return None
        headers = {"Authorization": f"Bearer {self.token}"}
        params: dict[str, Any] = {
            "channel": self.channel,
            "include_all_metadata": "true",
            "limit": 200,
        }
        method = "conversations.replies" if thread else "conversations.history"
        if thread:
            params["ts"] = thread
        for _page in range(5):
            resp = request(
                self._http,
                "GET",
                f"{self.api_url}/{method}",
                service=f"Slack {method}",
                timeout=timeout,
                params=params,
                headers=headers,
            )
            data = _api_answer(resp, method)
            for m in data.get("messages") or ():
                payload = ((m.get("metadata") or {}).get("event_payload")) or {}
                if payload.get("notification_id") == message.id and m.get("ts"):
                    return Delivery(str(m["ts"]), thread or str(m["ts"]))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor or not thread:
                return None  # the history's newest page is enough: it was just posted
            params["cursor"] = cursor
        return None


def _api_answer(resp: httpx.Response, method: str) -> dict[str, Any]:
    """The Web API's JSON answer; ``ok: false`` is a ``DeliveryError`` (retryable only for
    Slack's transient errors)."""
    try:
        data = resp.json()
    except ValueError:
        raise DeliveryError(
            f"Slack {method} answered something that is not JSON: {resp.text[:200]!r}",
            retryable=False,
        ) from None
    if not isinstance(data, dict):
        raise DeliveryError(f"Slack {method} answered {data!r}", retryable=False)
    if not data.get("ok"):
        error = str(data.get("error") or "unknown_error")
        raise DeliveryError(
            f"Slack {method}: {error}",
            retryable=error in RETRYABLE_ERRORS,
            status=resp.status_code,
        )
    return data
