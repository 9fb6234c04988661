"""Metrics role: signal series per model and per route, fleet queries, and alerts."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np

from console.backends.interfaces import Metrics
from console.backends.types import Alert, Point
from console.errors import InvalidInput, NotFound
from plugins.embedded import alerts as rules
from plugins.embedded import silences as silence_store
from plugins.embedded.fleet import FLEET
from plugins.embedded.guard import guarded
from plugins.embedded.simulator import AGGREGATE, sole_route
from plugins.embedded.world import EmbeddedWorld, floor_minute, from_ts, to_ts

STALE_S = 180  # query() answers None when a series has no tick in the last 3 minutes
ALERT_LOOKBACK_S = 12 * 3600  # how far back a breach's start is traced
SERVING_SHARE = 0.01  # routes with at least this share are candidates for an alert's version


def _clean(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class EmbeddedMetrics(Metrics):
    """Signals of every model: ``request_rate`` (req/min), ``error_rate``, ``latency_p50_ms``
    / ``_p95_ms`` / ``_p99_ms``, ``prediction_mean``, ``positive_rate``, ``output_diversity``,
    ``null_rate:<feature>`` per feature; ``revenue_per_hour`` ($/h; recommendations, pricing);
    ``fraud_loss_rate`` (share of transaction value lost), ``false_positive_rate`` and
    ``false_positive_rate:mobile_new`` (fraud). ``version=None`` is the traffic-weighted
    model aggregate; a route key (version or fallback) gives that route's own series, which
    only exists while it serves traffic. ``query_range`` points sit at start, start+step, …
    ≤ end, each the mean of the 1-minute ticks in (t − step, t]. Alerts an active silence
    matches are left out of ``active_alerts``, as Alertmanager leaves them out."""

    capabilities = frozenset({"per_version", "fleet_query", "alerts", "silences"})

    def __init__(self, world: EmbeddedWorld) -> None:
        self.world = world

    @staticmethod
    def _require(model: str) -> None:
        if model not in FLEET:
            raise NotFound(f"unknown model {model!r}", hint=f"models: {', '.join(FLEET)}")

    def series(
        self, model: str, signal: str, lo: float, hi: float, version: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ticks, values) of one series in (lo, hi], oldest first."""
        if version is None or version == AGGREGATE:
            rows = self.world.q(
                "SELECT ts, value FROM metrics WHERE model = ? AND signal = ? AND version = ''"
                " AND ts > ? AND ts <= ? ORDER BY ts",
                (model, signal, lo, hi),
            )
            ts = np.array([r[0] for r in rows], dtype=np.int64)
            return ts, np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
        rows = self.world.q(
            "SELECT version, ts, value FROM metrics WHERE model = ? AND signal = ? AND"
            " version IN (?, '') AND ts > ? AND ts <= ?",
            (model, signal, version, lo, hi),
        )
        own = {ts: v for ver, ts, v in rows if ver == version}
        agg = {ts: v for ver, ts, v in rows if ver == AGGREGATE and ts not in own}
        if agg:  # the route served everything then: its series is the aggregate
            ticks = np.array(sorted(agg), dtype=np.int64)
            share = self.world.model_state(model).shares(ticks).get(version)
            if share is not None:
                own.update({int(t): agg[t] for t in ticks[sole_route(share)]})
        ts = np.array(sorted(own), dtype=np.int64)
        return ts, np.array([np.nan if own[t] is None else own[t] for t in ts], dtype=float)

    @guarded("metrics")
    def query(
        self, signal: str, model: str, *, version: str | None = None, at: datetime | None = None
    ) -> float | None:
        self._require(model)
        self.world.catch_up()
        at_ts = to_ts(at) if at is not None else self.world.now_ts()
        _, values = self.series(model, signal, at_ts - STALE_S, at_ts, version)
        return _clean(values[-1]) if len(values) else None

    @guarded("metrics")
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
        self._require(model)
        if step_seconds <= 0:
            raise InvalidInput(f"step_seconds must be positive, got {step_seconds}")
        lo, hi = to_ts(start), to_ts(end)
        if hi < lo:
            return []
        self.world.catch_up()
        n = int((hi - lo) // step_seconds) + 1
        ts, values = self.series(
            model, signal, lo - step_seconds, lo + (n - 1) * step_seconds, version
        )
        ok = ~np.isnan(values)
        idx = np.ceil((ts[ok] - lo) / step_seconds).astype(np.int64)
        sums = np.bincount(idx, weights=values[ok], minlength=n)[:n]
        counts = np.bincount(idx, minlength=n)[:n]
        return [
            Point(
                from_ts(lo + k * step_seconds), _clean(sums[k] / counts[k]) if counts[k] else None
            )
            for k in range(n)
        ]

    @guarded("metrics")
    def query_fleet(self, signal: str, *, at: datetime | None = None) -> dict[str, float | None]:
        """model -> latest aggregate value (None when the model has no such signal)."""
        self.world.catch_up()
        at_ts = to_ts(at) if at is not None else self.world.now_ts()
        rows = self.world.q(
            "SELECT name, (SELECT value FROM metrics WHERE model = models.name AND signal = ?"
            " AND version = '' AND ts > ? AND ts <= ? ORDER BY ts DESC LIMIT 1)"
            " FROM models ORDER BY position",
            (signal, at_ts - STALE_S, at_ts),
        )
        return {name: _clean(value) for name, value in rows}

    @guarded("metrics")
    def active_alerts(self) -> list[Alert]:
        """Firing alerts no active silence matches (see ``plugins.embedded.alerts`` for
        names, labels and rules)."""
        self.world.catch_up()
        firing = self.world.cached("alerts", self._evaluate)
        return silence_store.unsilenced(firing, silence_store.active_matchers(self.world))

    @guarded("metrics")
    def create_silence(self, matchers, *, author: str, comment: str, duration: timedelta) -> str:
        """Silence alerts matching all ``matchers`` for ``duration`` from now (world time);
        returns its id."""
        return silence_store.create(
            self.world, matchers, author=author, comment=comment, duration=duration
        )

    @guarded("metrics")
    def expire_silence(self, silence_id: str) -> None:
        silence_store.expire(self.world, silence_id)

    @guarded("metrics")
    def silences(self) -> list[silence_store.Silence]:
        return silence_store.all_silences(self.world)

    def _evaluate(self) -> list[Alert]:
        th = rules.thresholds(self.world.thresholds)
        now_tick = floor_minute(self.world.now_ts())
        long_lo = now_tick - ALERT_LOOKBACK_S - 25 * 3600
        short_lo = now_tick - ALERT_LOOKBACK_S
        ticks = np.arange(long_lo + 60, now_tick + 60, 60, dtype=np.int64)
        found: list[Alert] = []
        for model, spec in FLEET.items():
            data: dict[str, np.ndarray] = {}
            for signal in spec.signals():
                lo = long_lo if signal in rules.LONG_SIGNALS else short_lo
                ts, values = self.series(model, signal, lo, now_tick)
                grid = np.full(len(ticks), np.nan)
                grid[(ts - ticks[0]) // 60] = values
                data[signal] = grid
            state = self.world.model_state(model)
            shares = state.shares(np.array([now_tick]))
            serving = {
                r: self.world.route_values(model, r, now_tick)
                for r, s in shares.items()
                if s[0] >= SERVING_SHARE
            }
            found += rules.evaluate(model, ticks, data, th, serving, spec.info.features)
        return found
