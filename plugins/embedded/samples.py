"""Prediction-log rows: raw inputs, features, segments, prediction and label per request.

Rows are generated per tick (``samples_per_minute`` of them, spread over the minute that ends
at the tick), keyed by (tick, row) so they are as deterministic as the metrics. Each row is
served by one route, drawn by the lagged traffic shares, and carries the faults of that route.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from plugins.embedded.fleet import FLEET
from plugins.embedded.noise import choice, key_of, normal, uniform
from plugins.embedded.scenarios import FALLBACK_RULES, FALLBACKS, SCENARIOS
from plugins.embedded.simulator import ModelState

CORE_COLUMNS = ("tick", "row", "ts", "version", "prediction", "label")


class Rows:
    """Keyed random columns for one batch of rows, plus per-row fault strengths."""

    def __init__(self, seed: int, model: str, ticks: np.ndarray, state: ModelState) -> None:
        n = FLEET[model].samples_per_minute
        self.seed, self.model = seed, model
        self.tick = np.repeat(np.asarray(ticks, dtype=np.int64), n)
        self.row = np.tile(np.arange(n, dtype=np.int64), len(ticks))
        self.ts = self.tick - 60.0 + (self.row + 0.5) * (60.0 / n)
        self.counter = (self.tick // 60) * 64 + self.row
        self.version = self._routes(state)
        self._strength: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for ep in state.episodes:
            sc = SCENARIOS.get(ep.scenario)
            if sc is None or sc.model != model:
                continue
            sev = ep.severity(self.ts, sc.ramp_s, sc.ramp_power)
            hit = np.array([sc.affects(v) for v in self.version], dtype=bool)
            s_in = sev * hit
            s_out = s_in * (1.0 - state.paused_level(self.ts))
            prev = self._strength.get(sc.name)
            active = ep.active(self.ts)
            if prev is not None:
                s_in, s_out = np.maximum(prev[0], s_in), np.maximum(prev[1], s_out)
                active = prev[2] | active
            self._strength[sc.name] = (s_in, s_out, active)

    def __len__(self) -> int:
        return len(self.tick)

    def _routes(self, state: ModelState) -> np.ndarray:
        shares = state.shares(self.ts)
        keys = sorted(shares)
        cum = np.cumsum(np.array([shares[k] for k in keys]), axis=0)
        u = self.u("route") * cum[-1]
        idx = (u[None, :] >= cum).sum(axis=0)
        return np.asarray(keys, dtype=object)[np.minimum(idx, len(keys) - 1)]

    def u(self, name: str) -> np.ndarray:
        return uniform(key_of(self.seed, self.model, "sample", name), self.counter)

    def n(self, name: str) -> np.ndarray:
        return normal(key_of(self.seed, self.model, "sample", name), self.counter)

    def pick(self, name: str, options: list, weights: list[float]) -> np.ndarray:
        return choice(key_of(self.seed, self.model, "sample", name), self.counter, options, weights)

    def strength(self, scenario: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(on inputs, on outputs, fault active) per row; zeros when not injected."""
        z = np.zeros(len(self))
        return self._strength.get(scenario, (z, z, z.astype(bool)))

    def is_fallback(self) -> np.ndarray:
        return np.isin(self.version, FALLBACKS)


