"""SageMaker production variants as routes: a route's weight is its variant's share of the
endpoint's ``CurrentWeight`` total, in whole percentages when Rollbook set them.

A change is one ``UpdateEndpointWeightsAndCapacities`` call (all variants at once, so the
endpoint never sees a half-applied split) or, for a version with no variant on the endpoint, one
``UpdateEndpoint`` to that version's endpoint config. Either way ``set_routes`` returns only
after ``DescribeEndpoint`` shows the endpoint ``InService`` with every variant's
``CurrentWeight`` equal to its ``DesiredWeight`` and the shares asked for; an endpoint that
stays ``Updating`` past ``readback_timeout`` is an error that says the change may still land.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from console.backends.interfaces import Traffic
from console.backends.types import (
    FALLBACK_MANUAL,
    FALLBACK_RULES,
    FallbackLevel,
    Health,
    check_total,
    whole_percent,
)
from console.errors import BackendError, InvalidInput, NotFound

UNMAPPED = "variant:"  # route key prefix for a variant the config does not name
FALLBACK_ROUTES = {"rules": FALLBACK_RULES, "manual": FALLBACK_MANUAL}
LADDER = ("previous", "rules", "manual")
#: Endpoint statuses during which SageMaker is still applying a change.
IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed")
#: Variant statuses under which a variant does not take requests.
VARIANT_DOWN = ("Creating", "Deleting")


@dataclass(frozen=True)
class EndpointModel:
    """One model's endpoint and which production variant is which route."""

    endpoint: str
    variants: Mapping[str, str]  # version -> variant name
    fallbacks: Mapping[str, str] = field(default_factory=dict)  # previous -> version;
    #                                                 rules/manual -> variant name
    # version -> endpoint config whose variant ``variants[version]`` serves it (a rollback to
    # a version that is no longer on the endpoint)
    configs: Mapping[str, str] = field(default_factory=dict)

    def route_variants(self) -> dict[str, str]:
        """route -> variant: the versions and the rules/manual fallbacks."""
        out = dict(self.variants)
        for level, route in FALLBACK_ROUTES.items():
            if level in self.fallbacks:
                out[route] = self.fallbacks[level]
        return out


def variant_shares(described: Mapping[str, Any], variant_routes: Mapping[str, str]) -> dict:
    """route -> % of requests from a DescribeEndpoint answer (``CurrentWeight``; a variant
    that reports none, or 0, takes no requests and is left out)."""
    weights = {
        v["VariantName"]: float(v.get("CurrentWeight") or 0.0)
        for v in described.get("ProductionVariants", [])
    }
    total = sum(weights.values())
    if total <= 0:
        return {}
    return {
        variant_routes.get(name, UNMAPPED + name): round(100.0 * w / total, 4)
        for name, w in weights.items()
        if w > 0
    }


