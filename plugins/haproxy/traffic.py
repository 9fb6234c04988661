"""HAProxy as Rollbook's traffic backend: each model is an HAProxy backend, each version (and
each kill-switch fallback) one of its servers; a route's weight is the server's share of the
backend's weight among the servers that take requests.

Weights are whole percentages (HAProxy server weights are integers 0–256, and a whole
percentage reads back exactly). Every change is read back with `show stat` before
``set_routes`` returns.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

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
from plugins.haproxy.runtime import RuntimeApi, ServerStat
from plugins.http_common.probe import ProbeSettings, probe_endpoint

UNMAPPED = "server:"  # route key prefix for a server the config does not name
FALLBACK_ROUTES = {"rules": FALLBACK_RULES, "manual": FALLBACK_MANUAL}
LADDER = ("previous", "rules", "manual")


@dataclass(frozen=True)
class ModelBackend:
    """One model's HAProxy backend and which server is which route."""

    backend: str
    versions: Mapping[str, str]  # version -> server
    fallbacks: Mapping[str, str] = field(default_factory=dict)  # previous -> version;
    #                                                    rules/manual -> server
    endpoints: Mapping[str, str] = field(default_factory=dict)  # route -> base URL
    probe: ProbeSettings = ProbeSettings()

    def servers(self) -> dict[str, str]:
        """route -> server, versions and the rules/manual fallbacks."""
        out = dict(self.versions)
        for level, route in FALLBACK_ROUTES.items():
            if level in self.fallbacks:
                out[route] = self.fallbacks[level]
        return out


def shares(stats: list[ServerStat], server_routes: Mapping[str, str]) -> dict[str, float]:
    """route -> percentage of new requests, from `show stat` rows. Servers that take no
    requests (down, drained, in maintenance, weight 0) are left out."""
    serving = [s for s in stats if s.serving]
    total = sum(s.uweight for s in serving)
    if total <= 0:
        return {}
    return {
        server_routes.get(s.server, UNMAPPED + s.server): round(100.0 * s.uweight / total, 4)
        for s in serving
    }


class HaproxyTraffic(Traffic):
    capabilities: ClassVar[frozenset[str]] = frozenset({"fallback", "probe"})

    def __init__(
        self, api: RuntimeApi, models: Mapping[str, ModelBackend], *, off_state: str = "drain"
    ) -> None:
        self.api = api
        self.models = dict(models)
        self.off_state = off_state
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None  # the probe's connections, reused

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _model(self, model: str) -> ModelBackend:
        try:
            return self.models[model]
        except KeyError:
            raise NotFound(
                f"no HAProxy backend is configured for model {model!r}",
                hint=f"add [env.<name>.traffic.models.{model}] with backend and versions",
            ) from None

    def routes(self, model: str) -> dict[str, float]:
        mb = self._model(model)
        by_server = {srv: route for route, srv in mb.servers().items()}
        return shares(self.api.show_stat(mb.backend), by_server)

    def set_routes(self, model: str, weights: Mapping[str, float], *, actor: str) -> None:
        mb = self._model(model)
        servers = mb.servers()
        plan: dict[str, int] = {}
        for route, pct in weights.items():
            if route not in servers and not route.startswith(UNMAPPED):
                raise InvalidInput(
                    f"{model} has no HAProxy server for route {route!r}",
                    hint=f"known routes: {', '.join(sorted(servers))}",
                )
            srv = servers.get(route) or route[len(UNMAPPED) :]
            plan[srv] = plan.get(srv, 0) + whole_percent(pct, route, "HAProxy")
        check_total(plan)
        with self._lock:
            stats = self.api.show_stat(mb.backend)
            known = {s.server for s in stats}
            missing = [srv for srv in plan if srv not in known]
            if missing:
                raise BackendError(
                    f"HAProxy backend {mb.backend!r} has no server {', '.join(missing)}",
                    hint="nothing was changed",
                )
            # Bring the new routes up before taking the old ones out, so no moment leaves
            # the backend without a server.
            for srv, w in sorted(plan.items(), key=lambda kv: -kv[1]):
                if w > 0:
                    self.api.set_weight(mb.backend, srv, w)
                    self.api.set_state(mb.backend, srv, "ready")
            for s in stats:
                if plan.get(s.server, 0) > 0:
                    continue
                if s.uweight:
                    self.api.set_weight(mb.backend, s.server, 0)
                if not s.status.upper().startswith(("MAINT", "DRAIN")):
                    self.api.set_state(mb.backend, s.server, self.off_state)
            by_server = {srv: route for route, srv in servers.items()}
            after = shares(self.api.show_stat(mb.backend), by_server)
        expected = {k: float(v) for k, v in weights.items() if v}
        keys = set(after) | set(expected)
        if any(abs(after.get(k, 0.0) - expected.get(k, 0.0)) > 0.01 for k in keys):
            raise BackendError(
                f"HAProxy reads back {after} for {model}, expected {expected}",
                hint="a server may be DOWN (failing its health check): see "
                "`show stat` or rollbook status",
            )

    def fallbacks(self, model: str) -> list[FallbackLevel]:
        mb = self._model(model)
        out = []
        for level in LADDER:
            target = mb.fallbacks.get(level)
            if not target:
                continue
            if level == "previous":
                out.append(
                    FallbackLevel(
                        "previous", str(target), f"previous approved model (version {target})"
                    )
                )
            else:
                out.append(
                    FallbackLevel(
                        level, FALLBACK_ROUTES[level], f"HAProxy server {mb.backend}/{target}"
                    )
                )
        return out

    def probe(self, model: str, route: str) -> Health:
        mb = self._model(model)
        srv = mb.servers().get(route) or (
            route[len(UNMAPPED) :] if route.startswith(UNMAPPED) else None
        )
        if srv is None:
            return Health(route, False, f"{model} has no HAProxy server for route {route!r}")
        row = next((s for s in self.api.show_stat(mb.backend) if s.server == srv), None)
        if row is None:
            return Health(route, False, f"HAProxy backend {mb.backend} has no server {srv}")
        if row.status.upper().startswith("DOWN"):
            return Health(
                route,
                False,
                f"HAProxy health check: {mb.backend}/{srv} is DOWN"
                + (f" ({row.check})" if row.check else ""),
            )
        base = mb.endpoints.get(route) or (f"http://{row.addr}" if row.addr else None)
        if base is None:
            return Health(route, False, f"no endpoint known for {mb.backend}/{srv}")
        expect = route if route in mb.versions else None
        if self._http is None:
            self._http = httpx.Client()
        return probe_endpoint(
            base, target=route, settings=mb.probe, expect_version=expect, client=self._http
        )


