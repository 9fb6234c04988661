"""Cost / ROI arithmetic against DOMAIN.md's worked values and cases worked by hand."""

from __future__ import annotations

import json
import math

import pytest

from console.errors import InvalidInput
from console.reports.business import business_case
from console.reports.costs import (
    ModelEconomics,
    exposure,
    incident_cost,
    model_roi,
    tco,
)
from console.reports.inputs import load_costs_toml, load_models_csv
from console.reports.standby import standby_vs_cold

DOMAIN_TCO = {
    "inference_compute": 3200,
    "data_pipeline": 1800,
    "monitoring": 500,
    "engineering": 4500,
    "storage": 400,
}


def test_tco_reproduces_the_domain_worked_value():
    t = tco(DOMAIN_TCO, annual_value=2_100_000)
    assert t.total_monthly == 10_400
    assert t.total_annual == 124_800
    assert t.return_ratio == pytest.approx(2_100_000 / 124_800)
    assert round(t.return_ratio) == 17  # "about 17:1"
    assert t.net_annual == 2_100_000 - 124_800
    shares = {line.category: line.share for line in t.lines}
    assert shares["engineering"] == pytest.approx(4500 / 10_400)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_tco_spreads_annual_costs_and_handles_zero_cost():
    t = tco({"compute": 1000}, annual={"audit": 6000, "compute": 1200})
    # compute: 1000 + 1200/12 = 1100; audit: 500 → 1600 a month, 19,200 a year
    assert {line.category: line.monthly for line in t.lines} == {"compute": 1100, "audit": 500}
    assert t.total_annual == 19_200
    assert t.return_ratio is None and t.annual_value is None
    zero = tco({"compute": 0}, annual_value=1000)
    assert zero.return_ratio is None
    assert "undefined" in zero.note
    assert zero.lines[0].share is None


def test_exposure_reproduces_the_domain_worked_values():
    e = exposure(5_000_000, 5, 0.25)
    assert e.requests == pytest.approx(1736.111, abs=1e-3)
    assert e.requests_rounded == 1736
    assert round(exposure(5_000_000, 300, 0.25).requests) == 104_167
    # by hand: 7,200 req/h is 2 req/s; 30 s at 50% → 30 requests
    assert exposure(7200, 30, 0.5).requests == pytest.approx(30.0)
    assert exposure(7200, 30).requests == pytest.approx(60.0)  # default share: all traffic


def test_exposure_refuses_a_share_above_one():
    with pytest.raises(InvalidInput, match="fraction"):
        exposure(1000, 5, 25)


def test_roi_ranks_flags_the_weakest_and_totals():
    r = model_roi(
        [
            ModelEconomics("churn", 10_400, 175_000, "batch"),
            ModelEconomics("recs", 20_000, 30_000, "realtime"),
            ModelEconomics("pricing", 8_000, 6_000, "realtime"),
        ]
    )
    by = {m.model: m for m in r.models}
    # by hand: churn (175000-10400)/10400 = 15.8269; recs 0.5; pricing -0.25
    assert by["churn"].roi == pytest.approx(15.826923, rel=1e-6)
    assert by["churn"].value_to_cost == pytest.approx(16.826923, rel=1e-6)
    assert by["recs"].roi == pytest.approx(0.5)
    assert by["pricing"].roi == pytest.approx(-0.25)
    assert [m.model for m in r.models] == ["churn", "recs", "pricing"]
    assert [m.rank for m in r.models] == [1, 2, 3]
    assert r.weakest == "pricing" and by["pricing"].weakest and not by["churn"].weakest
    assert by["pricing"].note == "costs more than it returns"
    assert r.total_cost == 38_400 and r.total_value == 211_000
    assert r.total_roi == pytest.approx((211_000 - 38_400) / 38_400)
    d = r.to_dict()
    assert set(d["models"][0]) >= {
        "model",
        "monthly_cost",
        "monthly_value",
        "roi",
        "value_to_cost",
        "rank",
    }
    assert d["total_cost"] == 38_400 and d["total_value"] == 211_000


def test_roi_with_zero_cost_is_undefined_not_nan_or_infinite():
    r = model_roi([ModelEconomics("free", 0, 500), ModelEconomics("paid", 100, 150)])
    free = next(m for m in r.models if m.model == "free")
    assert free.roi is None and free.value_to_cost is None
    assert "undefined" in free.note
    assert free.rank == 2  # after every defined ROI
    assert r.weakest == "paid"
    text = json.dumps(r.to_dict())
    assert "NaN" not in text and "Infinity" not in text
    empty = model_roi([])
    assert empty.models == [] and empty.total_roi is None and empty.weakest is None


def test_roi_flags_no_weakest_among_tied_models():
    from console.reports.render import render_report

    # by hand: both ROIs are 0.1 — (3.3 − 3) / 3 and (33 − 30) / 30, equal but for the last
    # bits of the float division
    tied = model_roi([ModelEconomics("b-model", 30, 33), ModelEconomics("a-model", 3, 3.3)])
    assert [m.rank for m in tied.models] == [1, 2]
    assert tied.weakest is None and not any(m.weakest for m in tied.models)
    for fmt in ("md", "html"):
        assert "weakest" not in render_report(fmt=fmt, name="roi", context={"r": tied}).lower()
    one = model_roi([ModelEconomics("churn", 10_400, 175_000)])
    assert one.weakest is None and not one.models[0].weakest
    # a tie at the bottom under a better model: the first of the tied, by name, as before
    low = model_roi(
        [
            ModelEconomics("c", 100, 300),
            ModelEconomics("b", 100, 150),
            ModelEconomics("a", 200, 300),
        ]
    )
    assert low.weakest == "a" and [m.model for m in low.models if m.weakest] == ["a"]
    # a value at no cost does better than any defined ROI; nothing at no cost does not
    assert model_roi([ModelEconomics("x", 0, 0), ModelEconomics("y", 100, 150)]).weakest is None