def _churn(r: Rows) -> dict:
    s_in, s_out, renamed = r.strength("athena-null-feature")
    orders = 1 + np.floor(-np.log(r.u("orders")) * 2.5)
    avg = np.round(np.exp(np.log(55.0) + 0.5 * r.n("aov")), 2)
    total = np.round(orders * avg, 2)
    null = r.u("null") < 0.002 + s_in * (0.942 - 0.002)
    fault_null = null & (s_in > 0)
    pos = r.u("pos") < np.where(fault_null, 0.14 + s_out * (0.6496 - 0.14), 0.14)
    score = np.where(pos, 0.505 + 0.49 * r.u("score") ** 0.7, 0.5 * r.u("score") ** 7.8)
    score = np.where(r.version == FALLBACK_RULES, np.where(r.u("rule") < 0.18, 0.7, 0.1), score)
    return {
        "customer_id": np.floor(r.u("id") * 2_100_000).astype(np.int64),
        "total_order_amount": np.where(renamed, np.nan, total),
        "order_total_amount": np.where(renamed, total, np.nan),
        "order_count_90d": orders.astype(np.int64),
        "avg_order_value_90d": np.where(null, np.nan, avg),
        "tenure_months": np.clip(np.round(24 * np.exp(0.8 * r.n("tenure"))), 1, 120),
        "orders_90d": orders,
        "days_since_last_order": np.floor(-np.log(r.u("recency")) * 20.0),
        "support_tickets_90d": np.floor(-np.log(r.u("tickets")) * 0.8),
        "plan_type": r.pick("plan", ["basic", "plus", "premium"], [0.5, 0.35, 0.15]),
        "region": r.pick("region", ["na", "eu", "apac", "latam"], [0.4, 0.3, 0.2, 0.1]),
        "prediction": np.round(score, 4),
        "label": np.full(len(r), np.nan),  # churn is only known 30 days later
    }


def _recommendations(r: Rows) -> dict:
    s_in, _, _ = r.strength("constant-recommendations")
    segment = r.pick("segment", ["new", "medium", "power"], [0.3, 0.5, 0.2])
    power = segment == "power"
    new = segment == "new"
    item = np.floor(50_000 * r.u("item") ** 2.0).astype(np.int64)
    item = np.where(r.is_fallback(), np.floor(200 * r.u("item")).astype(np.int64), item)
    item = np.where(r.u("constant") < s_in, 48213, item)
    score = np.clip(0.42 + 0.12 * r.n("score"), 0, 1)
    return {
        "user_id": np.floor(r.u("id") * 8_000_000).astype(np.int64),
        "user_segment": segment,
        "items_viewed_24h": np.floor(-np.log(r.u("views")) * np.where(power, 40, 8)),
        "session_length_s": np.round(np.exp(np.log(240) + 0.7 * r.n("session")), 1),
        "days_since_signup": np.where(
            new, np.floor(r.u("age") * 30), 30 + np.floor(-np.log(r.u("age")) * 400)
        ),
        "category_affinity": r.pick(
            "cat", ["fashion", "home", "electronics", "books", "sport"], [0.3, 0.2, 0.2, 0.15, 0.15]
        ),
        "device": r.pick("device", ["ios", "android", "web"], [0.4, 0.35, 0.25]),
        "prediction": item,  # the recommended item id
        "score": np.round(score, 4),
        "label": (r.u("click") < 0.31 * np.where(item == 48213, 0.5, 1.0)).astype(float),
    }


def _credit(r: Rows) -> dict:
    s_in, _, _ = r.strength("credit-score-shift")
    old_feed = np.isin(r.version, ["v4", *FALLBACKS])
    annual = np.round(np.exp(np.log(62_000) + 0.45 * r.n("income")), -1)
    bad = r.u("bad") < 0.6 * s_in  # the partner feed sends monthly figures as annual
    income = np.where(bad, np.round(annual / 12, -1), annual)
    debt = annual * np.clip(0.3 + 0.12 * r.n("dti"), 0.02, 0.95)
    score = 645 + 70 * r.n("score") - 108 * bad
    return {
        "applicant_id": np.floor(r.u("id") * 10_000_000).astype(np.int64),
        "income_source": np.where(old_feed, "bureau.income_v1", "partner-x.income_feed_v2"),
        "income": income,
        "debt_to_income": np.round(debt / income, 4),
        "credit_utilization": np.round(np.clip(0.32 + 0.2 * r.n("util"), 0, 1), 3),
        "num_open_accounts": np.floor(-np.log(r.u("accounts")) * 6),
        "delinquencies_2y": np.floor(-np.log(r.u("delinq")) * 0.3),
        "employment_years": np.round(np.exp(np.log(6) + 0.8 * r.n("emp")), 1),
        "prediction": np.round(np.clip(score, 300, 850), 1),
        "label": np.full(len(r), np.nan),  # defaults are known months later
    }


