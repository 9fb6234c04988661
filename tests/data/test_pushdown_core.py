"""The pushdown path against the in-memory path, with DuckDB over Parquet files the test
writes: the same numbers when the windows are small enough to read, and KS/Wasserstein
inside the stated bound (PSI and null rates still exact) when they are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import console.diagnostics.logchecks as logchecks
import console.diagnostics.pushdown as pushdown
from console.backends.aggregates import ALL, LogWindow
from console.diagnostics import drift_report
from console.diagnostics.grid import choose_grid, grid_distance, histogram_of
from console.diagnostics.io import file_aggregates
from console.diagnostics.logprofile import LogProfile
from console.diagnostics.pushdown import compare_window, drift_between, fit_log_profile


def _frames(n: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "skewed": rng.lognormal(3, 1, n),
            "counts": rng.integers(0, 20, n).astype(float),
            "shifted": rng.normal(0, 1, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    cur = pd.DataFrame(
        {
            "skewed": rng.lognormal(3.1, 1.1, n),
            "counts": rng.integers(0, 22, n).astype(float),
            "shifted": rng.normal(5, 1, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    ref.loc[::50, "skewed"] = np.nan
    cur.loc[::7, "counts"] = np.nan
    cur.loc[3, "shifted"] = np.inf
    return ref, cur


@pytest.fixture
def files(tmp_path):
    ref, cur = _frames(20_000)
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    return ref, cur, tmp_path / "ref.parquet", tmp_path / "cur.parquet"


def test_small_windows_give_the_in_memory_numbers(files):
    ref, cur, rp, cp = files
    exact = drift_report(ref, cur)
    got = drift_between(file_aggregates(rp), LogWindow(), file_aggregates(cp), LogWindow())
    assert [f.name for f in got.features] == [f.name for f in exact.features]
    for f in exact.features:
        g = got.feature(f.name)
        for key in ("psi", "ks_statistic", "wasserstein", "null_rate_current", "chi2_pvalue"):
            a, b = getattr(f, key), getattr(g, key)
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-12, abs=1e-15), key
        assert g.severity == f.severity


def test_large_windows_stay_inside_the_stated_bound(files, monkeypatch):
    ref, cur, rp, cp = files
    monkeypatch.setattr(pushdown, "EXACT_LIMIT", 1_000)  # force the grid path
    exact = drift_report(ref, cur)
    got = drift_between(file_aggregates(rp), LogWindow(), file_aggregates(cp), LogWindow())
    for f in exact.features:
        g = got.feature(f.name)
        assert g.psi == pytest.approx(f.psi, rel=1e-12)  # edges by exact refinement
        assert g.null_rate_current == f.null_rate_current
        if f.kind == "numeric":
            ks_bound = g.evidence["ks_error_bound"]
            w_bound = g.evidence["wasserstein_error_bound"]
            assert abs(g.ks_statistic - f.ks_statistic) <= ks_bound + 1e-12
            assert abs(g.wasserstein - f.wasserstein) <= w_bound + 1e-9
            assert ks_bound < 2e-3  # about one grid cell's share
    # a discrete column sits on the grid's edges: exact even on the grid path
    counts = got.feature("counts")
    assert counts.evidence["ks_error_bound"] == 0.0


def test_grid_distance_brackets_scipy():
    rng = np.random.default_rng(11)
    a, b = np.sort(rng.gamma(2.0, 2.0, 5000)), np.sort(rng.gamma(2.2, 2.0, 3000))
    q1, q2, q3 = np.quantile(a, [0.25, 0.5, 0.75]).tolist()
    grid = choose_grid(min(a[0], b[0]), max(a[-1], b[-1]), center=q2, scale=(q3 - q1) / 2)
    assert grid.kind == "linear"  # no long tail: equal cells
    d = grid_distance(grid, histogram_of(a, grid), histogram_of(b, grid))
    ks = stats.ks_2samp(a, b).statistic
    w = stats.wasserstein_distance(a, b)
    assert abs(d.ks - ks) <= d.ks_bound + 1e-12 and 0 < d.ks_bound < 2e-3
    assert abs(d.wasserstein - w) <= d.wasserstein_bound + 1e-9
    # a long tail: asinh cells keep the bound small where equal cells would not
    a, b = np.sort(rng.pareto(1.5, 5000)), np.sort(rng.pareto(1.3, 3000))
    q1, q2, q3 = np.quantile(a, [0.25, 0.5, 0.75]).tolist()
    grid = choose_grid(min(a[0], b[0]), max(a[-1], b[-1]), center=q2, scale=(q3 - q1) / 2)
    assert grid.kind == "asinh"
    d = grid_distance(grid, histogram_of(a, grid), histogram_of(b, grid))
    assert abs(d.ks - stats.ks_2samp(a, b).statistic) <= d.ks_bound + 1e-12
    assert d.ks_bound < 2e-3
    w = stats.wasserstein_distance(a, b)
    assert abs(d.wasserstein - w) <= d.wasserstein_bound + 1e-9
    # few distinct values: a values grid, and the distances are exact
    x, y = rng.integers(0, 9, 4000).astype(float), rng.integers(1, 10, 3000).astype(float)
    grid = choose_grid(0.0, 9.0, distinct=10)
    exact = grid_distance(grid, histogram_of(x, grid), histogram_of(y, grid))
    assert exact.ks_bound == 0 and exact.ks == pytest.approx(stats.ks_2samp(x, y).statistic)
    assert exact.wasserstein == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-12)


def test_a_profile_round_trips_and_compares_like_the_files(files):
    ref, cur, rp, cp = files
    agg = file_aggregates(rp)
    profile = fit_log_profile(agg, LogWindow(), ["skewed", "counts", "shifted", "plan"])
    stored = LogProfile.from_json(profile.to_json())
    report = compare_window(stored, file_aggregates(cp), LogWindow())
    exact = drift_report(ref, cur)
    for f in exact.features:
        g = report.feature(f.name)
        assert g.psi == pytest.approx(f.psi, rel=1e-12)
        if f.kind == "numeric":  # a stored profile keeps the grid, not the values
            assert abs(g.ks_statistic - f.ks_statistic) <= g.evidence["ks_error_bound"] + 1e-12
    assert stored.columns["plan"].column.counts.sum() == (ref["plan"].notna()).sum()


def test_rows_and_null_rates(files):
    ref, _, rp, _ = files
    agg = file_aggregates(rp)
    assert agg.rows(LogWindow()) == {ALL: len(ref)}
    rates = logchecks.null_rates(agg, LogWindow(), ["skewed", "nope"])
    assert rates == {"skewed": pytest.approx(ref["skewed"].isna().mean()), "nope": None}


def test_samples_fallback_answers_like_an_engine(files):
    """A log that can only hand over rows (``samples``) is answered by DuckDB over them:
    the same numbers as the engine over the same rows; a column empty in a window is
    missing from that window's columns (the embedded log's view of a rename)."""
    from console.backends.framelog import SamplesAggregates

    ref, cur, rp, cp = files
    frames = {"ref": ref, "cur": cur.assign(gone=None)}

    def sampler(start, end, version, segment):
        return frames["ref" if start is None else "cur"]

    agg = SamplesAggregates(sampler)
    cur_window = LogWindow(start=pd.Timestamp("2026-01-01", tz="UTC").to_pydatetime())
    got = drift_between(agg, LogWindow(), agg, cur_window)
    want = drift_between(file_aggregates(rp), LogWindow(), file_aggregates(cp), LogWindow())
    for f in want.features:
        g = got.feature(f.name)
        assert g.psi == f.psi and g.ks_statistic == f.ks_statistic
        assert g.null_rate_current == f.null_rate_current
    assert "gone" in {c.name for c in agg.columns(cur_window)}  # typed as an empty number
    assert logchecks.null_rates(agg, cur_window, ["gone"]) == {"gone": 1.0}


def test_folders_and_globs_of_parquet(tmp_path):
    """`rollbook drift`/`schema` take hive-partitioned folders as well as files."""
    from click.testing import CliRunner

    from console.cli.main import cli

    ref, cur = _frames(3_000)
    for name, frame in (("ref", ref), ("cur", cur)):
        for part in range(3):
            where = tmp_path / name / f"dt=2026-11-0{part + 1}"
            where.mkdir(parents=True)
            frame.iloc[part::3].to_parquet(where / "part-0.parquet", index=False)
    out = CliRunner().invoke(cli, ["drift", str(tmp_path / "ref"), str(tmp_path / "cur"), "--json"])
    data = __import__("json").loads(out.output)
    assert data["rows"] == {"reference": 3_000, "current": 3_000}
    assert data["features"][0]["name"] == "shifted"  # moved by 5 sd
    assert "dt" in {f["name"] for f in data["features"]}  # the partition column is a column
    glob = CliRunner().invoke(
        cli, ["schema", str(tmp_path / "ref" / "*" / "*.parquet"), str(tmp_path / "cur"), "--json"]
    )
    assert __import__("json").loads(glob.output)["missing"] == []
