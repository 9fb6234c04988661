"""What a notification is, channel-independent, and the ``notify`` plugin role.

The core decides *what* to say (``Message``: a headline, a plain-text body, labelled fields,
a link, details for machines) and *when* (``console.notify.pump``); a ``Notifier`` plugin
only says it in its service's own shape (Slack Block Kit, a PagerDuty event) and reports how
one attempt went. Retries, backoff and the record on the timeline are the core's
(``console.notify.delivery``), so every channel behaves the same way.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from console.backends.interfaces import Backend
from console.backends.plugin import PluginContext


class Topic(StrEnum):
    """What a notification is about: the names ``events = [...]`` takes in
    ``[env.X.notify.CHANNEL]``."""

    OPENED = "opened"
    SEVERITY = "severity"  # the incident's severity changed
    ACKNOWLEDGED = "acknowledged"
    MITIGATION = "mitigation"  # a change to production was confirmed: the plan, starting
    APPLIED = "applied"  # that change was read back (APPLIED)
    ACTION_FAILED = "action_failed"  # failed (nothing changed), partially applied, interrupted
    RECOVERED = "recovered"  # the impact was observed to stop (RECOVERED)
    NOT_RECOVERED = "not_recovered"  # the recovery watch's deadline passed (NOT RECOVERED)
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"  # the post-mortem's path or link
    UPDATE = "update"  # a stakeholder update (`rollbook update`)


SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


@dataclass(frozen=True)
class Message:
    """One thing to tell people, as the core words it.

    ``headline`` is one line (at most 150 characters, so it fits a Slack header); ``text``
    is the plain-text message (the headline first), at most 3,000 characters — every
    channel can show it as it is. A drill's headline and text both say DRILL (the core
    guarantees it, so no plugin can forget). ``incident_key`` is stable and unique per
    incident across stores (the incident id plus its opening event's hash): PagerDuty's
    ``dedup_key`` is made from it."""

    id: str  # the notification id: "INC-0001:<source hash 12>:<channel>"
    incident_id: str
    incident_key: str
    topic: Topic
    headline: str
    text: str
    severity: str
    status: str
    model: str
    env: str
    title: str
    drill: bool
    at: str  # the source event's time, UTC ISO 8601
    actor: str
    fields: tuple[tuple[str, str], ...] = ()  # (label, value), at most 10
    link: str | None = None  # a URL, or a file path (the post-mortem)
    alert: str | None = None  # the opening alert's name
    details: dict[str, Any] = field(default_factory=dict)  # model, versions, signal, step…

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "incident_key": self.incident_key,
            "topic": self.topic.value,
            "headline": self.headline,
            "text": self.text,
            "severity": self.severity,
            "status": self.status,
            "model": self.model,
            "env": self.env,
            "title": self.title,
            "drill": self.drill,
            "at": self.at,
            "actor": self.actor,
            "fields": [list(f) for f in self.fields],
            "link": self.link,
            "alert": self.alert,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        return cls(
            id=str(d["id"]),
            incident_id=str(d["incident_id"]),
            incident_key=str(d.get("incident_key") or d["incident_id"]),
            topic=Topic(d["topic"]),
            headline=str(d.get("headline") or ""),
            text=str(d.get("text") or ""),
            severity=str(d.get("severity") or "SEV4"),
            status=str(d.get("status") or ""),
            model=str(d.get("model") or ""),
            env=str(d.get("env") or ""),
            title=str(d.get("title") or ""),
            drill=bool(d.get("drill")),
            at=str(d.get("at") or ""),
            actor=str(d.get("actor") or ""),
            fields=tuple((str(a), str(b)) for a, b in d.get("fields") or ()),
            link=d.get("link"),
            alert=d.get("alert"),
            details=dict(d.get("details") or {}),
        )


@dataclass(frozen=True)
class Delivery:
    """A delivered message: ``remote_id`` is the service's name for it (Slack's ``ts``,
    PagerDuty's ``dedup_key``, ``"webhook"`` when the service names nothing); ``thread`` the
    incident's thread it went into — or started (Slack: the first message's ``ts``)."""

    remote_id: str
    thread: str | None = None


class DeliveryError(Exception):
    """One attempt did not deliver.

    ``retryable``: another attempt may work (429, 5xx, a timeout, a connection refused);
    ``retry_after``: seconds the service asked to wait (``Retry-After``), None if it did not
    say; ``unknown``: the request may have reached the service (a timeout after sending), so
    sending again can duplicate it unless the notifier can look (``Notifier.find``) or the
    service deduplicates (``Notifier.resend_is_safe``)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.unknown = unknown


class Notifier(Backend):
    """The ``notify`` role: a plugin's factory returns one per configured channel.

    Required: ``send`` — one attempt, no retries (the core retries), within ``timeout``
    seconds, raising ``DeliveryError`` when it did not deliver. Optional: ``find`` (after an
    attempt whose outcome is unknown, look whether the message arrived anyway)."""

    #: Topics this service can say something about; ``events`` naming another is a config error.
    topics: ClassVar[frozenset[Topic]] = frozenset(Topic)
    #: Topics sent when the channel's config names no ``events``.
    default_topics: ClassVar[frozenset[Topic]] = frozenset(Topic)
    #: Sending the same message twice is harmless (the service deduplicates it).
    resend_is_safe: ClassVar[bool] = False

    def __init__(self, ctx: PluginContext, options: Mapping[str, Any]) -> None:
        """Read the channel's ``options`` (secrets through ``ctx.secret``); raise
        ``ConfigError`` when they cannot work. No request is made here."""
        self.ctx = ctx
        self.options = options

    @abstractmethod
    def send(self, message: Message, *, thread: str | None, timeout: float) -> Delivery:
        """Deliver ``message`` (into the incident's ``thread`` when the service keeps
        threads and one exists). Raises ``DeliveryError``."""

    def find(self, message: Message, *, thread: str | None, timeout: float) -> Delivery | None:
        """After an attempt whose outcome is unknown: the delivery if the message is already
        there, None when it is not — or when this notifier cannot look (the default)."""
        return None

    def describe(self) -> str:
        """One line for people: where the messages go (no secrets)."""
        return type(self).__name__

    def can_look(self) -> bool:
        """Whether ``find`` can answer (a Slack bot token can; an incoming webhook cannot)."""
        return False


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut
    (``limit`` ≥ 1; a text within the limit is returned as it is)."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"
