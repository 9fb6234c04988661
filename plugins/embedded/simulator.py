"""Signal generation: a pure function of (seed, ticks, route log, batch log, fault episodes).

Each route (version or fallback) has its own series — healthy baseline plus the faults that
hit it. The model aggregate mixes the routes by their lagged traffic shares: means are
share-weighted, ``request_rate`` is total demand, and latency quantiles are the quantiles of
the mixture of the routes' (log-normal) latency distributions, which is why a 25% canary with
a 120 ms p99 pulls the model's p99 to ~120 ms rather than to a weighted average.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from plugins.embedded.dynamics import Episode, lagged_levels
from plugins.embedded.fleet import FLEET
from plugins.embedded.noise import key_of, normal
from plugins.embedded.profiles import DEMAND, Sig, route_profile
from plugins.embedded.scenarios import SCENARIOS

AGGREGATE = ""  # the ``version`` column value of a model's aggregate series
SHARE_MIN = 1e-3  # a route with less lagged traffic than this logs no series of its own
_Z95, _Z99 = 1.6448536269514722, 2.3263478740408408
_LATENCY = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
_ERFC = np.frompyfunc(math.erfc, 1, 1)


def ndtr(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF, elementwise: Φ(x) = ½·erfc(−x/√2) with the C library's
    ``erfc`` (float64 in, float64 out; ±inf give 0 and 1, NaN stays NaN).

    SciPy's ``special.ndtr`` is the same formula over its own ``erfc``: the two differ by at
    most 2.3e-16 absolute, far below what ``mixture_quantile``'s 40-step bisection resolves
    (a comparison of every scenario's series over a day, 1.1 M values, came out
    bit-identical). Not SciPy because importing ``scipy.special`` took a quarter of a second
    of every start of the embedded world; the price is ~0.2 µs per element instead of
    ~0.03 µs, paid only where routes mix."""
    return 0.5 * _ERFC(np.multiply(x, -math.sqrt(0.5))).astype(float)


@dataclass
class ModelState:
    """What the world's logs say about one model."""

    routes: list[tuple[float, dict[str, float]]]  # (epoch s, {route: weight %}) by time
    pauses: list[tuple[float, bool]] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)

    def shares(self, times: np.ndarray) -> dict[str, np.ndarray]:
        """Route -> lagged traffic share (0–1) at ``times``."""
        changes = [(at, {k: w / 100.0 for k, w in weights.items()}) for at, weights in self.routes]
        return lagged_levels(changes, times)

    def paused_level(self, times: np.ndarray) -> np.ndarray:
        """0 while the batch job runs, 1 once paused (with the same lag as traffic)."""
        if not self.pauses:
            return np.zeros(len(times))
        changes = [(0.0, {"p": 0.0})] + [(at, {"p": float(p)}) for at, p in self.pauses]
        return lagged_levels(changes, times)["p"]  # running until the first pause

    def strengths(self, model: str, route: str, times: np.ndarray) -> Iterator[tuple]:
        """(scenario, strength on inputs, strength on outputs) for each fault on ``route``."""
        paused = None
        for ep in self.episodes:
            sc = SCENARIOS.get(ep.scenario)
            if sc is None or sc.model != model or not sc.affects(route):
                continue
            sev = ep.severity(times, sc.ramp_s, sc.ramp_power)
            if not sev.any():
                continue
            if paused is None:
                paused = self.paused_level(times)
            yield sc, sev, sev * (1.0 - paused)


def sole_route(share: np.ndarray) -> np.ndarray:
    """Ticks where a route carries all traffic; its series is then the model aggregate."""
    return share >= 1.0 - SHARE_MIN


def diurnal(times: np.ndarray) -> np.ndarray:
    """Daily shape in [-1, 1], peaking at 14:00 UTC."""
    hours = (np.asarray(times, dtype=float) / 3600.0) % 24.0
    return np.sin(2.0 * np.pi * (hours - 8.0) / 24.0)


def _wander(key: int, times: np.ndarray) -> np.ndarray:
    h = np.asarray(times, dtype=float) / 3600.0
    k = np.floor(h)
    frac = h - k
    return normal(key, k.astype(np.int64)) * (1 - frac) + normal(key, k.astype(np.int64) + 1) * frac