def model_backends(
    raw: Mapping[str, Any], defaults: ProbeSettings, where: str
) -> dict[str, ModelBackend]:
    """Parse the ``models`` option; raises ValueError naming the key that is wrong."""
    out = {}
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(
            f"{where}: expected a table per model: [{where}.MODEL] with backend and versions"
        )
    for model, t in raw.items():
        key = f"{where}.{model}"
        if not isinstance(t, Mapping):
            raise ValueError(f"{key}: expected a table")
        backend = t.get("backend", model)
        versions = t.get("versions")
        if not isinstance(versions, Mapping) or not versions:
            raise ValueError(f'{key}.versions: expected a table version = "server"')
        fallbacks = t.get("fallbacks", {})
        if not isinstance(fallbacks, Mapping) or set(fallbacks) - set(LADDER):
            raise ValueError(
                f"{key}.fallbacks: expected a table with keys among {', '.join(LADDER)}"
            )
        if "previous" in fallbacks and str(fallbacks["previous"]) not in map(str, versions):
            raise ValueError(
                f"{key}.fallbacks.previous: names version "
                f"{fallbacks['previous']!r}, which is not in versions"
            )
        endpoints = t.get("endpoints", {})
        if not isinstance(endpoints, Mapping):
            raise ValueError(f'{key}.endpoints: expected a table route = "http://host:port"')
        sample = t.get("sample_request", defaults.sample)
        probe = ProbeSettings(
            health_path=defaults.health_path,
            predict_path=defaults.predict_path,
            sample=parse_sample(sample, f"{key}.sample_request"),
            version_field=defaults.version_field,
            timeout=defaults.timeout,
        )
        out[str(model)] = ModelBackend(
            backend=str(backend),
            versions={str(k): str(v) for k, v in versions.items()},
            fallbacks={str(k): str(v) for k, v in fallbacks.items()},
            endpoints={str(k): str(v).rstrip("/") for k, v in endpoints.items()},
            probe=probe,
        )
    return out


def parse_sample(value: Any, key: str) -> Mapping[str, Any] | None:
    """A sample request given as a TOML table or as a JSON string."""
    if value is None or isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        import json

        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"{key}: not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError(f"{key}: expected a JSON object")
        return parsed
    raise ValueError(f"{key}: expected a table or a JSON object string")
