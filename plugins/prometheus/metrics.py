"""Prometheus as Rollbook's metrics backend: named signals → PromQL, instant and range
queries, alerts from Prometheus (``/api/v1/alerts``) or from Alertmanager when configured.

A per-model read is served from one fleet-wide query per signal (``by (model)`` or
``by (model, version)``), cached for ``cache_seconds``, so the fleet view costs one query
per signal, not one per model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from console.backends.interfaces import Metrics
from console.backends.types import Alert, Point
from console.errors import BackendError
from plugins.http_common.api import JsonApi
from plugins.http_common.samples import alert_from_labels, parse_time, parse_value, sample_point
from plugins.prometheus import promql

MAX_POINTS = 11_000  # Prometheus refuses range queries above 11,000 points per series


class PrometheusMetrics(Metrics):
    capabilities: ClassVar[frozenset[str]] = frozenset({"signals", "range", "fleet", "alerts"})

    def __init__(
        self,
        api: JsonApi,
        *,
        signals: Mapping[str, str],
        model_label: str = "model",
        version_label: str = "version",
        window: str = "5m",
        cache_seconds: float = 5.0,
        alertmanager=None,
        clock=None,
        exclude_handlers: str = promql.DEFAULT_EXCLUDE_HANDLERS,
    ) -> None:
        self.api = api
        self.signals = dict(signals)
        self.model_label = model_label
        self.version_label = version_label
        self.window = window
        self.cache_seconds = cache_seconds
        self.exclude_handlers = exclude_handlers
        self.alertmanager = alertmanager
        self._clock = clock
        self._cache: dict[tuple, tuple[float, dict[tuple[str, ...], float | None]]] = {}
        self._lock = threading.Lock()
        if alertmanager is not None:
            self.capabilities = self.capabilities | {"silences"}

    def close(self) -> None:
        self.api.close()
        if self.alertmanager is not None:
            self.alertmanager.close()

    # ---- queries ----------------------------------------------------------------------
    def promql(
        self,
        signal: str,
        *,
        model: str | None = None,
        version: str | None = None,
        by_version: bool = False,
    ) -> str | None:
        """The PromQL Rollbook sends for ``signal`` (None when no template is configured)."""
        name, feature = promql.template_key(signal)
        template = self.signals.get(name)
        if not template:
            return None
        by = (
            (self.model_label, self.version_label)
            if (by_version or version)
            else (self.model_label,)
        )
        matchers = {}
        if model is not None:
            matchers[self.model_label] = model
        if version is not None:
            matchers[self.version_label] = str(version)
        return promql.render(
            template,
            by=by,
            matchers=matchers,
            window=self.window,
            feature=feature,
            handlers=self.exclude_handlers,
        )

    def query(
        self, signal: str, model: str, *, version: str | None = None, at: datetime | None = None
    ) -> float | None:
        by_version = version is not None
        series = self._fleet(signal, by_version, at)
        key = (model, str(version)) if by_version else (model,)
        return series.get(key)

    def query_fleet(self, signal: str, *, at: datetime | None = None) -> dict[str, float | None]:
        """model → value, from one query ``by (model)``."""
        return {k[0]: v for k, v in self._fleet(signal, False, at).items()}

    def query_versions(
        self, signal: str, *, at: datetime | None = None
    ) -> dict[tuple[str, str], float | None]:
        """(model, version) → value, from one query ``by (model, version)``."""
        return {(k[0], k[1]): v for k, v in self._fleet(signal, True, at).items()}

    def query_range(
        self,
        signal: str,
        model: str,
        start: datetime,
        end: datetime,
        *,
        step_seconds: int = 60,
        version: str | None = None,
    ) -> list[Point]:
        q = self.promql(signal, model=model, version=version)
        if q is None or end <= start:
            return []
        step = max(int(step_seconds), 1)
        span = (end - start).total_seconds()
        if span / step > MAX_POINTS:
            step = int(span / MAX_POINTS) + 1
        data = self._api_query(
            "/api/v1/query_range",
            {
                "query": q,
                "start": f"{start.timestamp():.3f}",
                "end": f"{end.timestamp():.3f}",
                "step": str(step),
            },
        )
        result = self._series(data, "matrix", q)
        mine = [r for r in result if self._matches(r.get("metric") or {}, model, version)]
        if len(mine) > 1:
            raise BackendError(
                f"the {signal!r} query returns {len(mine)} series for {model}",
                hint="aggregate the template with sum by ($by) (…)",
            )
        if not mine:
            return []
        points = [p for p in (sample_point(v) for v in mine[0].get("values") or []) if p]
        return sorted(points, key=lambda p: p.at)

    def instant(self, query: str, at: datetime | None = None) -> list[dict[str, Any]]:
        """Run raw PromQL; ``[{"metric": {...}, "value": float | None}]`` (scalars too)."""
        data = self._api_query("/api/v1/query", self._time_params(query, at))
        if data.get("resultType") == "scalar":
            return [{"metric": {}, "value": parse_value((data.get("result") or [None, None])[1])}]
        return [
            {
                "metric": r.get("metric") or {},
                "value": parse_value((r.get("value") or [None, None])[1]),
            }
            for r in self._series(data, "vector", query)
        ]

    # ---- alerts -----------------------------------------------------------------------
    def active_alerts(self) -> list[Alert]:
        if self.alertmanager is not None:
            return self.alertmanager.alerts()
        body = self.api.get("/api/v1/alerts")
        alerts = (body.get("data") or {}).get("alerts") or []
        out = []
        for a in alerts:
            if a.get("state") != "firing" or not isinstance(a.get("labels"), dict):
                continue  # pending alerts have not met their `for:` yet
            out.append(
                alert_from_labels(
                    a["labels"],
                    a.get("annotations") or {},
                    starts_at=parse_time(a.get("activeAt")),
                    model_label=self.model_label,
                    value=a.get("value"),
                )
            )
        return out

    def create_silence(self, matchers, *, author: str, comment: str, duration: timedelta) -> str:
        return self._require_am().create_silence(
            matchers, author=author, comment=comment, duration=duration
        )

    def expire_silence(self, silence_id: str) -> None:
        self._require_am().expire_silence(silence_id)

    def silences(self):
        return self._require_am().silences()

    # ---- helpers ----------------------------------------------------------------------
    def _require_am(self):
        if self.alertmanager is None:
            from console.errors import ActionRefused

            raise ActionRefused(
                "silences need Alertmanager",
                hint="set alertmanager_url in this environment's metrics options",
            )
        return self.alertmanager

    def _matches(self, metric: Mapping[str, str], model: str, version: str | None) -> bool:
        if metric.get(self.model_label, model) != model:
            return False
        return version is None or metric.get(self.version_label, str(version)) == str(version)

    def _time_params(self, query: str, at: datetime | None) -> dict[str, str]:
        params = {"query": query}
        if at is not None:
            params["time"] = f"{at.timestamp():.3f}"
        elif self._clock is not None:
            params["time"] = f"{self._clock.now().timestamp():.3f}"
        return params

    def _fleet(
        self, signal: str, by_version: bool, at: datetime | None
    ) -> dict[tuple[str, ...], float | None]:
        q = self.promql(signal, by_version=by_version)
        if q is None:
            return {}
        stamp = int(at.timestamp()) if at is not None else None
        key = (signal, by_version, stamp)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.cache_seconds:
                return hit[1]
        data = self._api_query("/api/v1/query", self._time_params(q, at))
        out: dict[tuple[str, ...], float | None] = {}
        for r in self._series(data, "vector", q):
            m = r.get("metric") or {}
            model = m.get(self.model_label)
            if model is None:
                continue
            k = (model, m.get(self.version_label, "")) if by_version else (model,)
            if k in out:
                raise BackendError(
                    f"the {signal!r} query returns several series for {k}",
                    hint="aggregate the template with sum by ($by) (…)",
                )
            out[k] = parse_value((r.get("value") or [None, None])[1])
        with self._lock:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = (now, out)
        return out

    def _api_query(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        # POST with a form body: long PromQL does not hit URL length limits
        body = self.api.request("POST", path, data=params)
        if not isinstance(body, dict) or body.get("status") != "success":
            raise BackendError(f"Prometheus answered {path} with {str(body)[:200]}")
        return body.get("data") or {}

    def _series(self, data: dict[str, Any], expected: str, query: str) -> list[dict[str, Any]]:
        kind = data.get("resultType")
        if kind != expected:
            raise BackendError(f"Prometheus returned a {kind} for {query!r}, expected a {expected}")
        result = data.get("result") or []
        return [r for r in result if isinstance(r, dict)]
