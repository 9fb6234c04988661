"""``prometheus``: Prometheus as Rollbook's metrics backend; alerts from Alertmanager when
``alertmanager_url`` is set (recommended: that is where alerts are deduplicated, grouped and
silenced), else from Prometheus' own ``/api/v1/alerts``.

Options (``[env.NAME.metrics]``)::

    plugin = "prometheus"
    url = "http://127.0.0.1:9090"
    alertmanager_url = "http://127.0.0.1:9093"   # optional: alerts and silences from here
    preset = "model"                  # default metric names; or "http" (http_requests_total…)
    http_exclude_handlers = "/health.*|/metrics|/docs.*"   # http preset: not predictions
    window = "5m"                     # $window in the templates
    model_label = "model"             # labels naming the model and version
    version_label = "version"
    cache_seconds = 5                 # reuse a fleet-wide query this long
    timeout = 5
    token_env = "PROM_TOKEN"          # or username_env / password_env (basic auth)
    alertmanager_token_env = "AM_TOKEN"   # Alertmanager's own credentials, if different
    [env.NAME.metrics.signals]        # override or add signals (PromQL templates)
    error_rate = 'sum by ($by) (rate(errors_total{$sel}[$window]))
                  / sum by ($by) (rate(requests_total{$sel}[$window]))'   # (one line)
    revenue_per_hour = 'sum by ($by) (shop_revenue_per_hour{$sel})'

Templates and defaults: see ``plugins.prometheus.promql``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.errors import ConfigError

OPTIONS = (
    "url",
    "alertmanager_url",
    "preset",
    "http_exclude_handlers",
    "window",
    "model_label",
    "version_label",
    "cache_seconds",
    "timeout",
    "signals",
    "token_env",
    "username_env",
    "password_env",
    "alertmanager_token_env",
    "alertmanager_username_env",
    "alertmanager_password_env",
    "include_silenced",
)


def _bad(ctx: PluginContext, opt: str, problem: str, hint: str | None = None) -> ConfigError:
    return ConfigError(ctx.config_path, f"env.{ctx.env_name}.metrics.{opt}", problem, hint=hint)


def make_metrics(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.http_common.alertmanager import alertmanager_from_options
    from plugins.http_common.api import JsonApi, auth_from_options, timeout_option, url_option
    from plugins.prometheus import promql
    from plugins.prometheus.metrics import PrometheusMetrics

    url = url_option(ctx, options, "metrics")
    preset = options.get("preset", "model")
    if preset not in promql.PRESETS:
        raise _bad(
            ctx, "preset", f"unknown preset {preset!r}", hint=f"known: {', '.join(promql.PRESETS)}"
        )
    custom = options.get("signals", {})
    if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
        raise _bad(ctx, "signals", 'expected a table of signal = "PromQL template"')
    signals = {**promql.DEFAULT_SIGNALS, **promql.PRESETS[preset], **custom}
    labels = {}
    for opt in ("model_label", "version_label"):
        labels[opt] = str(options.get(opt, opt.removesuffix("_label")))
        if not promql.valid_label(labels[opt]):
            raise _bad(ctx, opt, f"{labels[opt]!r} is not a Prometheus label name")
    cache = options.get("cache_seconds", 5)
    if isinstance(cache, bool) or not isinstance(cache, int | float) or cache < 0:
        raise _bad(ctx, "cache_seconds", "expected a number of seconds (0 turns caching off)")
    window = options.get("window", "5m")
    if not isinstance(window, str) or not window:
        raise _bad(ctx, "window", "expected a PromQL duration", hint='e.g. window = "5m"')
    exclude = options.get("http_exclude_handlers", promql.DEFAULT_EXCLUDE_HANDLERS)
    if not isinstance(exclude, str):
        raise _bad(ctx, "http_exclude_handlers", "expected a regex of handler paths")
    am = alertmanager_from_options(ctx, options, url_key="alertmanager_url", prefix="alertmanager_")
    main_auth = {k: v for k, v in options.items() if not k.startswith("alertmanager_")}
    return PrometheusMetrics(
        JsonApi(
            "Prometheus",
            url,
            timeout=timeout_option(ctx, options, "metrics"),
            auth=auth_from_options(ctx, main_auth, "metrics"),
        ),
        signals=signals,
        window=window,
        cache_seconds=float(cache),
        alertmanager=am,
        clock=ctx.clock,
        exclude_handlers=exclude,
        **labels,
    )


plugin = Plugin(
    name="prometheus",
    description="Prometheus signals (PromQL templates) and alerts (Alertmanager or Prometheus).",
    roles={"metrics": make_metrics},
    options={"metrics": OPTIONS},
)
