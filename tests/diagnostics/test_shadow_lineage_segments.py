"""Shadow comparison, lineage diff and segment drill-down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st

from console.diagnostics import (
    ColumnNotFound,
    DiagnosticsInputError,
    DtypeMismatch,
    EmptyInput,
    drift_report,
    lineage_diff,
    segment_drift,
    shadow_compare,
)


@pytest.fixture
def shadow_frames():
    rng = np.random.default_rng(5)
    n = 3_000
    keys = np.arange(n)
    segment = rng.choice(["new", "medium", "power"], n)
    champ = rng.uniform(size=n)
    chall = np.clip(champ + rng.normal(0, 0.02, n), 0, 1)
    # the challenger scrambles new users
    new = segment == "new"
    chall[new] = rng.uniform(size=new.sum())
    champion = pd.DataFrame({"id": keys, "score": champ, "segment": segment})
    challenger = pd.DataFrame({"id": keys[::-1], "score": chall[::-1]})
    return champion, challenger, champ, chall, segment


def test_shadow_overall_matches_scipy(shadow_frames):
    champion, challenger, champ, chall, _ = shadow_frames
    report = shadow_compare(champion, challenger, key="id", score="score")
    assert report.matched == 3_000
    assert report.overall.spearman == pytest.approx(st.spearmanr(champ, chall).statistic)
    assert report.overall.kendall == pytest.approx(st.kendalltau(champ, chall).statistic)
    assert report.overall.agreement == pytest.approx(np.mean((champ >= 0.5) == (chall >= 0.5)))


def test_shadow_segments_find_the_disagreeing_segment(shadow_frames):
    champion, challenger, champ, chall, segment = shadow_frames
    report = shadow_compare(champion, challenger, key="id", score="score", segment_by="segment")
    by = {s.value: s.stats for s in report.segments}
    assert by["new"].status == "critical" and by["power"].status != "critical"
    assert by["power"].spearman > 0.99 and by["new"].spearman < 0.2
    m = segment == "power"
    assert by["power"].spearman == pytest.approx(st.spearmanr(champ[m], chall[m]).statistic)
    assert report.status == "critical"
    assert report.to_dict()["segments"][0]["segment"] == "segment"


def test_shadow_edge_cases(shadow_frames):
    champion, challenger, *_ = shadow_frames
    partial = challenger.iloc[:100].copy()
    partial.loc[partial.index[:3], "score"] = np.nan
    report = shadow_compare(champion, partial, key="id", score="score")
    assert report.matched == 100 and report.unmatched_champion == 2_900
    assert report.dropped_non_finite == 3 and report.overall.pairs == 97
    constant = challenger.assign(score=0.7)
    flat = shadow_compare(champion, constant, key="id", score="score")
    assert flat.overall.spearman is None and "constant" in flat.overall.note
    with pytest.raises(EmptyInput):
        shadow_compare(
            champion, challenger.assign(id=challenger["id"] + 10_000), key="id", score="score"
        )
    with pytest.raises(DiagnosticsInputError, match="duplicate key"):
        shadow_compare(champion, pd.concat([challenger, challenger]), key="id", score="score")
    with pytest.raises(DtypeMismatch):
        shadow_compare(champion, challenger.assign(score="high"), key="id", score="score")
    with pytest.raises(ColumnNotFound):
        shadow_compare(champion, challenger, key="nope", score="score")


LINEAGE_A = {
    "code_commit": "a1b2c3",
    "data_snapshot_hash": "sha256:111",
    "data_description": "orders 2026-10",
    "data_sources": ["warehouse.orders", "warehouse.customers"],
    "feature_version": "v12",
    "feature_importance": {"avg_order_value_90d": 0.30, "tenure_days": 0.20, "plan": 0.10},
    "params": {"max_depth": 6, "eta": 0.1},
    "environment": {"python": "3.11.7", "packages": {"scikit-learn": "1.5.0", "numpy": "1.26.4"}},
    "artifact_hash": "sha256:aaa",
    "validation_metrics": {"auc": 0.81},
    "gates": {"auc_floor": True, "bias": True},
}


def test_lineage_diff_groups_and_material_flags():
    b = {
        **LINEAGE_A,
        "code_commit": "d4e5f6",
        "data_sources": ["warehouse.orders_v2", "warehouse.customers"],
        "feature_importance": {"avg_order_value_90d": 0.05, "tenure_days": 0.25, "plan": 0.10},
        "params": {"max_depth": 8, "eta": 0.1},
        "environment": {
            "python": "3.11.9",
            "packages": {"scikit-learn": "1.5.1", "numpy": "1.26.4"},
        },
        "artifact_hash": "sha256:bbb",
        "gates": {"auc_floor": True, "bias": False},
    }
    diff = lineage_diff(LINEAGE_A, b)
    assert diff.moved == ("code", "data", "features", "params", "environment", "artifact")
    assert diff.material
    material = {c.field: c for c in diff.changes if c.material}
    assert "feature_importance.avg_order_value_90d" in material  # −83%
    assert "feature_importance.tenure_days" not in material  # +25%
    assert "gates.bias" in material
    sources = [c for c in diff.group("data") if c.field == "data_sources"]
    assert {c.after for c in sources} == {"warehouse.orders_v2", None}
    assert all(c.material for c in sources)
    assert not any(c.material for c in diff.group("environment"))  # patch release only
    assert not any(c.material for c in diff.group("params"))
    d = diff.to_dict()
    assert set(d["groups"]) == {"code", "data", "features", "params", "environment", "artifact"}


def test_lineage_tolerates_missing_keys_and_identical_records():
    assert lineage_diff({}, {}).changes == ()
    assert not lineage_diff(LINEAGE_A, dict(LINEAGE_A)).changes
    diff = lineage_diff({}, {"code_commit": "x", "feature_importance": {"f": 0.0}})
    assert diff.group("code")[0].before is None
    assert diff.group("features")[0].material  # a feature appeared
    zero = lineage_diff({"feature_importance": {"f": 0.0}}, {"feature_importance": {"f": 0.2}})
    assert zero.changes[0].material and "∞" in zero.changes[0].reason
    with pytest.raises(DtypeMismatch):
        lineage_diff({"params": [1, 2]}, {})


def test_python_minor_version_change_is_material():
    a = {"environment": {"python": "3.11.7"}}
    assert lineage_diff(a, {"environment": {"python": "3.12.1"}}).material


def test_segment_drifts_while_global_is_stable():
    rng = np.random.default_rng(9)
    n = 20_000
    seg = rng.choice(["desktop", "mobile_new"], n, p=[0.95, 0.05])
    ref = pd.DataFrame({"segment": seg, "x": rng.normal(size=n)})
    cur_seg = rng.choice(["desktop", "mobile_new"], n, p=[0.95, 0.05])
    x = rng.normal(size=n)
    x[cur_seg == "mobile_new"] += 1.5
    cur = pd.DataFrame({"segment": cur_seg, "x": x})
    report = drift_report(ref, cur, segment_by="segment")
    assert report.feature("x").severity == "stable"
    assert "segment" not in [f.name for f in report.features]
    top = report.segments[0]
    assert top.value == "mobile_new" and top.status == "critical"
    assert top.hidden_by_global == ("x",)
    assert "global figure is stable" in top.reason
    desktop = [s for s in report.segments if s.value == "desktop"][0]
    assert desktop.status == "healthy" and desktop.hidden_by_global == ()


def test_small_and_one_sided_segments_are_listed_not_judged():
    ref = pd.DataFrame({"s": ["a"] * 100 + ["b"] * 5, "x": np.arange(105.0)})
    cur = pd.DataFrame({"s": ["a"] * 100 + ["c"] * 100, "x": np.arange(200.0)})
    segs = {s.value: s for s in segment_drift(ref, cur, "s")}
    assert segs["b"].status == "insufficient" and "fewer than" in segs["b"].reason
    assert segs["c"].rows_reference == 0 and segs["c"].status == "insufficient"
    assert segs["a"].status in ("healthy", "warning", "critical")
    with pytest.raises(ColumnNotFound):
        segment_drift(ref, cur, "nope")
