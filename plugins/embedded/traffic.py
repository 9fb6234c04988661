"""Traffic role: routes (version or fallback key -> weight %), the kill-switch ladder, probes,
and the churn batch job's pause switch."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime

from console.backends.interfaces import Traffic
from console.backends.types import (
    FALLBACK_MANUAL,
    FALLBACK_RULES,
    FallbackLevel,
    Health,
    RouteChange,
)
from console.errors import ActionRefused, InvalidInput, NotFound
from plugins.embedded.engine import from_ts
from plugins.embedded.guard import guarded
from plugins.embedded.world import EmbeddedWorld

WEIGHT_TOLERANCE = 0.01
UNHEALTHY_ERROR_RATE = 0.5


class EmbeddedTraffic(Traffic):
    """``probe(model, route)``: healthy unless the route's own error rate is above 50% (e.g.
    pricing v3 under ``pricing-zero``) or ``break_backend("traffic", "probe",
    mode="unhealthy", route=...)`` says so; latency is the route's simulated p50. A silent
    failure (constant recommendations, drift) still probes healthy — as in production."""

    capabilities = frozenset({"fallback", "batch", "route_history"})

    def __init__(self, world: EmbeddedWorld) -> None:
        self.world = world

    def _versions(self, model: str) -> list[tuple[str, float, bool]]:
        """(version, created_at, ever in Production) oldest first; NotFound if unknown."""
        rows = self.world.q(
            "SELECT v.version, v.created_at, EXISTS (SELECT 1 FROM stage_history h WHERE"
            " h.model = v.model AND h.version = v.version AND h.to_stage = 'Production')"
            " FROM versions v WHERE v.model = ? ORDER BY v.created_at",
            (model,),
        )
        if not rows:
            names = [r[0] for r in self.world.q("SELECT name FROM models ORDER BY position")]
            raise NotFound(f"unknown model {model!r}", hint=f"models: {', '.join(names)}")
        return [(v, c, bool(p)) for v, c, p in rows]

    def _route_keys(self, model: str) -> list[str]:
        return [v for v, _, _ in self._versions(model)] + [FALLBACK_RULES, FALLBACK_MANUAL]

    @guarded("traffic")
    def routes(self, model: str) -> dict[str, float]:
        self._versions(model)
        return self.world.current_routes(model)

    @guarded("traffic")
    def set_routes(self, model: str, weights: Mapping[str, float], *, actor: str) -> None:
        keys = self._route_keys(model)
        clean: dict[str, float] = {}
        for key, w in dict(weights).items():
            if key not in keys:
                raise InvalidInput(
                    f"{model} has no route {key!r}", hint=f"routes: {', '.join(keys)}"
                )
            try:
                value = float(w)
            except (TypeError, ValueError):
                raise InvalidInput(f"weight of {key!r} is not a number: {w!r}") from None
            if not math.isfinite(value) or value < 0 or value > 100:
                raise InvalidInput(f"weight of {key!r} must be between 0 and 100, got {w!r}")
            clean[key] = value
        total = sum(clean.values())
        if abs(total - 100.0) > WEIGHT_TOLERANCE:
            raise InvalidInput(
                f"weights for {model} sum to {total:g}, not 100",
                hint="give percentages that add up to 100",
            )
        self.world.record_routes(model, clean, actor=actor)

    @guarded("traffic")
    def route_history(self, model: str, since: datetime) -> list[RouteChange]:
        self._versions(model)
        return [
            RouteChange(model, from_ts(at), json.loads(weights), actor or "")
            for at, weights, actor in self.world.q(
                "SELECT at, weights, actor FROM route_log WHERE model = ? AND at >= ?"
                " ORDER BY at, id",
                (model, since.timestamp()),
            )
        ]

    @guarded("traffic")
    def fallbacks(self, model: str) -> list[FallbackLevel]:
        versions = self._versions(model)
        prod = self.world.q("SELECT production FROM models WHERE name = ?", (model,))[0][0]
        created = {v: c for v, c, _ in versions}
        ladder = []
        previous = [
            v
            for v, c, approved in versions
            if approved and v != prod and c < created.get(prod, math.inf)
        ]
        if previous:
            ladder.append(
                FallbackLevel("previous", previous[-1], f"previous approved version {previous[-1]}")
            )
        ladder.append(
            FallbackLevel("rules", FALLBACK_RULES, "rule-based model: conservative answers, no ML")
        )
        ladder.append(
            FallbackLevel(
                "manual", FALLBACK_MANUAL, "manual review queue: requests wait for a human"
            )
        )
        return ladder

    def probe(self, model: str, route: str) -> Health:
        keys = self._route_keys(model)
        if route not in keys:
            raise NotFound(f"{model} has no route {route!r}", hint=f"routes: {', '.join(keys)}")
        if self.world.trip("traffic", "probe", route) == "unhealthy":
            return Health(route, False, "probe failed: no valid response (injected)", None)
        self.world.catch_up()
        values = self.world.route_values(model, route, self.world.now_ts())
        latency = round(values["latency_p50_ms"], 1)
        err = values["error_rate"]
        if err > UNHEALTHY_ERROR_RATE:
            detail = f"error rate {err:.0%}"
            if model == "pricing" and values["prediction_mean"] < 0.01:
                detail += "; returns 0.00 for every product"
            return Health(route, False, detail, latency)
        return Health(route, True, f"ok (p99 {values['latency_p99_ms']:.0f} ms)", latency)

    def _require_batch(self, model: str) -> None:
        self._versions(model)
        pattern = self.world.q("SELECT serving_pattern FROM models WHERE name = ?", (model,))
        if pattern[0][0] != "batch":
            raise ActionRefused(
                f"{model} is served in real time; it has no batch job to pause",
                hint="use a rollback or the kill switch instead",
            )

    @guarded("traffic")
    def pause_batch(self, model: str, *, actor: str) -> None:
        """Stop publishing new scores; consumers keep reading the last good run."""
        self._require_batch(model)
        if not self.world.batch_paused(model):
            self.world.record_batch(model, True, actor=actor)

    @guarded("traffic")
    def resume_batch(self, model: str, *, actor: str) -> None:
        self._require_batch(model)
        if self.world.batch_paused(model):
            self.world.record_batch(model, False, actor=actor)

    @guarded("traffic")
    def batch_paused(self, model: str) -> bool:
        self._versions(model)
        return self.world.batch_paused(model)
