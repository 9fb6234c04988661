"""Cost and value arithmetic: model ROI, incident cost, rollback exposure, total cost of
ownership and warm standby versus cold rollback.

Pure functions with dataclass results. Money is a plain number in the configured currency;
it is formatted only when a report is rendered. A ratio whose denominator is zero is
*undefined*: it is returned as ``None`` with a note saying why, never as NaN or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from console.errors import InvalidInput

SECONDS_PER_HOUR = 3600.0


def checked_number(name: str, value: float, *, minimum: float | None = 0.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InvalidInput(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and v < minimum:
        raise InvalidInput(f"{name} must be at least {minimum:g}, got {v:g}")
    return v


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is zero (undefined)."""
    return None if denominator == 0 else numerator / denominator


# ---- model ROI ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelEconomics:
    """One model's monthly cost and monthly value (money per month)."""

    model: str
    monthly_cost: float
    monthly_value: float
    serving_pattern: str = ""


@dataclass(frozen=True)
class ModelRoi:
    model: str
    serving_pattern: str
    monthly_cost: float
    monthly_value: float
    roi: float | None  # (value - cost) / cost; None when cost is zero
    value_to_cost: float | None  # value / cost; None when cost is zero
    rank: int
    weakest: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RoiReport:
    models: list[ModelRoi]
    total_cost: float
    total_value: float
    total_roi: float | None
    total_value_to_cost: float | None
    weakest: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": [m.to_dict() for m in self.models],
            "total_cost": self.total_cost,
            "total_value": self.total_value,
            "total_roi": self.total_roi,
            "total_value_to_cost": self.total_value_to_cost,
            "weakest": self.weakest,
        }


def model_roi(rows: Iterable[ModelEconomics]) -> RoiReport:
    """ROI = (value − cost) / cost and value-to-cost = value / cost per model, per month.

    Models are ranked best first by ROI (ties by model name). A model with zero cost has an
    undefined ROI: it gets ``roi=None`` and a note, and is ranked after every model whose
    ROI is defined. The weakest model (lowest defined ROI; of equals, the first by name) is
    flagged when another model does better — a higher ROI (beyond a relative 1e-9), or a
    value at no cost at all — so tied models, or a single one, have no weakest; with no
    defined ROI nothing is flagged. Empty input gives an empty report with zero totals.
    Negative costs or values are refused (``InvalidInput``)."""
    items = []
    for r in rows:
        cost = checked_number(f"{r.model}: monthly_cost", r.monthly_cost)
        value = checked_number(f"{r.model}: monthly_value", r.monthly_value)
        items.append((r, cost, value, ratio(value - cost, cost), ratio(value, cost)))
    items.sort(key=lambda t: (t[3] is None, -(t[3] or 0.0), t[0].model))
    defined = [t for t in items if t[3] is not None]
    rois = [t[3] for t in defined if t[3] is not None]
    free_value = any(t[3] is None and t[2] > 0 for t in items)  # a value for nothing
    # equal ROIs from different sums differ in the last bits ((3.3 − 3) / 3 ≠ (33 − 30) / 30)
    tied = bool(rois) and math.isclose(min(rois), max(rois), rel_tol=1e-9, abs_tol=1e-12)
    weakest = None
    if rois and (free_value or not tied):
        weakest = min(defined, key=lambda t: (t[3], t[0].model))[0].model
    out = []
    for rank, (r, cost, value, roi, vtc) in enumerate(items, start=1):
        note = "monthly cost is zero: ROI undefined" if roi is None else ""
        if roi is not None and roi < 0:
            note = "costs more than it returns"
        out.append(
            ModelRoi(
                r.model,
                r.serving_pattern,
                cost,
                value,
                roi,
                vtc,
                rank,
                weakest=r.model == weakest,
                note=note,
            )
        )
    total_cost = sum(t[1] for t in items)
    total_value = sum(t[2] for t in items)
    return RoiReport(
        out,
        total_cost,
        total_value,
        ratio(total_value - total_cost, total_cost),
        ratio(total_value, total_cost),
        weakest,
    )


# ---- incident cost -----------------------------------------------------------------------
@dataclass(frozen=True)
class IncidentCost:
    revenue_per_hour: float
    minutes_to_mitigate: float
    revenue_at_risk: float  # revenue_per_hour × minutes / 60
    engineers: int
    hourly_rate: float
    engineering_minutes: float
    engineering_cost: float  # engineers × hourly_rate × engineering_minutes / 60
    total: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def incident_cost(
    revenue_per_hour: float,
    minutes: float,
    *,
    engineers: int = 0,
    hourly_rate: float = 0.0,
    engineering_minutes: float | None = None,
) -> IncidentCost:
    """Revenue at risk per hour × time until mitigated, plus engineering time.

    ``minutes`` is the time to mitigate; engineers are counted for ``engineering_minutes``
    (default: the same minutes). Zero minutes costs nothing. Negative inputs are refused.
    Example: $50,000/hour for 30 minutes is $25,000 at risk."""
    rph = checked_number("revenue per hour", revenue_per_hour)
    mins = checked_number("minutes", minutes)
    eng_mins = (
        mins
        if engineering_minutes is None
        else checked_number("engineering minutes", engineering_minutes)
    )
    n = int(checked_number("engineers", engineers))
    rate = checked_number("hourly rate", hourly_rate)
    at_risk = rph * mins / 60.0
    eng = n * rate * eng_mins / 60.0
    return IncidentCost(rph, mins, at_risk, n, rate, eng_mins, eng, at_risk + eng)


