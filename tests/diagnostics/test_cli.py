"""The diagnostics commands through click, as a person or a script would run them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from console.cli.main import cli, main

FEATURE_KEYS = {
    "name",
    "kind",
    "psi",
    "ks_statistic",
    "ks_pvalue",
    "wasserstein",
    "jensen_shannon",
    "chi2_pvalue",
    "null_rate_reference",
    "null_rate_current",
    "severity",
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_drift_json_contract_and_incident(incident_files):
    ref, cur = incident_files
    result = run("drift", str(ref), str(cur), "--json")
    assert result.exit_code == 1  # critical
    data = json.loads(result.output)
    assert {"status", "rows", "features", "segments"} <= set(data)
    assert data["status"] == "critical"
    assert data["rows"] == {"reference": 5000, "current": 5000}
    assert data["features"][0]["name"] == "avg_order_value_90d"
    for f in data["features"]:
        assert set(f) >= FEATURE_KEYS
        if f["kind"] == "categorical":
            assert f["ks_statistic"] is None and f["wasserstein"] is None
        else:
            assert f["chi2_pvalue"] is None
    assert data["missing_columns"] == ["total_order_amount"]


def test_drift_options_and_human_output(tmp_path):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=500),
            "code": rng.integers(0, 3, 500),
            "seg": rng.choice(["a", "b"], 500),
        }
    )
    cur = ref.assign(x=ref["x"] + 0.01)
    ref.to_csv(tmp_path / "r.csv", index=False)
    cur.to_parquet(tmp_path / "c.parquet")
    args = ["drift", str(tmp_path / "r.csv"), str(tmp_path / "c.parquet")]
    data = json.loads(
        run(
            *args,
            "--json",
            "--bins",
            "5",
            "--columns",
            "x,code",
            "--categorical",
            "code",
            "--segment-by",
            "seg",
        ).output
    )
    assert {f["name"]: f["kind"] for f in data["features"]} == {
        "x": "numeric",
        "code": "categorical",
    }
    assert {s["value"] for s in data["segments"]} == {"a", "b"}
    human = run(*args)
    assert human.exit_code == 0
    assert "HEALTHY" in human.output and "stable" in human.output  # a word, not only colour


def test_bad_files_exit_7_with_the_file_name(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    good = tmp_path / "good.csv"
    good.write_text("a\n1\n")
    for bad, words in ((tmp_path / "missing.csv", "no such file"), (empty, "empty")):
        with pytest.raises(SystemExit) as exc:
            main(["drift", str(bad), str(good)])
        assert exc.value.code == 7
        err = capsys.readouterr().err
        assert bad.name in err and words in err
    corrupt = tmp_path / "broken.parquet"
    corrupt.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(SystemExit) as exc:
        main(["schema", str(corrupt), str(good)])
    assert exc.value.code == 7 and "broken.parquet" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["drift", str(good), str(good), "--columns", "nope"])
    assert exc.value.code == 7 and "nope" in capsys.readouterr().err


def test_schema_command(incident_files):
    ref, cur = incident_files
    result = run("schema", str(ref), str(cur), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert set(data) == {"missing", "added", "type_changed", "renames"}
    rename = data["renames"][0]
    assert rename["from"] == "total_order_amount" and rename["to"] == "order_total_amount"
    assert rename["confidence"] > 0.9 and rename["reason"]
    human = run("schema", str(ref), str(cur))
    assert "RENAME?" in human.output and "MISSING" in human.output
    same = run("schema", str(ref), str(ref))
    assert same.exit_code == 0 and "OK" in same.output


def test_canary_command():
    result = run("canary", "--control", "1200/50000", "--treatment", "1310/50000", "--json")
    data = json.loads(result.output)
    assert set(data) >= {
        "control_rate",
        "treatment_rate",
        "z",
        "p_value",
        "significant",
        "non_inferior",
        "decision",
    }
    assert data["decision"] == "promote" and result.exit_code == 0
    worse = run("canary", "--control", "1300/50000", "--treatment", "1150/50000")
    assert worse.exit_code == 1 and "ROLLBACK" in worse.output
    ni = json.loads(
        run(
            "canary",
            "--control",
            "2000/40000",
            "--treatment",
            "1980/40000",
            "--margin",
            "0.005",
            "--json",
        ).output
    )
    assert ni["non_inferior"] is True
    missing = CliRunner().invoke(cli, ["canary", "--control", "1/10"])
    assert missing.exit_code == 2


def test_canary_bad_counts_exit_7(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["canary", "--control", "20/10", "--treatment", "1/10"])
    assert exc.value.code == 7


def test_canary_size_command():
    data = json.loads(run("canary", "size", "--baseline", "0.1", "--mde", "0.02", "--json").output)
    assert set(data) >= {"n_per_arm", "days"} and data["days"] is None
    with_days = json.loads(
        run(
            "canary",
            "size",
            "--baseline",
            "0.1",
            "--mde",
            "0.2",
            "--relative",
            "--daily-traffic",
            "10000",
            "--share",
            "0.1",
            "--json",
        ).output
    )
    assert with_days["n_per_arm"] == data["n_per_arm"]
    assert with_days["days"] == pytest.approx(data["n_per_arm"] / 1000)
    assert "per arm" in run("canary", "size", "--baseline", "0.1", "--mde", "0.02").output


def test_shadow_command(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    champ = pd.DataFrame(
        {"id": np.arange(n), "score": rng.uniform(size=n), "tier": rng.choice(["new", "power"], n)}
    )
    chall = champ[["id", "score"]].assign(score=lambda d: d["score"] * 0.9 + 0.05)
    champ.to_csv(tmp_path / "champ.csv", index=False)
    chall.to_csv(tmp_path / "chall.csv", index=False)
    result = run(
        "shadow",
        str(tmp_path / "champ.csv"),
        str(tmp_path / "chall.csv"),
        "--key",
        "id",
        "--score",
        "score",
        "--segment-by",
        "tier",
        "--json",
    )
    data = json.loads(result.output)
    assert data["overall"]["spearman"] == pytest.approx(1.0)
    assert {s["value"] for s in data["segments"]} == {"new", "power"}
    human = run(
        "shadow",
        str(tmp_path / "champ.csv"),
        str(tmp_path / "chall.csv"),
        "--key",
        "id",
        "--score",
        "score",
    )
    assert "overall" in human.output


def test_diagnostics_help_stays_light():
    script = (
        "import sys\nfrom console.cli.main import main\n"
        "for cmd in (['drift', '--help'], ['canary', 'size', '--help'], ['shadow', '--help']):\n"
        "    try:\n        main(cmd)\n    except SystemExit:\n        pass\n"
        "print('HEAVY', sorted(m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    ).stdout
    assert "HEAVY []" in out, out
    assert "Exit codes" in out
