"""Warm standby versus cold rollback: what a standby costs a month against the requests a
cold start (image pull + model load + warm-up) leaves exposed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from console.reports.costs import checked_number, exposure, ratio


@dataclass(frozen=True)
class StandbyComparison:
    standby_cost_per_month: float
    cold_seconds: float  # image pull + model load + warm-up
    warm_seconds: float  # flipping traffic to the standby
    cold_requests: float  # exposed per cold rollback
    warm_requests: float  # exposed per warm rollback
    avoided_per_rollback: float
    rollbacks_per_month: float
    avoided_per_month: float
    cost_per_avoided_request: float | None  # None when nothing is avoided
    cost_per_bad_request: float | None
    exposure_cost_avoided_per_month: float | None
    worth_it: bool | None  # None without a cost per bad request
    breakdown: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def standby_vs_cold(
    standby_cost_per_month: float,
    requests_per_hour: float,
    *,
    pull_seconds: float,
    load_seconds: float,
    warmup_seconds: float,
    warm_seconds: float = 5.0,
    share: float = 1.0,
    rollbacks_per_month: float = 1.0,
    cost_per_bad_request: float | None = None,
) -> StandbyComparison:
    """What a warm standby buys: requests not exposed during a rollback.

    A cold rollback exposes R / 3600 × (pull + load + warm-up) × F requests; a warm standby
    only R / 3600 × warm_seconds × F. Per month the standby avoids the difference ×
    ``rollbacks_per_month``. ``cost_per_avoided_request`` = standby cost / avoided requests
    (None when none are avoided). Given ``cost_per_bad_request``, ``worth_it`` says whether
    the avoided exposure is worth more than the standby."""
    cost = checked_number("standby cost per month", standby_cost_per_month)
    parts = {
        "pull_seconds": checked_number("pull seconds", pull_seconds),
        "load_seconds": checked_number("load seconds", load_seconds),
        "warmup_seconds": checked_number("warm-up seconds", warmup_seconds),
    }
    cold_s = sum(parts.values())
    warm_s = checked_number("warm seconds", warm_seconds)
    cold = exposure(requests_per_hour, cold_s, share).requests
    warm = exposure(requests_per_hour, warm_s, share).requests
    avoided = max(cold - warm, 0.0)
    per_month = avoided * checked_number("rollbacks per month", rollbacks_per_month)
    bad = (
        None
        if cost_per_bad_request is None
        else checked_number("cost per bad request", cost_per_bad_request)
    )
    avoided_cost = None if bad is None else per_month * bad
    worth = None if avoided_cost is None else avoided_cost > cost
    return StandbyComparison(
        cost,
        cold_s,
        warm_s,
        cold,
        warm,
        avoided,
        float(rollbacks_per_month),
        per_month,
        ratio(cost, per_month),
        bad,
        avoided_cost,
        worth,
        parts,
    )
