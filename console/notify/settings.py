"""``[env.X.notify]``: which channels an environment tells, what about, and how hard to try.

::

    [env.prod.notify]                 # settings for every channel of the environment
    attempts = 4                      # tries per message (429, 5xx and timeouts are retried)
    timeout = 5                       # seconds per attempt
    backoff = 1                       # seconds before the 2nd attempt, doubled after each
    flush_seconds = 5                 # a command waits at most this long for its messages
    max_age_minutes = 60              # an event older than this is not announced any more
    postmortem_url = "https://wiki.internal/postmortems/{incident}"   # optional

    [env.prod.notify.team]            # a channel: its name, then its plugin and options
    plugin = "slack"
    token_env = "SLACK_BOT_TOKEN"     # secrets: the *name* of an environment variable
    channel = "C0123456789"
    events = ["opened", "acknowledged", "mitigation", "applied", "recovered", "resolved"]

    [env.prod.notify.pager]
    plugin = "pagerduty"
    routing_key_env = "PAGERDUTY_ROUTING_KEY"
    min_severity = "SEV2"             # only SEV1 and SEV2 incidents

    [env.prod.notify.drills]
    plugin = "slack"
    webhook_url_env = "SLACK_DRILL_WEBHOOK"
    drills = true                     # a drill channel: drills go here and only here

A channel without ``drills = true`` never hears about a drill; one with it hears only
drills. The plugin's own options are checked when the channel is opened
(``console.notify.channels``); these keys are checked here, when the config is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.errors import ConfigError
from console.notify.model import SEVERITIES, Topic

#: Longest wait between attempts when the service does not say (``Retry-After`` is honoured
#: as given, up to ``MAX_RETRY_AFTER_S``).
MAX_BACKOFF_S = 60.0
MAX_RETRY_AFTER_S = 3600.0
CHANNEL_KEYS = ("plugin", "events", "drills", "min_severity", "attempts", "timeout", "backoff")
ENV_KEYS = ("attempts", "timeout", "backoff", "flush_seconds", "max_age_minutes", "postmortem_url")
SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey", "routing_key", "webhook")


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries of at most ``timeout_s`` each; before try n+1 the core waits
    ``backoff_s · 2ⁿ⁻¹`` seconds (at most ``MAX_BACKOFF_S``) — or what ``Retry-After``
    says."""

    attempts: int = 4
    timeout_s: float = 5.0
    backoff_s: float = 1.0

    def wait_before(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before ``attempt`` (2, 3, …). ``retry_after`` (seconds, from the
        service) wins when given, capped at ``MAX_RETRY_AFTER_S``; negative values read 0."""
        if retry_after is not None:
            return min(max(0.0, retry_after), MAX_RETRY_AFTER_S)
        return min(self.backoff_s * 2 ** max(0, attempt - 2), MAX_BACKOFF_S)


@dataclass(frozen=True)
class ChannelSettings:
    name: str
    plugin: str
    topics: frozenset[Topic] | None  # None: the plugin's defaults
    drills: bool
    min_severity: str
    retry: RetryPolicy
    options: Mapping[str, Any] = field(default_factory=dict)  # the plugin's own
    key: str = ""  # where it is in config.toml ("env.prod.notify.team"), for errors

    def takes(self, topic: Topic, *, drill: bool, severity: str) -> bool:
        """Whether this channel hears about ``topic`` for an incident (topics it does not
        take at all are filtered by the caller, who knows the plugin's defaults)."""
        if drill != self.drills:
            return False
        rank = SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
        return rank <= SEVERITIES.index(self.min_severity)


@dataclass(frozen=True)
class NotifySettings:
    channels: tuple[ChannelSettings, ...] = ()
    flush_s: float = 5.0
    max_age_minutes: float = 60.0
    postmortem_url: str | None = None

    def __bool__(self) -> bool:
        return bool(self.channels)


def _number(path: Path, key: str, value: Any, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(path, key, f"expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _retry(path: Path, key: str, table: Mapping[str, Any], base: RetryPolicy) -> RetryPolicy:
    attempts = table.get("attempts", base.attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 20:
        raise ConfigError(path, f"{key}.attempts", f"expected 1 to 20, got {attempts!r}")
    return RetryPolicy(
        attempts=attempts,
        timeout_s=_number(
            path, f"{key}.timeout", table.get("timeout", base.timeout_s), low=0.1, high=120
        ),
        backoff_s=_number(
            path, f"{key}.backoff", table.get("backoff", base.backoff_s), low=0, high=MAX_BACKOFF_S
        ),
    )


def _topics(path: Path, key: str, value: Any) -> frozenset[Topic] | None:
    if value is None:
        return None
    known = [t.value for t in Topic]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, f"expected a list of event names, got {value!r}")
    for v in value:
        if v not in known:
            raise ConfigError(path, key, f"unknown event {v!r}", hint=f"known: {', '.join(known)}")
    return frozenset(Topic(v) for v in value)


def _check_no_secret(path: Path, key: str, options: Mapping[str, Any]) -> None:
    for k, v in options.items():
        low = k.lower()
        if any(w in low for w in SECRET_WORDS) and not low.endswith("_env") and v:
            raise ConfigError(
                path,
                f"{key}.{k}",
                "secrets are never stored in the config file (a webhook URL is one)",
                hint=f'put it in an environment variable and write {k}_env = "VAR_NAME"',
            )


def parse_notify(path: Path, key: str, raw: Any) -> NotifySettings:
    """``[env.X.notify]`` (``key`` names it for errors). ``None`` means no channels."""
    if raw is None:
        return NotifySettings()
    if not isinstance(raw, dict):
        raise ConfigError(path, key, "expected a table of settings and channels")
    base = _retry(path, key, raw, RetryPolicy())
    channels = []
    for name, value in raw.items():
        if not isinstance(value, dict):
            if name not in ENV_KEYS:
                raise ConfigError(
                    path,
                    f"{key}.{name}",
                    "unknown key",
                    hint=f"settings: {', '.join(ENV_KEYS)}; a channel is a table with plugin = …",
                )
            continue
        ckey = f"{key}.{name}"
        plugin = value.get("plugin")
        if not isinstance(plugin, str) or not plugin:
            raise ConfigError(
                path, f"{ckey}.plugin", "missing plugin name", hint='e.g. plugin = "slack"'
            )
        drills = value.get("drills", False)
        if not isinstance(drills, bool):
            raise ConfigError(path, f"{ckey}.drills", f"expected true or false, got {drills!r}")
        severity = value.get("min_severity", "SEV4")
        if severity not in SEVERITIES:
            raise ConfigError(
                path, f"{ckey}.min_severity", f"must be one of {', '.join(SEVERITIES)}"
            )
        options = {k: v for k, v in value.items() if k not in CHANNEL_KEYS}
        _check_no_secret(path, ckey, options)
        channels.append(
            ChannelSettings(
                name=str(name),
                plugin=plugin,
                topics=_topics(path, f"{ckey}.events", value.get("events")),
                drills=drills,
                min_severity=str(severity),
                retry=_retry(path, ckey, value, base),
                options=options,
                key=ckey,
            )
        )
    url = raw.get("postmortem_url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        raise ConfigError(path, f"{key}.postmortem_url", f"expected an http(s) URL, got {url!r}")
    return NotifySettings(
        channels=tuple(channels),
        flush_s=_number(
            path, f"{key}.flush_seconds", raw.get("flush_seconds", 5.0), low=0, high=600
        ),
        max_age_minutes=_number(
            path, f"{key}.max_age_minutes", raw.get("max_age_minutes", 60.0), low=0, high=1e6
        ),
        postmortem_url=url,
    )
