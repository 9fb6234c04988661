"""``kserve``: KServe InferenceServices on Kubernetes as Rollbook's traffic backend.

A model is an InferenceService; a version is the revision KServe made from that version's
``storageUri``; a canary is ``spec.predictor.canaryTrafficPercent`` (the latest revision takes
that share, the previous rolled-out revision the rest). Rollback sets it to 0 (all traffic back
on the previous revision) or, for an older version, restores that version's ``storageUri``.
Every change is read back from ``status.components.predictor.traffic`` within a deadline.
The kill switch sends traffic to a fallback InferenceService through an InferenceGraph whose
``root`` node is a ``Splitter`` (``router``). What the plugin needs to remember lives in
annotations ``rollbook.dev/…`` on the InferenceService (see ``plugins.kserve.traffic``).

Kubernetes access through the official ``kubernetes`` client: ``kubeconfig`` when given, else
the in-cluster service account when running in a pod, else ``$KUBECONFIG`` or
``~/.kube/config``. Options (``[env.NAME.traffic]``)::

    plugin = "kserve"
    namespace = "models"            # default namespace (else the kubeconfig context's)
    kubeconfig = "~/.kube/config"   # optional
    context = "prod"                # optional kubeconfig context
    readback_timeout = 120          # seconds to wait for status to show the new traffic
    poll_interval = 2               # seconds between reads while waiting

    [env.NAME.traffic.models.churn]
    service = "churn"                                  # InferenceService (default: the model)
    namespace = "models"                               # optional, per model
    versions = { "7" = "s3://models/churn/7", "8" = "s3://models/churn/8" }  # version = storageUri
    router = "churn-router"                            # optional InferenceGraph (Splitter root)
    fallbacks = { previous = "7", rules = "churn-rules", manual = "churn-review" }
    #             rules/manual: InferenceServices, reached through the router
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.errors import ConfigError

OPTIONS = ("namespace", "kubeconfig", "context", "readback_timeout", "poll_interval", "models")


def api_client(options: Mapping[str, Any], bad: Any) -> tuple[Any, str | None]:
    """A ``kubernetes.client.ApiClient`` and the context's namespace (None in-cluster or
    when the context names none)."""
    try:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
    except ImportError:
        raise bad(
            "plugin",
            "the kserve plugin needs the kubernetes client",
            hint="pip install 'rollbook[kserve]'",
        ) from None
    path = options.get("kubeconfig")
    context = options.get("context")
    try:
        if not path and os.environ.get("KUBERNETES_SERVICE_HOST") and not context:
            cfg = client.Configuration()
            config.load_incluster_config(client_configuration=cfg)
            ns_file = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
            ns = ns_file.read_text().strip() if ns_file.exists() else None
            return client.ApiClient(cfg), ns
        file = str(Path(path).expanduser()) if path else None
        contexts, active = config.list_kube_config_contexts(config_file=file)
        chosen = next((c for c in contexts if c["name"] == context), None) if context else active
        if context and chosen is None:
            raise bad("context", f"kubeconfig has no context {context!r}")
        ns = (chosen or {}).get("context", {}).get("namespace")
        return config.new_client_from_config(config_file=file, context=context or None), ns
    except (ConfigException, OSError) as exc:
        raise bad(
            "kubeconfig",
            f"cannot load the Kubernetes configuration: {exc}",
            hint="set kubeconfig (and context), or run in a pod with a service account",
        ) from None


def make_traffic(ctx: PluginContext, options: Mapping[str, Any]):
    from plugins.kserve.model import service_models
    from plugins.kserve.traffic import KServeTraffic

    base = f"env.{ctx.env_name}.traffic"

    def bad(opt: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(ctx.config_path, f"{base}.{opt}" if opt else base, problem, hint=hint)

    numbers = {}
    for opt, default in (("readback_timeout", 120.0), ("poll_interval", 2.0)):
        v = options.get(opt, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
            raise bad(opt, f"expected a positive number of seconds, got {v!r}")
        numbers[opt] = float(v)
    for opt in ("namespace", "kubeconfig", "context"):
        v = options.get(opt)
        if v is not None and (not isinstance(v, str) or not v):
            raise bad(opt, f"expected a non-empty string, got {v!r}")
    api, context_ns = api_client(options, bad)
    namespace = options.get("namespace") or context_ns or "default"
    try:
        models = service_models(options.get("models"), namespace, f"{base}.models")
    except ValueError as exc:
        raise bad("", str(exc)) from None
    return KServeTraffic(
        api,
        models,
        readback_timeout=numbers["readback_timeout"],
        poll_interval=numbers["poll_interval"],
    )


plugin = Plugin(
    name="kserve",
    description="KServe InferenceService on Kubernetes: canary traffic percent, storageUri "
    "rollback, kill switch through an InferenceGraph splitter.",
    roles={"traffic": make_traffic},
    options={"traffic": OPTIONS},
)