class SageMakerTraffic(Traffic):
    capabilities: ClassVar[frozenset[str]] = frozenset({"fallback", "probe"})

    def __init__(
        self,
        client: Any,
        models: Mapping[str, EndpointModel],
        *,
        readback_timeout: float = 300.0,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client  # a boto3 "sagemaker" client
        self.models = dict(models)
        self.readback_timeout = readback_timeout
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._lock = threading.Lock()

    # ---- AWS calls ----------------------------------------------------------------------
    def _aws(self, operation: str, **params: Any) -> dict:
        """One SageMaker API call; botocore's errors become BackendError naming the call."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return getattr(self.client, operation)(**params)
        except NoCredentialsError as exc:
            raise BackendError(
                f"SageMaker {operation}: no AWS credentials",
                hint="credentials come from the environment (AWS_ACCESS_KEY_ID…), the "
                "profile option or an instance/container role",
            ) from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise BackendError(
                f"SageMaker {operation} failed: {err.get('Code', '?')}: {err.get('Message', exc)}",
                hint="AccessDenied: see the IAM permissions in the README's sagemaker section"
                if "AccessDenied" in str(err.get("Code"))
                else None,
            ) from exc
        except BotoCoreError as exc:
            raise BackendError(f"SageMaker {operation}: {exc}") from exc

    def describe(self, endpoint: str) -> dict:
        return self._aws("describe_endpoint", EndpointName=endpoint)

    def _model(self, model: str) -> EndpointModel:
        try:
            return self.models[model]
        except KeyError:
            raise NotFound(
                f"no SageMaker endpoint is configured for model {model!r}",
                hint=f"add [env.<name>.traffic.models.{model}] with endpoint and variants",
            ) from None

    # ---- Traffic ------------------------------------------------------------------------
    def routes(self, model: str) -> dict[str, float]:
        """The shares serving now. While an update moves the weights (``Updating`` with a
        ``DesiredWeight`` other than the ``CurrentWeight``) there is no one answer: that is a
        BackendError, so an action never reads "unchanged" in the middle of its own update."""
        em = self._model(model)
        by_variant = {v: r for r, v in em.route_variants().items()}
        d = self.describe(em.endpoint)
        status = d.get("EndpointStatus")
        variants = d.get("ProductionVariants", [])
        moving = any(
            v.get("DesiredWeight") is not None
            and float(v["DesiredWeight"]) != float(v.get("CurrentWeight") or 0.0)
            for v in variants
        )
        if status in IN_PROGRESS and moving:
            desired = {
                **d,
                "ProductionVariants": [
                    {**v, "CurrentWeight": v.get("DesiredWeight")} for v in variants
                ],
            }
            raise BackendError(
                f"SageMaker endpoint {em.endpoint} is {status}: weights moving from "
                f"{variant_shares(d, by_variant)} to {variant_shares(desired, by_variant)}",
                hint="read the routes again once it is InService",
            )
        return variant_shares(d, by_variant)

    def set_routes(self, model: str, weights: Mapping[str, float], *, actor: str) -> None:
        em = self._model(model)
        variants = em.route_variants()
        plan: dict[str, int] = {}  # route -> whole percentage
        for route, pct in weights.items():
            known = route in variants or route.startswith(UNMAPPED)
            if not known:
                raise InvalidInput(
                    f"{model} has no SageMaker variant or endpoint config for route {route!r}",
                    hint=f"known routes: {', '.join(sorted(variants))}",
                )
            plan[route] = whole_percent(pct, route, "SageMaker")
        check_total(plan)
        serving = {r: w for r, w in plan.items() if w > 0}
        with self._lock:
            described = self.describe(em.endpoint)
            status = described.get("EndpointStatus")
            if status != "InService":
                raise BackendError(
                    f"SageMaker endpoint {em.endpoint} is {status}; nothing was changed",
                    hint="wait until it is InService, then try again",
                )
            on_endpoint = [v["VariantName"] for v in described.get("ProductionVariants", [])]
            wanted: dict[str, int] = {}
            for r, w in serving.items():
                wanted[self._variant(em, r)] = wanted.get(self._variant(em, r), 0) + w
            missing = [r for r in serving if self._variant(em, r) not in on_endpoint]
            config = None
            if not missing:
                self._aws(
                    "update_endpoint_weights_and_capacities",
                    EndpointName=em.endpoint,
                    DesiredWeightsAndCapacities=[
                        {"VariantName": v, "DesiredWeight": float(wanted.get(v, 0))}
                        for v in on_endpoint
                    ],
                )
            elif len(serving) == 1 and missing[0] in em.configs:
                # A rollback to a version that left the endpoint: its own endpoint config.
                config = em.configs[missing[0]]
                self._aws("update_endpoint", EndpointName=em.endpoint, EndpointConfigName=config)
            else:
                raise InvalidInput(
                    f"SageMaker endpoint {em.endpoint} has no variant for "
                    f"{', '.join(missing)} (variants: {', '.join(on_endpoint)})",
                    hint="a version that is not on the endpoint can only take all the traffic, "
                    "through its endpoint config (configs = { VERSION = CONFIG })",
                )
            self._read_back(em, {r: float(w) for r, w in serving.items()}, config)

    def _variant(self, em: EndpointModel, route: str) -> str:
        if route.startswith(UNMAPPED):
            return route[len(UNMAPPED) :]
        return em.route_variants().get(route, route)

    def _read_back(
        self, em: EndpointModel, expected: dict[str, float], config: str | None = None
    ) -> None:
        """Wait until the endpoint is InService with Current = Desired weights (and, after an
        UpdateEndpoint, on ``config``), then compare the shares with ``expected``."""
        deadline = time.monotonic() + self.readback_timeout
        by_variant = {v: r for r, v in em.route_variants().items()}
        while True:
            d = self.describe(em.endpoint)
            status = d.get("EndpointStatus")
            if config is not None and d.get("EndpointConfigName") != config:
                status = status if status != "InService" else "not yet on " + config
            if status == "Failed":
                raise BackendError(
                    f"SageMaker endpoint {em.endpoint} Failed: {d.get('FailureReason', '?')}"
                )
            variants = d.get("ProductionVariants", [])
            settled = all(
                float(v.get("CurrentWeight") or 0.0) == float(v.get("DesiredWeight") or 0.0)
                for v in variants
            )
            if status == "InService" and settled:
                got = variant_shares(d, by_variant)
                keys = set(got) | set(expected)
                if any(abs(got.get(k, 0.0) - expected.get(k, 0.0)) > 0.01 for k in keys):
                    raise BackendError(
                        f"SageMaker endpoint {em.endpoint} reads back {got}, expected {expected}"
                    )
                return
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"SageMaker endpoint {em.endpoint} still {status} after "
                    f"{self.readback_timeout:g}s; the new weights are not confirmed",
                    hint="the update may still apply: read the routes back before retrying",
                )
            self._sleep(self.poll_interval)

    def fallbacks(self, model: str) -> list[FallbackLevel]:
        em = self._model(model)
        out = []
        for level in LADDER:
            target = em.fallbacks.get(level)
            if not target:
                continue
            if level == "previous":
                out.append(FallbackLevel("previous", target, f"previous approved model ({target})"))
            else:
                out.append(
                    FallbackLevel(
                        level,
                        FALLBACK_ROUTES[level],
                        f"SageMaker variant {em.endpoint}/{target}",
                    )
                )
        return out

    def probe(self, model: str, route: str) -> Health:
        """The endpoint's and the route's variant's status as SageMaker reports them (it
        does not invoke the model). A version deployed only through its endpoint config is
        reported by that config's existence: its readiness is read back after the update."""
        em = self._model(model)
        start = time.perf_counter()

        def done(ok: bool, detail: str) -> Health:
            return Health(route, ok, detail, round((time.perf_counter() - start) * 1000, 2))

        variant = self._variant(em, route)
        d = self.describe(em.endpoint)
        status = d.get("EndpointStatus")
        rows = d.get("ProductionVariants", [])
        row = next((v for v in rows if v["VariantName"] == variant), None)
        if row is None:
            config = em.configs.get(route)
            if config is None:
                return done(False, f"endpoint {em.endpoint} has no variant {variant}")
            self._aws("describe_endpoint_config", EndpointConfigName=config)
            return done(
                True,
                f"not on {em.endpoint} now: endpoint config {config} exists and is deployed "
                "with UpdateEndpoint; its readiness is read back after the update",
            )
        if status in ("Failed", "OutOfService", "Deleting"):
            return done(False, f"endpoint {em.endpoint} is {status}")
        down = [s.get("Status") for s in row.get("VariantStatus", []) if s.get("Status")]
        if any(s in VARIANT_DOWN for s in down):
            return done(False, f"variant {variant} is {', '.join(down)}")
        count = row.get("CurrentInstanceCount")
        if count is not None and count < 1:
            return done(False, f"variant {variant} has no running instance")
        instances = f", {count} instance{'s' if count != 1 else ''}" if count else ""
        return done(True, f"variant {variant} on {em.endpoint} ({status}{instances})")


