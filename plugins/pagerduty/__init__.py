"""``pagerduty``: the incident's page, kept in step (``notify``): trigger on open (and on a
severity change), acknowledge when someone acknowledges in Rollbook, resolve on resolve.

Options (``[env.NAME.notify.CHANNEL]``)::

    plugin = "pagerduty"
    routing_key_env = "PAGERDUTY_ROUTING_KEY"   # the Events API v2 integration key's variable
    min_severity = "SEV2"                       # page only for SEV1 and SEV2 (optional)
    source = "ml-platform"                      # default: the model's name
    client_url = "https://rollbook.internal"    # optional, shown by PagerDuty
    url = "https://events.pagerduty.com/v2/enqueue"   # tests point it at a stub

See ``plugins/pagerduty/notifier.py`` for the events sent.
"""

from __future__ import annotations

from console.backends.plugin import Plugin
from plugins.pagerduty.notifier import OPTIONS, PagerDutyNotifier

plugin = Plugin(
    name="pagerduty",
    description="PagerDuty Events API v2: trigger, acknowledge, resolve one alert per incident.",
    roles={"notify": PagerDutyNotifier},
    options={"notify": OPTIONS},
)
