"""Schema diff with rename suggestions, and null-rate / range checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from console.diagnostics import ColumnNotFound, DtypeMismatch, quality_check, schema_diff
from console.diagnostics.schema import name_similarity


def test_reference_incident_rename_is_suggested(incident):
    reference, current = incident
    diff = schema_diff(reference, current)
    assert diff.missing == ("total_order_amount",)
    assert diff.added == ("order_total_amount",)
    assert len(diff.renames) == 1
    rename = diff.renames[0]
    assert (rename.source, rename.target) == ("total_order_amount", "order_total_amount")
    assert rename.confidence > 0.9
    assert "same words in a different order" in rename.reason
    assert "value distributions match" in rename.reason
    d = diff.to_dict()
    assert d["renames"][0]["from"] == "total_order_amount"
    assert set(d) == {"missing", "added", "type_changed", "renames"}


def test_similar_name_with_different_values_is_less_confident():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"order_total": rng.normal(100, 10, 500)})
    same = schema_diff(ref, pd.DataFrame({"total_order": rng.normal(100, 10, 500)}))
    other = schema_diff(
        ref, pd.DataFrame({"total_order": rng.normal(900, 10, 500)}), min_confidence=0.0
    )
    assert same.renames[0].confidence > other.renames[0].confidence
    assert other.renames[0].distribution_similarity == pytest.approx(0.0)


def test_unrelated_columns_are_not_paired():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"age": rng.integers(18, 90, 300)})
    cur = pd.DataFrame({"country": rng.choice(["fr", "de"], 300)})
    diff = schema_diff(ref, cur)
    assert diff.missing == ("age",) and diff.added == ("country",)
    assert diff.renames == ()


def test_each_column_is_used_in_at_most_one_rename():
    rng = np.random.default_rng(2)
    v = rng.normal(size=300)
    ref = pd.DataFrame({"user_score": v, "user_score_v1": v + 5})
    cur = pd.DataFrame({"score_user": v})
    diff = schema_diff(ref, cur)
    assert [r.source for r in diff.renames] == ["user_score"]


def test_type_changes_and_families():
    ref = pd.DataFrame({"a": [1, 2], "b": [1.0, 2.0], "c": ["x", "y"]})
    cur = pd.DataFrame({"a": [1.0, None], "b": ["1", "2"], "c": ["x", "y"]})
    changed = {t.name: t for t in schema_diff(ref, cur).type_changed}
    assert set(changed) == {"a", "b"}
    assert not changed["a"].family_changed and changed["b"].family_changed


def test_schema_diff_on_empty_and_all_null_frames():
    ref = pd.DataFrame({"old_name": pd.Series([], dtype=float)})
    cur = pd.DataFrame({"new_name": pd.Series([np.nan, np.nan])})
    diff = schema_diff(ref, cur, min_confidence=0.0)
    assert diff.renames[0].distribution_similarity is None
    assert "no non-null values" in diff.renames[0].reason


def test_name_similarity():
    assert name_similarity("total_order_amount", "order_total_amount")[0] == 1.0
    assert name_similarity("orderTotal", "order_total")[0] == 1.0
    assert name_similarity("age", "country")[0] < 0.5


def test_quality_null_thresholds_and_breaker(incident):
    _, current = incident
    report = quality_check(current)
    worst = report.columns[0]
    assert worst.name == "avg_order_value_90d" and worst.status == "critical"
    assert worst.null_rate == pytest.approx(0.942)
    assert report.breaker_tripped and report.status == "critical"
    ok = quality_check(current.drop(columns=["avg_order_value_90d"]))
    assert ok.status == "healthy" and not ok.breaker_tripped


def test_quality_warning_band_and_per_column_thresholds():
    frame = pd.DataFrame({"v": [np.nan] * 3 + list(range(97))})
    assert quality_check(frame).columns[0].status == "warning"  # 3% > 2%, ≤ 5%
    assert (
        quality_check(frame, null_rate_warning={"v": 0.5}, null_rate_critical={"v": 0.6}).status
        == "healthy"
    )


def test_quality_ranges_explicit_and_from_reference():
    frame = pd.DataFrame({"p": [0.1, 0.5, 1.5, -0.2, np.inf] + [0.5] * 95})
    col = quality_check(frame, ranges={"p": (0.0, 1.0)}).columns[0]
    assert (col.below, col.above) == (1, 2)
    assert col.out_of_range_rate == pytest.approx(0.03) and col.status == "critical"
    ref = pd.DataFrame({"p": np.linspace(-1, 2, 50)})
    assert quality_check(frame, reference=ref).columns[0].above == 1  # only +inf
    with pytest.raises(DtypeMismatch):
        quality_check(pd.DataFrame({"s": ["a"]}), ranges={"s": (0, 1)})
    with pytest.raises(ColumnNotFound):
        quality_check(frame, columns=["nope"])


def test_quality_on_an_empty_frame():
    report = quality_check(pd.DataFrame({"v": pd.Series([], dtype=float)}))
    assert report.columns[0].null_rate is None
    assert report.status == "healthy" and "no rows" in report.columns[0].reasons[0]
