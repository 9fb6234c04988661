"""Run NannyML's univariate drift calculator on the benchmark frames
(inside benchmarks/.venvs/nannyml).

Usage: nannyml_runner.py DATA_DIR OUT_JSON

Fits on the reference and calculates on the current frame as one chunk, with KS and
Wasserstein for continuous columns and chi-squared and Jensen–Shannon for categorical ones
(the closest match to Rollbook's report). Writes the timing and the process's peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from pathlib import Path

import pandas as pd


def main() -> None:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    categorical = [c for c in reference.columns if not pd.api.types.is_numeric_dtype(reference[c])]
    warnings.simplefilter("ignore")
    import nannyml as nml

    start = time.perf_counter()
    calc = nml.UnivariateDriftCalculator(
        column_names=list(reference.columns),
        treat_as_categorical=categorical,
        continuous_methods=["kolmogorov_smirnov", "wasserstein", "jensen_shannon"],
        categorical_methods=["chi2", "jensen_shannon"],
        chunk_number=1,
    )
    calc.fit(reference)
    calc.calculate(current)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.write_text(json.dumps({"seconds": seconds, "peak_rss": peak_kib * 1024}))


if __name__ == "__main__":
    main()
