"""A drift report says when a window is too small for PSI to mean much."""

import numpy as np
import pandas as pd

from console.diagnostics import drift_report


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], size=n)})


def test_small_current_window_is_flagged():
    report = drift_report(frame(5000, 1), frame(60, 2))
    assert report.sample_note and "current 60 rows" in report.sample_note
    assert "reference" not in report.sample_note
    assert report.to_dict()["sample_note"] == report.sample_note


def test_enough_rows_on_both_sides_say_nothing():
    report = drift_report(frame(5000, 1), frame(100, 2))
    assert report.sample_note is None
