"""The business case for operational investment: deploying models sooner pays for the
platform (and the on-call tooling) that makes it possible."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from console.errors import InvalidInput
from console.reports.costs import checked_number, ratio

WEEKS_PER_YEAR = 52.0


@dataclass(frozen=True)
class BusinessCase:
    annual_investment: float
    weeks_before: float
    weeks_after: float
    models: float
    value_per_model: float  # money per model per year
    horizon_months: float
    engineer_week_cost: float
    weeks_saved_per_model: float  # B − A
    value_of_earlier_deployment: float  # N × (B − A) × V / 52
    engineering_saved: float  # N × (B − A) × C
    total_benefit: float
    investment: float  # I × H / 12
    net: float  # benefit − investment
    roi: float | None  # net / investment; None when the investment is zero
    payback_months: float | None  # investment / (benefit / H); None when benefit is zero
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def business_case(
    *,
    annual_investment: float,
    weeks_before: float,
    weeks_after: float,
    models: float,
    value_per_model: float,
    horizon_months: float,
    engineer_week_cost: float = 0.0,
) -> BusinessCase:
    """Value of shortening deployment from ``weeks_before`` to ``weeks_after`` weeks per model.

    - value of earlier deployment = N × (B − A) × V / 52 (each model earns its yearly value
      V for B − A more weeks);
    - engineering saved = N × (B − A) × C (C = cost of one engineer-week);
    - investment over the horizon = I × H / 12 (I per year, H months);
    - net = value + engineering saved − investment; ROI = net / investment;
    - payback months = investment / (benefit / H): months of benefit, accrued evenly over the
      horizon, needed to repay the horizon's investment.
    N is the number of models deployed over the horizon. ROI is undefined (None) with zero
    investment; payback is undefined (None) with zero benefit. ``weeks_after`` greater than
    ``weeks_before`` is refused: it would be a business case for slowing down."""
    i = checked_number("annual investment", annual_investment)
    b = checked_number("weeks before", weeks_before)
    a = checked_number("weeks after", weeks_after)
    n = checked_number("models", models)
    v = checked_number("value per model", value_per_model)
    h = checked_number("horizon months", horizon_months)
    c = checked_number("engineer-week cost", engineer_week_cost)
    if a > b:
        raise InvalidInput(
            f"weeks after ({a:g}) is more than weeks before ({b:g})",
            hint="--weeks-before is today's deployment time per model",
        )
    if h == 0:
        raise InvalidInput("the horizon must be at least one month", hint="--horizon-months 12")
    saved = b - a
    value = n * saved * v / WEEKS_PER_YEAR
    eng = n * saved * c
    benefit = value + eng
    investment = i * h / 12.0
    net = benefit - investment
    roi = ratio(net, investment)
    payback = ratio(investment, benefit / h)
    notes = []
    if roi is None:
        notes.append("investment is zero: ROI undefined")
    if payback is None:
        notes.append("benefit is zero: the investment never pays back")
    return BusinessCase(
        i,
        b,
        a,
        n,
        v,
        h,
        c,
        saved,
        value,
        eng,
        benefit,
        investment,
        net,
        roi,
        payback,
        "; ".join(notes),
    )
