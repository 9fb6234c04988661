"""``haproxy``: HAProxy's runtime API as Rollbook's traffic backend (weights, drain,
maintenance), with the ``http`` probe for health.

Each model is an HAProxy backend; each version, and each kill-switch fallback, one of its
servers. Options (``[env.NAME.traffic]``)::

    plugin = "haproxy"
    socket = "/run/haproxy/admin.sock"   # or "127.0.0.1:9999" (stats socket … level admin)
    timeout = 2                          # seconds per runtime API command
    off_state = "drain"                  # servers at weight 0: "drain" (checks go on) or "maint"
    health_path = "/health"              # the http probe
    predict_path = "/predict"            # "" skips the sample prediction
    version_field = "version"            # the prediction's field naming the serving version
    probe_timeout = 2
    sample_request = '{"features": {"tenure_months": 12}}'   # default for every model

    [env.NAME.traffic.models.churn]
    backend = "churn"                    # HAProxy backend (default: the model's name)
    versions = { "1" = "churn_v1", "2" = "churn_v2" }        # registry version = server
    fallbacks = { previous = "1", rules = "churn_rules", manual = "churn_manual" }
    endpoints = { "1" = "http://10.0.0.5:8080" }   # optional: probe here, not at the
                                                   # server address HAProxy reports
    sample_request = { features = { tenure_months = 12 } }   # per-model override
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.errors import ConfigError

OPTIONS = (
    "socket",
    "timeout",
    "off_state",
    "health_path",
    "predict_path",
    "version_field",
    "probe_timeout",
    "sample_request",
    "models",
)


def make_traffic(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.haproxy.runtime import RuntimeApi
    from plugins.haproxy.traffic import HaproxyTraffic, model_backends, parse_sample
    from plugins.http_common.probe import ProbeSettings

    base = f"env.{ctx.env_name}.traffic"

    def bad(opt: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(ctx.config_path, f"{base}.{opt}" if opt else base, problem, hint=hint)

    address = options.get("socket")
    if not isinstance(address, str) or not address:
        raise bad(
            "socket",
            "needs the runtime API address",
            hint='socket = "/run/haproxy/admin.sock" or "127.0.0.1:9999"',
        )
    numbers = {}
    for opt, default in (("timeout", 2.0), ("probe_timeout", 2.0)):
        v = options.get(opt, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
            raise bad(opt, f"expected a positive number of seconds, got {v!r}")
        numbers[opt] = float(v)
    off = options.get("off_state", "drain")
    if off not in ("drain", "maint"):
        raise bad("off_state", f'expected "drain" or "maint", got {off!r}')
    try:
        api = RuntimeApi(address, timeout=numbers["timeout"])
        defaults = ProbeSettings(
            health_path=str(options.get("health_path", "/health")),
            predict_path=str(options.get("predict_path", "/predict")),
            sample=parse_sample(options.get("sample_request"), f"{base}.sample_request"),
            version_field=str(options.get("version_field", "version")),
            timeout=numbers["probe_timeout"],
        )
        models = model_backends(options.get("models"), defaults, f"{base}.models")
    except ValueError as exc:
        raise bad("", str(exc)) from None
    return HaproxyTraffic(api, models, off_state=off)


plugin = Plugin(
    name="haproxy",
    description="HAProxy runtime API: weights per version, drain/maint, kill switch servers.",
    roles={"traffic": make_traffic},
    options={"traffic": OPTIONS},
)
