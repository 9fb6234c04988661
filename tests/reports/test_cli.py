"""The commands: `rollbook postmortem` and `rollbook report …`, end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from console.cli.main import cli
from console.config import load
from console.store import open_store

from .conftest import build_drill_incident


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.output


@pytest.fixture
def seeded(rollbook_home):
    with open_store(load().data_dir) as store:
        return build_drill_incident(store)


def test_exposure_json_reproduces_the_worked_value():
    code, out = run(
        "report",
        "exposure",
        "--requests-per-hour",
        "5000000",
        "--seconds",
        "5",
        "--share",
        "0.25",
        "--json",
    )
    assert code == 0
    assert round(json.loads(out)["requests"]) == 1736


def test_tco_json_and_markdown(tmp_path):
    p = tmp_path / "costs.toml"
    p.write_text(
        "[monthly]\ninference_compute = 3200\ndata_pipeline = 1800\n"
        "monitoring = 500\nengineering = 4500\nstorage = 400\n"
    )
    code, out = run("report", "tco", str(p), "--annual-value", "2100000", "--json")
    d = json.loads(out)
    assert code == 0 and d["total_monthly"] == 10_400 and d["total_annual"] == 124_800
    assert round(d["return_ratio"]) == 17
    code, out = run("report", "tco", str(p), "--annual-value", "2100000")
    assert "$10,400" in out and "$124,800" in out and "16.8:1" in out


def test_roi_json(tmp_path):
    p = tmp_path / "models.csv"
    p.write_text(
        "model,serving_pattern,monthly_cost,monthly_value\n"
        "churn,batch,10400,175000\nfree,batch,0,10\npricing,realtime,8000,6000\n"
    )
    code, out = run("report", "roi", str(p), "--json")
    d = json.loads(out)
    assert code == 0
    assert [(m["model"], m["rank"]) for m in d["models"]] == [
        ("churn", 1),
        ("pricing", 2),
        ("free", 3),
    ]
    assert d["models"][2]["roi"] is None  # zero cost: undefined, not NaN
    assert d["total_cost"] == 18_400 and d["total_value"] == 181_010
    code, out = run("report", "roi", str(p), "--format", "html")
    assert "<table>" in out and "weakest" in out


def test_business_case_json():
    code, out = run(
        "report",
        "business-case",
        "--annual-investment",
        "200000",
        "--weeks-before",
        "12",
        "--weeks-after",
        "2",
        "--models",
        "10",
        "--value-per-model",
        "100000",
        "--horizon-months",
        "12",
        "--engineer-week-cost",
        "5000",
        "--json",
    )
    d = json.loads(out)
    assert code == 0
    assert d["value_of_earlier_deployment"] == pytest.approx(192_307.69, abs=0.01)
    assert d["engineering_saved"] == 500_000 and d["investment"] == 200_000
    assert d["roi"] == pytest.approx(2.4615, abs=1e-4)
    assert d["payback_months"] == pytest.approx(3.4667, abs=1e-4)


def test_standby_json():
    code, out = run(
        "report",
        "standby",
        "--standby-cost",
        "2000",
        "--requests-per-hour",
        "5000000",
        "--pull-seconds",
        "40",
        "--load-seconds",
        "15",
        "--warmup-seconds",
        "5",
        "--share",
        "0.25",
        "--json",
    )
    assert code == 0 and round(json.loads(out)["cold_requests"]) == 20_833


def test_incident_cost_by_flags_and_from_the_record(seeded):
    code, out = run(
        "report",
        "incident-cost",
        "--revenue-per-hour",
        "50000",
        "--minutes",
        "30",
        "--engineers",
        "2",
        "--hourly-rate",
        "100",
        "--json",
    )
    d = json.loads(out)
    assert code == 0 and d["revenue_at_risk"] == 25_000 and d["engineering_cost"] == 100
    code, out = run("report", "incident-cost", seeded, "--hourly-rate", "150", "--json")
    d = json.loads(out)
    # $12,000/h × 7 min = $1,400; 2 people × $150/h × 44 min = $220
    assert d["revenue_at_risk"] == pytest.approx(1400)
    assert d["engineering_cost"] == pytest.approx(220)


def test_postmortem_markdown_html_check_and_csv(seeded, tmp_path):
    code, out = run("postmortem", seeded.lower())
    assert code == 0 and out.startswith("# Post-mortem: churn")
    target = tmp_path / "pm.html"
    code, _ = run("postmortem", seeded, "--format", "html", "-o", str(target), "--no-charts")
    assert code == 0 and target.read_text().startswith("<!DOCTYPE html>")
    code, out = run("postmortem", seeded, "--check")
    assert code == 0 and "blameless" in out
    code, out = run("postmortem", seeded, "--action-items-csv", "-")
    assert code == 0 and out.splitlines()[0] == "what,owner,due,type,link"
    code, out = run("postmortem", seeded, "--json")
    assert code == 0 and len(json.loads(out)["whys"]) == 5


def test_postmortem_check_fails_on_blame(seeded):
    from .conftest import at

    with open_store(load().data_dir) as store:
        store.append(
            seeded,
            "note",
            "This was human error: bob forgot to check.",
            actor="alice",
            at=at(8, 0),
            payload={"tag": "went_badly"},
        )
    code, out = run("postmortem", seeded, "--check", "--json")
    d = json.loads(out)
    assert code == 1 and d["ok"] is False
    assert {f["rule"] for f in d["findings"]} >= {"human-error", "person-subject"}
    assert all(f["line"] > 0 and f["suggestion"] for f in d["findings"])


def test_drill_report_command(seeded):
    code, out = run("report", "drill", seeded)
    assert code == 0 and "# Drill report: athena-null-feature" in out
    code, out = run("report", "drill", seeded, "--json")
    assert code == 0 and json.loads(out)["score"]["passed"] is True
