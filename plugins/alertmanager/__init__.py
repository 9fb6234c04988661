"""``alertmanager``: Alertmanager's active alerts as incident triggers, and silences.

Rollbook has one metrics plugin per environment, so Alertmanager usually rides along with
Prometheus: set ``alertmanager_url`` in the ``prometheus`` plugin's options and alerts and
silences come from Alertmanager while signals come from Prometheus. This plugin is for an
environment that has Alertmanager but no Prometheus to query: it serves the metrics role
with alerts and silences only (every signal reads "no data").

Options (``[env.NAME.metrics]``)::

    plugin = "alertmanager"
    url = "http://127.0.0.1:9093"
    model_label = "model"        # the alert label naming the model
    include_silenced = false     # silenced/inhibited alerts are not incident triggers
    timeout = 5
    token_env = "AM_TOKEN"       # or username_env / password_env

Alert fingerprints are Alertmanager's own; the ``prometheus`` plugin computes the same
fingerprint for alerts read from Prometheus, so either source opens one incident per alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.backends.plugin import Plugin, PluginContext

OPTIONS = (
    "url",
    "model_label",
    "include_silenced",
    "timeout",
    "token_env",
    "username_env",
    "password_env",
)


def make_metrics(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.alertmanager.backend import AlertmanagerMetrics
    from plugins.http_common.alertmanager import alertmanager_from_options

    return AlertmanagerMetrics(
        alertmanager_from_options(ctx, options, url_key="url", prefix="", required=True)
    )


plugin = Plugin(
    name="alertmanager",
    description="Alertmanager alerts as incident triggers, and silences (no signals).",
    roles={"metrics": make_metrics},
    options={"metrics": OPTIONS},
)