# ---- rollback exposure -------------------------------------------------------------------
@dataclass(frozen=True)
class Exposure:
    requests_per_hour: float
    seconds: float
    share: float
    requests: float  # R / 3600 × S × F, unrounded

    @property
    def requests_rounded(self) -> int:
        return round(self.requests)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "requests_rounded": self.requests_rounded}


def exposure(requests_per_hour: float, seconds: float, share: float = 1.0) -> Exposure:
    """Requests served by the bad version during a rollback: R / 3600 × S × F.

    ``share`` is the fraction of traffic on the bad version (0–1; a 25% canary is 0.25).
    Worked value: 5,000,000 req/h, 5 s, 0.25 → ≈1,736 requests; 300 s → ≈104,167."""
    r = checked_number("requests per hour", requests_per_hour)
    s = checked_number("seconds", seconds)
    f = checked_number("share", share)
    if f > 1:
        raise InvalidInput(
            f"share is a fraction of traffic between 0 and 1, got {f:g}",
            hint="a 25% canary is --share 0.25",
        )
    return Exposure(r, s, f, r / SECONDS_PER_HOUR * s * f)


# ---- total cost of ownership -------------------------------------------------------------
@dataclass(frozen=True)
class CostLine:
    category: str
    monthly: float
    annual: float
    share: float | None  # of the monthly total; None when the total is zero


@dataclass(frozen=True)
class Tco:
    lines: list[CostLine]
    total_monthly: float
    total_annual: float
    annual_value: float | None
    return_ratio: float | None  # annual value / annual cost ("17:1" is 17.0)
    net_annual: float | None
    model: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "categories": [asdict(c) for c in self.lines],
            "total_monthly": self.total_monthly,
            "total_annual": self.total_annual,
            "annual_value": self.annual_value,
            "return_ratio": self.return_ratio,
            "net_annual": self.net_annual,
            "note": self.note,
        }


def tco(
    monthly: Mapping[str, float],
    *,
    annual: Mapping[str, float] | None = None,
    annual_value: float | None = None,
    model: str = "",
) -> Tco:
    """Total cost of ownership per month and per year, by category.

    ``monthly`` maps category → money per month; ``annual`` (optional) maps category →
    money per year (licences, audits) and is spread evenly over 12 months; a category in
    both is added up. ``annual_value`` (money per year the model brings) gives the return
    ratio value / cost; with zero cost the ratio is undefined (None, with a note).
    Worked value: 3,200 + 1,800 + 500 + 4,500 + 400 = 10,400 a month, 124,800 a year;
    against 2,100,000 a year that is ≈16.8, "about 17:1"."""
    per_month: dict[str, float] = {}
    for cat, amount in monthly.items():
        per_month[cat] = per_month.get(cat, 0.0) + checked_number(f"monthly.{cat}", amount)
    for cat, amount in (annual or {}).items():
        per_month[cat] = per_month.get(cat, 0.0) + checked_number(f"annual.{cat}", amount) / 12.0
    total = sum(per_month.values())
    lines = [CostLine(c, m, m * 12.0, ratio(m, total)) for c, m in per_month.items()]
    value = None if annual_value is None else checked_number("annual value", annual_value)
    rr = None if value is None else ratio(value, total * 12.0)
    note = ""
    if value is not None and rr is None:
        note = "total cost is zero: return ratio undefined"
    net = None if value is None else value - total * 12.0
    return Tco(lines, total, total * 12.0, value, rr, net, model=model, note=note)


def incident_cost_from_record(
    incident: Any,
    events: Sequence[Any],
    *,
    now: Any,
    revenue_per_hour: float | None = None,
    configured_revenue_per_hour: float | None = None,
    minutes: float | None = None,
    engineers: int | None = None,
    hourly_rate: float = 0.0,
) -> IncidentCost:
    """``incident_cost`` with the figures taken from an incident's record.

    Minutes: the time to mitigate (detected → mitigated; up to ``now`` while not mitigated).
    Engineers: the people in the record, counted until resolved (else for the same
    minutes). Revenue per hour: the argument, else ``data["impact"]["revenue_per_hour"]``,
    else ``configured_revenue_per_hour`` (the environment's figure for the model).
    Explicit arguments override the record. No revenue figure at all is ``InvalidInput``."""
    from console.reports.metrics import incident_metrics, minutes_between
    from console.reports.record import participants

    m = incident_metrics(incident)
    if minutes is None:
        minutes = m["mitigate_min"]
        if minutes is None:
            minutes = minutes_between(incident.detected_at, now) or 0.0
    eng_minutes = m["resolve_min"] or minutes
    if revenue_per_hour is None:
        revenue_per_hour = (incident.data.get("impact") or {}).get("revenue_per_hour")
    if revenue_per_hour is None:
        revenue_per_hour = configured_revenue_per_hour
    if revenue_per_hour is None:
        raise InvalidInput(
            f"no revenue per hour for {incident.model} in {incident.id}'s record or the config",
            hint="pass --revenue-per-hour R, or set [env.NAME.revenue_per_hour] MODEL = R",
        )
    if engineers is None:
        engineers = len(participants(events, incident.data))
    return incident_cost(
        revenue_per_hour,
        minutes,
        engineers=engineers,
        hourly_rate=hourly_rate,
        engineering_minutes=eng_minutes,
    )
