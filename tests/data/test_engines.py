"""The same hidden-shape log through DuckDB (Parquet files), PostgreSQL and Spark: the same
PSI, null rates and category frequencies to 1e-9, and KS/Wasserstein within the stated bound
of scipy's exact values — on the exact path and on the grid path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import console.diagnostics.pushdown as pushdown
from console.backends.aggregates import LogWindow
from console.backends.plugin import PluginContext
from console.diagnostics.logchecks import null_rates
from console.diagnostics.pushdown import drift_between

T0 = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
SPLIT = T0 + timedelta(hours=2)
END = T0 + timedelta(hours=4)
NUMERIC = ("heavy", "ties", "moved")


def hidden_shape(n: int = 4_000, seed: int = 5) -> pd.DataFrame:
    """Two windows of two hours: heavy tails, ties, nulls, NaN, ±inf, a category that
    appears only later and a segment column."""
    rng = np.random.default_rng(seed)
    later = np.arange(n) >= n // 2
    heavy = rng.pareto(2.5, n) * 10
    heavy[rng.uniform(size=n) < 0.03] = np.nan
    ties = rng.integers(0, 12, n).astype(float) + later
    moved = rng.normal(0, 1, n) + 0.4 * later
    moved[::97] = np.inf
    moved[::101] = -np.inf
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]).astype(object)
    plan[later & (rng.uniform(size=n) < 0.05)] = "trial"
    plan[rng.uniform(size=n) < 0.02] = None
    return pd.DataFrame(
        {
            # microseconds: what every engine stores
            "ts": (T0 + pd.to_timedelta(np.sort(rng.uniform(0, 4 * 3600, n)), unit="s")).floor(
                "us"
            ),
            "version": np.where(later, "2", "1"),
            "heavy": heavy,
            "ties": ties,
            "moved": moved,
            "plan": plan,
            "region": rng.choice(["na", "eu"], n),
            "prediction": rng.uniform(size=n),
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return hidden_shape()


def _ctx(tmp_path) -> PluginContext:
    return PluginContext(env_name="t", data_dir=tmp_path)


@pytest.fixture(scope="module")
def parquet_log(frame, tmp_path_factory):
    from plugins.parquet import make_predictions

    folder = tmp_path_factory.mktemp("log")
    for part, rows in frame.groupby(frame["ts"].dt.hour):
        where = folder / f"hour={part:02d}"
        where.mkdir()
        rows.to_parquet(where / "part-0.parquet", index=False)
    log = make_predictions(_ctx(folder), {"path": str(folder)})
    yield log
    log.close()


@pytest.fixture(scope="module")
def postgres_log(frame, pg_server, tmp_path_factory, monkeypatch_module):
    from predlog import write_postgres

    from plugins.postgres import make_predictions

    write_postgres(frame, pg_server.dsn, "engine_log")
    monkeypatch_module.setenv("ROLLBOOK_TEST_PG_DSN", pg_server.dsn)
    log = make_predictions(
        _ctx(tmp_path_factory.mktemp("pg")),
        {"dsn_env": "ROLLBOOK_TEST_PG_DSN", "table": "engine_log"},
    )
    yield log
    log.close()


@pytest.fixture(scope="module")
def spark_log(frame, spark_session, tmp_path_factory):
    from plugins.spark import make_predictions

    folder = tmp_path_factory.mktemp("spark-log")
    # microseconds, as lakes store them (Spark rejects nanosecond timestamps)
    frame.to_parquet(folder / "log.parquet", index=False, coerce_timestamps="us")
    log = make_predictions(_ctx(folder), {"path": str(folder)})
    yield log
    log.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _report(log, columns=(*NUMERIC, "plan"), **kw):
    agg = log.aggregates("churn")
    return drift_between(
        agg, LogWindow(T0, SPLIT), agg, LogWindow(SPLIT, END), columns=list(columns), **kw
    )


def _exact(frame: pd.DataFrame, name: str) -> tuple[float, float]:
    ref = frame[frame["ts"] < SPLIT][name].to_numpy()
    cur = frame[frame["ts"] >= SPLIT][name].to_numpy()
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    return stats.ks_2samp(ref, cur).statistic, stats.wasserstein_distance(ref, cur)


def _same_everywhere(reports: dict[str, object], frame: pd.DataFrame) -> None:
    first = next(iter(reports.values()))
    for engine, rep in reports.items():
        for f in first.features:
            g = rep.feature(f.name)
            assert g.psi == pytest.approx(f.psi, abs=1e-9), (engine, f.name)
            assert g.null_rate_current == pytest.approx(f.null_rate_current, abs=1e-9)
            assert g.null_rate_reference == pytest.approx(f.null_rate_reference, abs=1e-9)
            assert g.infinite_rate_current == pytest.approx(f.infinite_rate_current, abs=1e-9)
            if f.kind == "categorical":
                assert g.evidence["categories"] == f.evidence["categories"], engine
                assert g.evidence["current_proportions"] == pytest.approx(
                    f.evidence["current_proportions"], abs=1e-9
                )
                continue
            ks, w = _exact(frame, f.name)
            bound_ks = g.evidence.get("ks_error_bound", 0.0)
            bound_w = g.evidence.get("wasserstein_error_bound", 0.0)
            assert abs(g.ks_statistic - ks) <= bound_ks + 1e-12, (engine, f.name)
            assert abs(g.wasserstein - w) <= bound_w + 1e-9 * max(1.0, w), (engine, f.name)


def test_duckdb_and_postgres_agree(frame, parquet_log, postgres_log):
    reports = {"duckdb": _report(parquet_log), "postgres": _report(postgres_log)}
    _same_everywhere(reports, frame)
    # the category that appears later is the top change
    plan = reports["postgres"].feature("plan")
    assert plan.evidence["categories"][0] == "trial"


def test_duckdb_and_postgres_agree_on_the_grid_path(frame, parquet_log, postgres_log, monkeypatch):
    monkeypatch.setattr(pushdown, "EXACT_LIMIT", 100)
    reports = {"duckdb": _report(parquet_log), "postgres": _report(postgres_log)}
    assert "ks_error_bound" in reports["postgres"].feature("heavy").evidence
    _same_everywhere(reports, frame)


def test_spark_agrees(frame, parquet_log, spark_log, monkeypatch):
    # Spark answers each query in ~0.3 s: the exact path on every column, the grid path
    # on the column with heavy tails and nulls only
    reports = {"duckdb": _report(parquet_log), "spark": _report(spark_log)}
    _same_everywhere(reports, frame)
    monkeypatch.setattr(pushdown, "EXACT_LIMIT", 100)
    grid = {"duckdb": _report(parquet_log, ["heavy"]), "spark": _report(spark_log, ["heavy"])}
    assert "ks_error_bound" in grid["spark"].feature("heavy").evidence
    _same_everywhere(grid, frame)


def test_null_rates_and_samples_per_engine(frame, parquet_log, postgres_log):
    want = frame[frame["ts"] >= SPLIT]
    for log in (parquet_log, postgres_log):
        agg = log.aggregates("churn")
        rates = null_rates(agg, LogWindow(SPLIT, END), ["heavy", "plan"])
        assert rates["heavy"] == pytest.approx(want["heavy"].isna().mean(), abs=1e-12)
        assert rates["plan"] == pytest.approx(want["plan"].isna().mean(), abs=1e-12)
        rows = log.samples("churn", SPLIT, END, limit=10)
        assert len(rows) == 10 and rows["ts"].is_monotonic_increasing
        assert str(rows["ts"].dt.tz) == "UTC" and rows["ts"].iloc[-1] < END
