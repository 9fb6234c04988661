"""``slack``: incident messages in a Slack channel, one thread per incident (``notify``).

Options (``[env.NAME.notify.CHANNEL]``)::

    plugin = "slack"
    token_env = "SLACK_BOT_TOKEN"        # a bot token (chat:write): chat.postMessage, threads
    channel = "C0123456789"              # the channel's ID (needed with a bot token)
    # or, without a bot token:
    webhook_url_env = "SLACK_WEBHOOK"    # an incoming webhook's URL (a secret): no threads
    broadcast = ["resolved"]             # thread replies also shown in the channel
    api_url = "https://slack.com/api"    # tests point it at a stub
    events = [...]                       # which messages (default: every one)

See ``plugins/slack/notifier.py`` for what is sent.
"""

from __future__ import annotations

from console.backends.plugin import Plugin
from plugins.slack.notifier import OPTIONS, SlackNotifier

plugin = Plugin(
    name="slack",
    description="Slack messages (Block Kit), one thread per incident.",
    roles={"notify": SlackNotifier},
    options={"notify": OPTIONS},
)
