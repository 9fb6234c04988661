"""PagerDuty: the incident's page through the Events API v2 (``POST /v2/enqueue``).

One alert per incident: ``dedup_key`` is ``rollbook-<incident key>`` (the incident id and its
opening event's hash — stable for the incident, distinct between two stores that both have
an INC-0001), so opening the incident triggers the page, acknowledging it in Rollbook
acknowledges the page, resolving it resolves the page, and a severity change re-triggers the
same alert with the new severity. PagerDuty deduplicates on that key, which also makes a
resend after an unknown outcome harmless (``resend_is_safe``).

The body (``routing_key`` from the environment, never the config file): ``event_action``,
``dedup_key`` (≤ 255 characters) and, on a trigger, ``payload`` with ``summary`` (≤ 1,024
characters), ``source``, ``severity`` (SEV1 critical, SEV2 error, SEV3 warning, SEV4 info),
``timestamp``, ``component`` (the model), ``group`` (the environment), ``class`` (the alert)
and ``custom_details`` (incident, model, versions, signal, runbook step, status, drill), plus
``client`` / ``client_url`` and ``links``. PagerDuty answers 202; 400 is a refusal (not
retried), 429 and 5xx are retried by the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from console.backends.plugin import PluginContext
from console.errors import ConfigError
from console.notify.model import Delivery, DeliveryError, Message, Notifier, Topic, clip
from plugins.http_common.notify import request

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_MAX = 1024
DEDUP_MAX = 255
SEVERITY = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning", "SEV4": "info"}
ACTIONS: dict[Topic, str] = {
    Topic.OPENED: "trigger",
    Topic.SEVERITY: "trigger",
    Topic.ACKNOWLEDGED: "acknowledge",
    Topic.RESOLVED: "resolve",
}
OPTIONS = ("routing_key_env", "url", "source", "client", "client_url")


class PagerDutyNotifier(Notifier):
    topics: ClassVar[frozenset[Topic]] = frozenset(ACTIONS)
    default_topics: ClassVar[frozenset[Topic]] = frozenset(ACTIONS)
    resend_is_safe: ClassVar[bool] = True

    def __init__(self, ctx: PluginContext, options: Mapping[str, Any]) -> None:
        super().__init__(ctx, options)
        where = f"env.{ctx.env_name}.notify"
        var = options.get("routing_key_env")
        if not var:
            raise ConfigError(
                ctx.config_path,
                f"{where}.routing_key_env",
                "pagerduty needs the name of the variable holding the routing key",
                hint='routing_key_env = "PAGERDUTY_ROUTING_KEY" (the integration key)',
            )
        key = ctx.secret(options, "routing_key")
        if not key:
            raise ConfigError(
                ctx.config_path,
                f"{where}.routing_key_env",
                f"environment variable {var} is not set",
                hint=f"export {var}=<the Events API v2 integration key>",
            )
        self.routing_key = key
        self.url = str(options.get("url") or EVENTS_URL)
        self.source = options.get("source")
        self.client = str(options.get("client") or "Rollbook")
        self.client_url = options.get("client_url")
        self._http = httpx.Client()

    def close(self) -> None:
        self._http.close()

    def describe(self) -> str:
        return "PagerDuty Events API v2"

    @staticmethod
    def dedup_key(message: Message) -> str:
        return clip(f"rollbook-{message.incident_key}", DEDUP_MAX)

    def body(self, message: Message) -> dict[str, Any]:
        """The event for ``message`` (its topic decides the action)."""
        action = ACTIONS.get(message.topic)
        if action is None:
            raise DeliveryError(
                f"PagerDuty has no event for {message.topic.value!r}", retryable=False
            )
        out: dict[str, Any] = {
            "routing_key": self.routing_key,
            "event_action": action,
            "dedup_key": self.dedup_key(message),
        }
        if action != "trigger":
            return out
        prefix = "[DRILL] " if message.drill else ""
        summary = f"{prefix}{message.severity} {message.incident_id} {message.model}: "
        summary += message.title
        payload: dict[str, Any] = {
            "summary": clip(summary, SUMMARY_MAX),
            "source": str(self.source or message.model or "rollbook"),
            "severity": SEVERITY.get(message.severity, "error"),
            "timestamp": message.at,
            "component": message.model,
            "group": message.env,
            "custom_details": {**message.details, "drill": message.drill},
        }
        if message.alert:
            payload["class"] = message.alert
        out["payload"] = payload
        out["client"] = self.client
        if self.client_url:
            out["client_url"] = str(self.client_url)
        if message.link and message.link.startswith(("http://", "https://")):
            out["links"] = [{"href": message.link, "text": "Incident"}]
        return out

    def send(self, message: Message, *, thread: str | None, timeout: float) -> Delivery:
        resp = request(
            self._http,
            "POST",
            self.url,
            service="PagerDuty Events API",
            timeout=timeout,
            json=self.body(message),
            headers={"Content-Type": "application/json"},
        )
        try:
            data = resp.json()
        except ValueError:
            data = {}
        key = (data or {}).get("dedup_key") if isinstance(data, dict) else None
        return Delivery(str(key or self.dedup_key(message)), None)
