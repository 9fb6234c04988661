"""``sagemaker``: an Amazon SageMaker real-time endpoint's production variants as Rollbook's
traffic backend.

Each model is one endpoint; each version (and each kill-switch fallback) one of its production
variants. Weights move with ``UpdateEndpointWeightsAndCapacities`` and are read back with
``DescribeEndpoint`` (every variant's ``CurrentWeight`` equal to its ``DesiredWeight`` and the
endpoint ``InService`` again) before ``set_routes`` returns. A version that has no variant on
the endpoint but an endpoint config of its own is rolled back to with ``UpdateEndpoint``.

Credentials come only from boto3's usual chain (environment, shared config/credentials files
and ``profile``, container or instance role); none is ever read from Rollbook's config.
Options (``[env.NAME.traffic]``)::

    plugin = "sagemaker"
    region = "eu-west-1"        # default: the profile's or AWS_REGION / AWS_DEFAULT_REGION
    profile = "oncall"          # optional named profile
    endpoint_url = ""           # optional: a VPC endpoint (the tests point it at moto)
    readback_timeout = 300      # seconds to wait for InService with the new weights
    poll_interval = 5           # seconds between DescribeEndpoint calls while waiting

    [env.NAME.traffic.models.churn]
    endpoint = "churn-prod"
    variants = { "6" = "churn-v6", "7" = "churn-v7", "8" = "churn-v8" }  # version = variant
    fallbacks = { previous = "7", rules = "churn-rules", manual = "churn-review" }
    configs = { "6" = "churn-prod-v6" }   # optional: a version no longer on the endpoint,
                                          # deployed back with UpdateEndpoint to its config
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.errors import ConfigError

OPTIONS = ("region", "profile", "endpoint_url", "readback_timeout", "poll_interval", "models")


def make_traffic(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.sagemaker.traffic import SageMakerTraffic, endpoint_models

    base = f"env.{ctx.env_name}.traffic"

    def bad(opt: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(ctx.config_path, f"{base}.{opt}" if opt else base, problem, hint=hint)

    numbers = {}
    for opt, default in (("readback_timeout", 300.0), ("poll_interval", 5.0)):
        v = options.get(opt, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
            raise bad(opt, f"expected a positive number of seconds, got {v!r}")
        numbers[opt] = float(v)
    for opt in ("region", "profile", "endpoint_url"):
        v = options.get(opt)
        if v is not None and not isinstance(v, str):
            raise bad(opt, f"expected a string, got {v!r}")
    try:
        models = endpoint_models(options.get("models"), f"{base}.models")
    except ValueError as exc:
        raise bad("", str(exc)) from None
    try:
        import boto3
    except ImportError:
        raise bad(
            "plugin", "the sagemaker plugin needs boto3", hint="pip install 'rollbook[sagemaker]'"
        ) from None
    session = boto3.Session(
        profile_name=options.get("profile") or None, region_name=options.get("region") or None
    )
    if session.region_name is None:
        raise bad(
            "region",
            "no AWS region: set region here, in the profile, or AWS_REGION",
            hint='region = "eu-west-1"',
        )
    client = session.client("sagemaker", endpoint_url=options.get("endpoint_url") or None)
    return SageMakerTraffic(
        client,
        models,
        readback_timeout=numbers["readback_timeout"],
        poll_interval=numbers["poll_interval"],
    )


plugin = Plugin(
    name="sagemaker",
    description="Amazon SageMaker endpoint: production variant weights, rollback to an "
    "endpoint config, kill-switch variants.",
    roles={"traffic": make_traffic},
    options={"traffic": OPTIONS},
)
