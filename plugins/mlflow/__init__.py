"""``mlflow``: the MLflow model registry as Rollbook's registry (REST API, no ``mlflow``
import at run time).

Options (``[env.NAME.registry]``)::

    plugin = "mlflow"
    url = "http://127.0.0.1:5000"      # the tracking server
    alias = "champion"                 # the production pointer (default champion)
    pointer = "alias"                  # or "stage": MLflow's Production stage is the pointer
    models = ["churn"]                 # optional: only these registered models
    sync_stages = false                # mirror Rollbook stages into MLflow stages
    timeout = 5                        # seconds per HTTP call
    artifact_check_max_mb = 512        # rollback preflight: larger artifacts are not hashed
    artifact_check_timeout = 8         # seconds for the whole artifact check (0 < t)
    token_env = "MLFLOW_TRACKING_TOKEN"         # bearer token, or:
    username_env = "MLFLOW_TRACKING_USERNAME"   # basic auth
    password_env = "MLFLOW_TRACKING_PASSWORD"

Tag names read and written: see ``plugins.mlflow.tags``. The artifact check (rollback
preflight) recomputes ``rollbook.artifact_hash`` through MLflow's artifact proxy: see
``plugins.mlflow.digest`` (the definition) and ``plugins.mlflow.artifacts`` (the sources it
resolves). ``artifact_check_max_mb = 0`` turns it off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.errors import ConfigError

OPTIONS = (
    "url",
    "alias",
    "pointer",
    "models",
    "sync_stages",
    "timeout",
    "artifact_check_max_mb",
    "artifact_check_timeout",
    "token_env",
    "username_env",
    "password_env",
)


def make_registry(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.http_common.api import JsonApi, auth_from_options, timeout_option, url_option
    from plugins.mlflow.registry import MlflowRegistry

    key = "registry"
    url = url_option(ctx, options, key)
    pointer = options.get("pointer", "alias")
    if pointer not in ("alias", "stage"):
        raise ConfigError(
            ctx.config_path,
            f"env.{ctx.env_name}.{key}.pointer",
            f'expected "alias" or "stage", got {pointer!r}',
        )
    alias = options.get("alias", "champion")
    if not isinstance(alias, str) or not alias:
        raise ConfigError(
            ctx.config_path,
            f"env.{ctx.env_name}.{key}.alias",
            "expected an alias name",
            hint='e.g. alias = "champion"',
        )
    models = options.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ConfigError(
            ctx.config_path,
            f"env.{ctx.env_name}.{key}.models",
            "expected a list of registered model names",
        )
    sync = options.get("sync_stages")
    if sync is not None and not isinstance(sync, bool):
        raise ConfigError(
            ctx.config_path, f"env.{ctx.env_name}.{key}.sync_stages", "expected true or false"
        )
    limits = {}
    for name in ("artifact_check_max_mb", "artifact_check_timeout"):
        value = options.get(name)
        if value is None:
            continue
        zero_ok = name == "artifact_check_max_mb"  # 0 turns the check off
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or value < 0
            or (value == 0 and not zero_ok)
        ):
            raise ConfigError(
                ctx.config_path,
                f"env.{ctx.env_name}.{key}.{name}",
                f"expected a {'non-negative' if zero_ok else 'positive'} number, got {value!r}",
                hint="megabytes (0 turns the artifact check off)" if zero_ok else "seconds",
            )
        limits[name] = float(value)
    api = JsonApi(
        "MLflow",
        url,
        timeout=timeout_option(ctx, options, key),
        auth=auth_from_options(ctx, options, key),
    )
    return MlflowRegistry(
        api,
        alias=alias,
        pointer=pointer,
        models=tuple(models),
        sync_stages=sync,
        clock=ctx.clock,
        **limits,
    )


plugin = Plugin(
    name="mlflow",
    description="MLflow model registry (REST): versions, lineage tags, champion alias.",
    roles={"registry": make_registry},
    options={"registry": OPTIONS},
)
