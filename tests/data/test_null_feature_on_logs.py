"""The reference incident on a real prediction log: the churn log that examples/local-stack
writes, broken by the upstream rename, in Parquet files (DuckDB) and in a PostgreSQL table.
The null-feature runbook's detect and diagnose steps run end to end through the engine and
name ``avg_order_value_90d`` and the rename ``total_order_amount → order_total_amount``;
``rollbook profile build`` and ``rollbook drift --model`` work against the same log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from console.backends.types import Alert
from console.cli.main import cli, main

FEATURE = "avg_order_value_90d"


def _toml(value) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def write_config(home, predictions: dict) -> None:
    lines = ['default_env = "stack"', "", "[env.stack]"]
    for role in ("registry", "metrics", "traffic"):
        lines += [f"[env.stack.{role}]", 'plugin = "embedded"', ""]
    lines.append("[env.stack.predictions]")
    lines += [f"{k} = {_toml(v)}" for k, v in predictions.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def broken():
    """The log of the last six hours with the rename 50 minutes ago, as of now."""
    from predlog import broken_log

    now = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    frame, onset = broken_log(now, version="v13")
    return frame, onset


@pytest.fixture(scope="module")
def parquet_dir(broken, tmp_path_factory):
    from predlog import write_parquet

    return write_parquet(broken[0], tmp_path_factory.mktemp("log") / "churn")


@pytest.fixture(scope="module")
def pg_table(broken, pg_server):
    from predlog import write_postgres

    return write_postgres(broken[0], pg_server.dsn, "churn_predictions")


def _predictions(kind, request, monkeypatch) -> dict:
    from predlog import FEATURES, SEGMENTS

    common = {"segments": list(SEGMENTS), "features": list(FEATURES)}
    if kind == "parquet":
        return {"plugin": "parquet", "path": str(request.getfixturevalue("parquet_dir")), **common}
    server = request.getfixturevalue("pg_server")
    table = request.getfixturevalue("pg_table")
    monkeypatch.setenv("ROLLBOOK_TEST_PREDICTIONS_DSN", server.dsn)
    return {
        "plugin": "postgres",
        "dsn_env": "ROLLBOOK_TEST_PREDICTIONS_DSN",
        "table": table,
        **common,
    }


@pytest.mark.parametrize("kind", ["parquet", "postgres"])
def test_null_feature_runbook_on_the_log(kind, broken, stack_home, request, monkeypatch):
    from console.runbooks.engine import Engine
    from console.runbooks.selection import open_incident
    from console.workspace import open_workspace

    _, onset = broken
    write_config(stack_home, _predictions(kind, request, monkeypatch))
    with open_workspace() as ws:
        assert "aggregates" in ws.backends.predictions.capabilities
        # a metrics backend that exports no null-rate signal: the log is the evidence
        query = ws.backends.metrics.query
        monkeypatch.setattr(
            ws.backends.metrics,
            "query",
            lambda signal, *a, **k: (
                None if signal.startswith("null_rate") else query(signal, *a, **k)
            ),
        )
        monkeypatch.setattr(ws.backends.metrics, "query_range", lambda *a, **k: [])
        alert = Alert(
            "FeatureNullRateHigh",
            "churn",
            f"fp-{kind}",
            starts_at=onset + timedelta(minutes=5),
            severity="critical",
            labels={"feature": FEATURE},
        )
        inc, rb, _ = open_incident(ws, alert, onset_at=onset)
        assert rb.id == "null-feature"
        engine = Engine(ws, inc.id)
        nulls = engine.run_step("confirm_nulls")
        schema = engine.run_step("schema")
        drift = engine.run_step("drift")
    assert nulls.state == "failed", nulls.summary
    assert nulls.values["top_feature"] == FEATURE
    assert nulls.values["max_null_rate"] == pytest.approx(0.942, abs=0.03)
    assert schema.values["rename_from"] == "total_order_amount"
    assert schema.values["rename_to"] == "order_total_amount"
    assert "total_order_amount → order_total_amount" in schema.summary
    assert schema.evidence["computed"] == "pushdown"
    assert drift.values["top_feature"] == FEATURE
    assert drift.values["top_severity"] == "significant"
    assert drift.values["significant"] == [FEATURE]  # the other features held


def test_profile_build_and_drift_against_it(
    broken, parquet_dir, stack_home, request, monkeypatch, capsys
):
    _, onset = broken
    write_config(stack_home, _predictions("parquet", request, monkeypatch))
    healthy = f"{(onset - timedelta(hours=5)).isoformat()}/{onset.isoformat()}"
    runner = CliRunner()
    built = runner.invoke(
        cli,
        [
            "profile",
            "build",
            "log",
            "--model",
            "churn",
            "--version",
            "v13",
            "--window",
            healthy,
            "--json",
        ],
        catch_exceptions=False,
    )
    assert built.exit_code == 0, built.output
    data = json.loads(built.output)
    assert FEATURE in data["columns"] and data["rows"] > 5_000
    shown = runner.invoke(cli, ["profile", "show", "churn", "v13", "--json"])
    assert json.loads(shown.output)["rows"] == data["rows"]
    drift = runner.invoke(
        cli, ["drift", "--model", "churn", "--version", "v13", "--window", "45m", "--json"]
    )
    assert drift.exit_code == 1, drift.output  # critical
    report = json.loads(drift.output)
    top = report["features"][0]
    assert top["name"] == FEATURE and top["severity"] == "significant"
    assert top["null_rate_current"] == pytest.approx(0.942, abs=0.03)
    # a version without a profile: not found, with the command that builds one
    with pytest.raises(SystemExit) as missing:
        main(["drift", "--model", "churn", "--version", "v12"])
    assert missing.value.code == 4
    assert "rollbook profile build" in capsys.readouterr().err