def test_roi_refuses_negative_or_non_finite_money():
    with pytest.raises(InvalidInput):
        model_roi([ModelEconomics("x", -1, 10)])
    with pytest.raises(InvalidInput):
        model_roi([ModelEconomics("x", math.nan, 10)])


def test_incident_cost_is_revenue_at_risk_plus_engineering_time():
    # DOMAIN: recommendations lose $50,000/hour; mitigated after 30 minutes → $25,000
    c = incident_cost(50_000, 30)
    assert c.revenue_at_risk == pytest.approx(25_000)
    assert c.total == pytest.approx(25_000)
    # by hand: + 3 engineers × $120/h × 90 min = $540
    c = incident_cost(50_000, 30, engineers=3, hourly_rate=120, engineering_minutes=90)
    assert c.engineering_cost == pytest.approx(540)
    assert c.total == pytest.approx(25_540)
    assert incident_cost(833, 0).total == 0


def test_business_case_by_hand():
    b = business_case(
        annual_investment=200_000,
        weeks_before=12,
        weeks_after=2,
        models=10,
        value_per_model=100_000,
        horizon_months=12,
        engineer_week_cost=5_000,
    )
    assert b.value_of_earlier_deployment == pytest.approx(10 * 10 * 100_000 / 52)  # 192,307.69
    assert b.engineering_saved == pytest.approx(500_000)
    assert b.investment == pytest.approx(200_000)
    assert b.net == pytest.approx(692_307.69 - 200_000, abs=0.01)
    assert b.roi == pytest.approx(492_307.69 / 200_000, rel=1e-6)
    assert b.payback_months == pytest.approx(200_000 / (692_307.69 / 12), rel=1e-6)  # ≈3.47
    # 18-month horizon: investment 300,000
    assert business_case(
        annual_investment=200_000,
        weeks_before=8,
        weeks_after=8,
        models=5,
        value_per_model=1,
        horizon_months=18,
    ).investment == pytest.approx(300_000)


def test_business_case_edge_cases_are_explicit():
    no_gain = business_case(
        annual_investment=1000,
        weeks_before=4,
        weeks_after=4,
        models=3,
        value_per_model=10,
        horizon_months=12,
    )
    assert no_gain.payback_months is None and "never pays back" in no_gain.note
    free = business_case(
        annual_investment=0,
        weeks_before=4,
        weeks_after=2,
        models=1,
        value_per_model=52,
        horizon_months=12,
    )
    assert free.roi is None and "ROI undefined" in free.note
    with pytest.raises(InvalidInput, match="weeks after"):
        business_case(
            annual_investment=1,
            weeks_before=2,
            weeks_after=4,
            models=1,
            value_per_model=1,
            horizon_months=12,
        )


def test_standby_vs_cold_by_hand():
    s = standby_vs_cold(
        2000,
        5_000_000,
        pull_seconds=40,
        load_seconds=15,
        warmup_seconds=5,
        share=0.25,
        cost_per_bad_request=0.05,
    )
    assert s.cold_seconds == 60
    assert s.cold_requests == pytest.approx(5_000_000 / 3600 * 60 * 0.25)  # 20,833.3
    assert s.warm_requests == pytest.approx(1736.111, abs=1e-3)  # the 5 s flip
    assert s.avoided_per_month == pytest.approx(20_833.333 - 1736.111, abs=1e-2)
    assert s.cost_per_avoided_request == pytest.approx(2000 / 19_097.222, rel=1e-6)
    assert s.exposure_cost_avoided_per_month == pytest.approx(954.86, abs=0.01)
    assert s.worth_it is False
    nothing = standby_vs_cold(
        100, 1000, pull_seconds=0, load_seconds=0, warmup_seconds=0, warm_seconds=5
    )
    assert nothing.avoided_per_month == 0 and nothing.cost_per_avoided_request is None


def test_models_csv_loader(tmp_path):
    p = tmp_path / "models.csv"
    p.write_text(
        "model,serving_pattern,monthly_cost,monthly_value\n"
        'churn,batch,"$10,400","175,000"\n\nrecs,realtime,20000,30000\n'
    )
    rows = load_models_csv(p)
    assert [(r.model, r.monthly_cost, r.monthly_value) for r in rows] == [
        ("churn", 10_400, 175_000),
        ("recs", 20_000, 30_000),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("model,serving_pattern,monthly_cost,monthly_value\nx,batch,lots,1\n")
    with pytest.raises(InvalidInput, match="line 2: monthly_cost"):
        load_models_csv(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("model,monthly_cost\nx,1\n")
    with pytest.raises(InvalidInput, match="missing column"):
        load_models_csv(missing)


def test_costs_toml_loader(tmp_path):
    p = tmp_path / "costs.toml"
    p.write_text(
        'model = "churn"\nannual_value = 2_100_000\n[monthly]\n'
        + "\n".join(f"{k} = {v}" for k, v in DOMAIN_TCO.items())
    )
    spec = load_costs_toml(p)
    assert tco(**spec).total_annual == 124_800
    p.write_text('[monthly]\ncompute = "a lot"\n')
    with pytest.raises(InvalidInput, match="monthly.compute"):
        load_costs_toml(p)