def _fraud(r: Rows) -> dict:
    s_seg, _, _ = r.strength("segment-drift")
    channel = r.pick("channel", ["web", "mobile", "pos"], [0.45, 0.35, 0.2])
    tenure = r.pick("tenure", ["new", "established"], [0.0714, 0.9286])
    in_segment = (channel == "mobile") & (tenure == "new")
    category = r.pick(
        "mcc",
        ["grocery", "electronics", "travel", "gift_cards", "fashion", "other"],
        [0.3, 0.15, 0.1, 0.05, 0.2, 0.2],
    )
    true_risk = r.u("risk") ** 2
    # Segment drift: the device-risk signal shifts for mobile/new users; true fraud does not.
    risk = np.clip(true_risk + np.where(in_segment, 0.38 * s_seg, 0.0), 0, 1)
    velocity = np.floor(-np.log(r.u("velocity")) * 1.5)
    noise = 0.25 * velocity + r.n("latent") - 5.75
    score = 1 / (1 + np.exp(-(noise + 5.0 * risk)))
    truth = 1 / (1 + np.exp(-(noise + 5.0 * true_risk)))
    rules = r.version == FALLBACK_RULES
    score = np.where(rules, np.where((risk > 0.8) | (category == "gift_cards"), 0.9, 0.02), score)
    # Concept drift: a new pattern (gift cards, low device risk) that the models score low.
    pattern = r.strength("fraud-concept-drift")[2] & (category == "gift_cards") & (risk < 0.3)
    label = (r.u("label") < 0.3 * truth + np.where(pattern, 0.12, 0.0)).astype(float)
    return {
        "transaction_id": np.floor(r.u("id") * 1e12).astype(np.int64),
        "amount": np.round(np.exp(np.log(45) + 0.9 * r.n("amount")), 2),
        "merchant_category": category,
        "device_risk_score": np.round(risk, 4),
        "txn_velocity_1h": velocity,
        "account_age_days": np.where(
            tenure == "new", np.floor(r.u("age") * 30), 30 + np.floor(-np.log(r.u("age")) * 700)
        ),
        "ip_distance_km": np.round(np.exp(np.log(12) + 1.1 * r.n("ip")), 1),
        "channel": channel,
        "user_tenure": tenure,
        "prediction": np.round(score, 5),
        "label": label,
    }


def _pricing(r: Rows) -> dict:
    s_in, _, _ = r.strength("pricing-zero")
    cost = np.exp(np.log(22.0) + 0.35 * r.n("cost"))
    competitor = cost * (1.8 + 0.1 * r.n("comp"))
    demand = np.clip(1.0 + 0.15 * r.n("demand"), 0.3, 2.0)
    price = competitor * 0.97 * (1 + 0.05 * (demand - 1))
    price = np.where(r.u("zero") < s_in, 0.0, price)
    days = np.array(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], dtype=object
    )
    dow = days[((r.ts // 86400).astype(np.int64) + 3) % 7]  # 1970-01-01 was a Thursday
    return {
        "product_id": np.floor(r.u("id") * 250_000).astype(np.int64),
        "category": r.pick(
            "cat", ["grocery", "home", "toys", "electronics", "garden"], [0.3, 0.25, 0.15, 0.2, 0.1]
        ),
        "base_cost": np.round(cost, 2),
        "competitor_price": np.round(competitor, 2),
        "demand_index": np.round(demand, 3),
        "inventory_level": np.floor(-np.log(r.u("stock")) * 120),
        "day_of_week": dow,
        "prediction": np.round(price, 2),
        "label": np.full(len(r), np.nan),
    }


_BUILDERS: dict[str, Callable[[Rows], dict]] = {
    "churn": _churn,
    "recommendations": _recommendations,
    "credit-score": _credit,
    "fraud": _fraud,
    "pricing": _pricing,
}


def generate(seed: int, model: str, ticks: np.ndarray, state: ModelState) -> dict[str, np.ndarray]:
    """Column -> array for every row of every tick in ``ticks``: tick, row, ts (epoch
    seconds), version, the model's columns, prediction, label. Empty dict for no ticks."""
    if len(ticks) == 0:
        return {}
    r = Rows(seed, model, ticks, state)
    return {"tick": r.tick, "row": r.row, "ts": r.ts, "version": r.version, **_BUILDERS[model](r)}
