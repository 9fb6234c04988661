"""Run Evidently's DataDriftPreset on the benchmark frames (inside benchmarks/.venvs/evidently).

Usage: evidently_runner.py DATA_DIR OUT_JSON [COMPARE_COLUMNS_JSON]

Prints nothing; writes the wall and CPU time, the peak RSS during the report (measured as for
Rollbook, see drift.py) and, for the columns named in the third argument, Evidently's own
PSI / KS p-value / normed Wasserstein / Jensen–Shannon values.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd
from drift import _release_loader_memory, _reset_peak, _status_kib  # benchmarks/ is on sys.path


def main() -> None:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    compare = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {"numeric": [], "categorical": []}
    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    for frame in (reference, current):  # Evidently expects object strings, not Arrow strings
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col]):
                frame[col] = frame[col].astype(object)

    from evidently import Report
    from evidently.presets import DataDriftPreset

    _release_loader_memory()
    rss_before = _status_kib("VmRSS") * 1024
    reset = _reset_peak()
    start, cpu_start = time.perf_counter(), time.process_time()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _status_kib("VmHWM") * 1024 if reset else None
    del snapshot

    from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
    from evidently.legacy.calculations.stattests.ks_stattest import _ks_stat_test
    from evidently.legacy.calculations.stattests.psi import _psi
    from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (
        _wasserstein_distance_norm,
    )
    from evidently.legacy.core import ColumnType

    values: dict[str, dict[str, float]] = {}
    for col in compare["numeric"]:
        r, c = reference[col].dropna(), current[col].dropna()
        values[col] = {
            "psi": float(_psi(r, c, ColumnType.Numerical, 0.1)[0]),
            "ks_pvalue": float(_ks_stat_test(r, c, ColumnType.Numerical, 0.05)[0]),
            "wasserstein_norm": float(
                _wasserstein_distance_norm(r, c, ColumnType.Numerical, 0.1)[0]
            ),
        }
    for col in compare["categorical"]:
        r, c = reference[col].dropna(), current[col].dropna()
        values[col] = {
            "psi": float(_psi(r, c, ColumnType.Categorical, 0.1)[0]),
            "jensen_shannon_e": float(_jensenshannon(r, c, ColumnType.Categorical, 0.1)[0]),
        }
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rss_before": rss_before,
                "peak_rss": peak,
                "values": values,
            }
        )
    )


if __name__ == "__main__":
    main()