def baseline(
    seed: int, model: str, route: str, signal: str, sig: Sig, ticks: np.ndarray
) -> np.ndarray:
    """Healthy value of one signal on one route at each tick (before faults and clipping)."""
    v = sig.base * (1.0 + sig.diurnal * diurnal(ticks))
    if sig.wander:  # model-wide slow wander, so switching routes does not jump it
        v = v + sig.wander * _wander(key_of(seed, model, signal, "wander"), ticks)
    if sig.noise:
        v = v + sig.noise * normal(key_of(seed, model, route, signal), ticks // 60)
    return v


def route_series(
    seed: int, model: str, route: str, ticks: np.ndarray, state: ModelState
) -> dict[str, np.ndarray]:
    """Every signal of one route at ``ticks`` except ``request_rate`` (it needs the share)."""
    prof = route_profile(model, route)
    out = {s: baseline(seed, model, route, s, sig, ticks) for s, sig in prof.items()}
    for sc, s_in, s_out in state.strengths(model, route, ticks):
        for eff in sc.effects:
            if eff.signal not in out:
                continue
            s = s_out if eff.output else s_in
            v = out[eff.signal]
            if eff.kind == "target":
                target = eff.value
                if eff.noise:
                    n = normal(key_of(seed, model, route, eff.signal, sc.name), ticks // 60)
                    target = eff.value + eff.noise * np.clip(n, -2.0, 2.0)
                out[eff.signal] = v + s * (target - v)
            elif eff.kind == "add":
                out[eff.signal] = v + s * eff.value
            else:
                out[eff.signal] = v * (1.0 + s * (eff.value - 1.0))
    for s, sig in prof.items():
        out[s] = np.clip(out[s], sig.lo, sig.hi)
    p50 = np.maximum(out["latency_p50_ms"], 0.1)
    p99 = np.maximum(out["latency_p99_ms"], p50 * 1.05)
    sigma = np.log(p99 / p50) / _Z99
    out["latency_p50_ms"], out["latency_p99_ms"] = p50, p99
    out["latency_p95_ms"] = p50 * np.exp(_Z95 * sigma)
    return out


def mixture_quantile(q: float, p50: np.ndarray, p99: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Quantile ``q`` of a share-weighted mix of log-normal latencies (routes × ticks)."""
    mu = np.log(p50)
    sig = np.maximum(np.log(p99 / p50) / _Z99, 1e-6)
    live = w > 0  # zero-weight routes must not move the bracket (chunking invariance)
    lo = np.where(live, mu - 6 * sig, np.inf).min(axis=0)
    hi = np.where(live, mu + 6 * sig, -np.inf).max(axis=0)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        below = (w * ndtr((mid[None, :] - mu) / sig)).sum(axis=0) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return np.exp(0.5 * (lo + hi))


def simulate(
    seed: int, model: str, ticks: np.ndarray, state: ModelState
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """(version, signal) -> (tick mask, values) for the routes' own series and the aggregate
    (version ``AGGREGATE``). Values outside the mask are not logged."""
    ticks = np.asarray(ticks, dtype=np.int64)
    spec = FLEET[model]
    shares = {r: w for r, w in state.shares(ticks).items() if w.max(initial=0) > SHARE_MIN}
    demand = np.maximum(baseline(seed, model, "*", "request_rate", DEMAND[model], ticks), 0)
    per_route = {r: route_series(seed, model, r, ticks, state) for r in shares}
    routes = sorted(per_route)
    w = np.array([np.where(shares[r] > SHARE_MIN, shares[r], 0.0) for r in routes])
    w = w / np.maximum(w.sum(axis=0), 1e-12)
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    everywhere = np.ones(len(ticks), dtype=bool)
    for r in routes:
        # A route serving (nearly) everything has the aggregate's series: not stored twice.
        mask = (shares[r] > SHARE_MIN) & ~sole_route(shares[r])
        out[(r, "request_rate")] = (mask, demand * shares[r])
        for s, v in per_route[r].items():
            out[(r, s)] = (mask, v)
    out[(AGGREGATE, "request_rate")] = (everywhere, demand)
    for s in spec.signals():
        if s == "request_rate" or s in _LATENCY:
            continue
        vals = np.array([per_route[r][s] for r in routes])
        out[(AGGREGATE, s)] = (everywhere, (w * vals).sum(axis=0))
    p50 = np.array([per_route[r]["latency_p50_ms"] for r in routes])
    p99 = np.array([per_route[r]["latency_p99_ms"] for r in routes])
    mixed = (w > 0).sum(axis=0) > 1  # elsewhere one live route: take its values exactly
    for s, q in zip(_LATENCY, (0.5, 0.95, 0.99), strict=True):
        values = (w * np.array([per_route[r][s] for r in routes])).sum(axis=0)
        if mixed.any():
            values[mixed] = mixture_quantile(q, p50[:, mixed], p99[:, mixed], w[:, mixed])
        out[(AGGREGATE, s)] = (everywhere, values)
    return out


def rows(model: str, ticks: np.ndarray, series: dict) -> list[tuple]:
    """Flatten ``simulate`` output into (model, signal, version, ts, value) rows, in primary
    key order (inserting in key order keeps the B-tree writes sequential)."""
    ticks = np.asarray(ticks, dtype=np.int64)
    result: list[tuple] = []
    for (version, signal), (mask, values) in sorted(series.items(), key=lambda kv: kv[0][::-1]):
        ts = ticks[mask].tolist()
        vals = values[mask].tolist()
        result.extend(
            zip([model] * len(ts), [signal] * len(ts), [version] * len(ts), ts, vals, strict=True)
        )
    return result
