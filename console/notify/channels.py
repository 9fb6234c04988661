"""Open an environment's notification channels through their plugins (``notify`` role).

A ``notify`` factory is the ``Notifier`` subclass itself (its constructor takes the plugin
context and the channel's options), so what a service can say (``topics``,
``default_topics``) is known even when the channel cannot be opened. A channel that cannot be
opened — its plugin missing, a secret's variable not set — is kept with its ``problem``: its
messages are still queued (a fixed config sends them), and nothing else is affected; an
incident's action never fails because Slack is misconfigured.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.backends.discovery import load_plugin
from console.backends.plugin import PluginContext
from console.config import Config, EnvironmentConfig
from console.errors import ConfigError, RollbookError
from console.notify.model import Notifier, Topic
from console.notify.settings import ChannelSettings

ROLE = "notify"


@dataclass
class Channel:
    settings: ChannelSettings
    kind: type[Notifier] | None = None
    notifier: Notifier | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.settings.name

    def topics(self) -> frozenset[Topic]:
        """What this channel is told about: the configured ``events`` (only those the service
        can say), else the plugin's defaults."""
        if self.kind is None:
            return self.settings.topics or frozenset(Topic)
        if self.settings.topics is None:
            return self.kind.default_topics
        return self.settings.topics & self.kind.topics

    def takes(self, topic: Topic, *, drill: bool, severity: str) -> bool:
        return topic in self.topics() and self.settings.takes(topic, drill=drill, severity=severity)

    def describe(self) -> str:
        if self.notifier is not None:
            return f"{self.name} ({self.notifier.describe()})"
        return f"{self.name} ({self.settings.plugin}: {self.problem})"

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.close()


def open_channel(config: Config, env: EnvironmentConfig, cs: ChannelSettings) -> Channel:
    """One channel; a problem is kept on it, never raised."""
    ch = Channel(cs)
    try:
        plugin = load_plugin(cs.plugin, config_path=config.path, key=f"{cs.key}.plugin")
        factory = plugin.roles.get(ROLE)
        if not (isinstance(factory, type) and issubclass(factory, Notifier)):
            raise ConfigError(
                config.path,
                f"{cs.key}.plugin",
                f"plugin {cs.plugin!r} does not serve the notify role",
                hint=f"it serves: {', '.join(sorted(plugin.roles))}",
            )
        ch.kind = factory
        if cs.topics is not None and cs.topics - factory.topics:
            cannot = ", ".join(sorted(t.value for t in cs.topics - factory.topics))
            raise ConfigError(
                config.path,
                f"{cs.key}.events",
                f"{cs.plugin} cannot send: {cannot}",
                hint=f"it can send: {', '.join(sorted(t.value for t in factory.topics))}",
            )
        allowed = plugin.options.get(ROLE)
        if allowed is not None:
            for opt in cs.options:
                if opt not in allowed:
                    raise ConfigError(
                        config.path,
                        f"{cs.key}.{opt}",
                        f"unknown option for plugin {cs.plugin!r}",
                        hint=f"known: {', '.join(allowed) or 'none'}",
                    )
        ctx = PluginContext(env_name=env.name, data_dir=config.data_dir, config_path=config.path)
        ch.notifier = factory(ctx, cs.options)
    except RollbookError as exc:
        ch.problem = str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the console down
        ch.problem = f"{type(exc).__name__}: {exc}"
    return ch


def open_channels(config: Config, env: EnvironmentConfig) -> list[Channel]:
    return [open_channel(config, env, cs) for cs in env.notify.channels]