def endpoint_models(raw: Any, where: str) -> dict[str, EndpointModel]:
    """Parse the ``models`` option; raises ValueError naming the key that is wrong."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(
            f"{where}: expected a table per model: [{where}.MODEL] with endpoint and variants"
        )
    out = {}
    for model, t in raw.items():
        key = f"{where}.{model}"
        if not isinstance(t, Mapping):
            raise ValueError(f"{key}: expected a table")
        endpoint = t.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise ValueError(f'{key}.endpoint: expected the endpoint name, e.g. "churn-prod"')
        variants = t.get("variants")
        if not isinstance(variants, Mapping) or not variants:
            raise ValueError(f'{key}.variants: expected a table version = "variant name"')
        fallbacks = t.get("fallbacks", {})
        if not isinstance(fallbacks, Mapping) or set(fallbacks) - set(LADDER):
            raise ValueError(
                f"{key}.fallbacks: expected a table with keys among {', '.join(LADDER)}"
            )
        configs = t.get("configs", {})
        if not isinstance(configs, Mapping):
            raise ValueError(f'{key}.configs: expected a table version = "endpoint config"')
        strays = [str(v) for v in configs if str(v) not in map(str, variants)]
        if strays:
            raise ValueError(
                f"{key}.configs: version {strays[0]!r} needs its variant name in variants "
                "(the variant that serves it in that endpoint config)"
            )
        if "previous" in fallbacks and str(fallbacks["previous"]) not in map(str, variants):
            raise ValueError(
                f"{key}.fallbacks.previous: names version "
                f"{fallbacks['previous']!r}, which is not in variants"
            )
        out[str(model)] = EndpointModel(
            endpoint=endpoint,
            variants={str(k): str(v) for k, v in variants.items()},
            fallbacks={str(k): str(v) for k, v in fallbacks.items()},
            configs={str(k): str(v) for k, v in configs.items()},
        )
    return out
