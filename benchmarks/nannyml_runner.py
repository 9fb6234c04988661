"""Run NannyML's univariate drift calculator on the benchmark frames
(inside benchmarks/.venvs/nannyml).

Usage: nannyml_runner.py DATA_DIR OUT_JSON

Fits on the reference and calculates on the current frame as one chunk, with KS and
Wasserstein for continuous columns and chi-squared and Jensen–Shannon for categorical ones
(the closest match to Rollbook's report). Writes the wall and CPU time and the peak RSS
during the calculation, measured as for Rollbook (see drift.py).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from drift import _release_loader_memory, _reset_peak, _status_kib  # benchmarks/ is on sys.path


def main() -> None:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    categorical = [c for c in reference.columns if not pd.api.types.is_numeric_dtype(reference[c])]
    warnings.simplefilter("ignore")
    import nannyml as nml

    _release_loader_memory()
    rss_before = _status_kib("VmRSS") * 1024
    reset = _reset_peak()
    start, cpu_start = time.perf_counter(), time.process_time()
    calc = nml.UnivariateDriftCalculator(
        column_names=list(reference.columns),
        treat_as_categorical=categorical,
        continuous_methods=["kolmogorov_smirnov", "wasserstein", "jensen_shannon"],
        categorical_methods=["chi2", "jensen_shannon"],
        chunk_number=1,
    )
    calc.fit(reference)
    calc.calculate(current)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _status_kib("VmHWM") * 1024 if reset else None
    out.write_text(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu, "rss_before": rss_before, "peak_rss": peak}
        )
    )


if __name__ == "__main__":
    main()
