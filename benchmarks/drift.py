"""Benchmark: Rollbook's drift report against Evidently, NannyML and a sort lower bound.

    python benchmarks/drift.py                      # 100k rows, every tool
    python benchmarks/drift.py --rows 1000000       # 1M rows; Evidently still at 100k
    python benchmarks/drift.py --rows 1000000 --evidently-at-scale   # Evidently at 1M too (~5 min)

Builds seeded reference and current frames (40 numeric + 5 categorical columns, ~1% nulls),
writes them once as Parquet, and times each tool in its own process on the same files:

* Rollbook's full drift report (PSI, KS + p-value, Wasserstein, Jensen–Shannon, chi², nulls);
* the lower bound: drop nulls and sort every numeric column of both frames once, one thread;
* Evidently 0.7.23's DataDriftPreset and NannyML's univariate drift calculator, each in a
  virtual environment under benchmarks/.venvs/ (created on first use; not dependencies).

Every process reads the Parquet files with pandas and then hands the reader's freed buffers
back (pyarrow's pool, malloc_trim), so its RSS is the runtime plus the frames. Rollbook and
the lower bound are warmed up on the first 10,000 rows (imports, thread pool), then timed
``--repeat`` times per process over ``--rounds`` processes each, lower bound and Rollbook
alternating so both see the same load; the tables give medians of wall time and of CPU time
(user + system, all threads). Peak memory is the process's high-water RSS *during* the
report (reset before it through /proc/self/clear_refs), compared with the frames' own
memory. Results go to benchmarks/results/drift-ROWS.json; benchmarks/results/drift.md is
rebuilt from all of them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
NUMERIC, CATEGORICAL = 40, 5
EVIDENTLY_DEFAULT_ROWS = 100_000
COMPARE_NUMERIC = [f"num_{i:02d}" for i in range(0, 40, 5)]
COMPARE_CATEGORICAL = [f"cat_{i}" for i in range(CATEGORICAL)]
VENV_SPECS = {
    "evidently": ["evidently==0.7.23", "pandas<3", "pyarrow"],
    "nannyml": ["nannyml", "statsmodels", "pyarrow"],
}


# ---------------------------------------------------------------- data
def build_frames(rows: int, seed: int = 20261122):
    """Seeded reference and current frames. Numeric columns cycle through normal, lognormal,
    exponential, uniform and Poisson (ties) shapes; columns 0–9 do not drift, 10–29 drift a
    little, 30–39 a lot. cat_0/cat_1 keep their mix, cat_2–cat_4 change it."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def numeric(i: int, shift: float, n: int) -> np.ndarray:
        kind = i % 5
        if kind == 0:
            v = rng.normal(shift, 1.0, n)
        elif kind == 1:
            v = rng.lognormal(0.5 + shift, 0.7, n)
        elif kind == 2:
            v = rng.exponential(1.0 + shift, n)
        elif kind == 3:
            v = rng.uniform(shift, 10.0 + shift, n)
        else:
            v = rng.poisson(4.0 + 4 * shift, n).astype(np.float64)
        v[rng.random(n) < 0.01] = np.nan
        return v

    def categorical(i: int, drift: bool, n: int) -> np.ndarray:
        k = 5 + 10 * i
        p = np.linspace(1.0, 3.0, k)
        if drift:
            p = p[::-1] ** 1.5
        values = np.array([f"c{i}_{j}" for j in range(k)], dtype=object)[
            rng.choice(k, n, p=p / p.sum())
        ]
        values[rng.random(n) < 0.01] = None
        return values

    frames = []
    for current in (False, True):
        cols = {}
        for i in range(NUMERIC):
            shift = 0.0 if not current or i < 10 else (0.05 if i < 30 else 0.5)
            cols[f"num_{i:02d}"] = numeric(i, shift, rows)
        for i in range(CATEGORICAL):
            cols[f"cat_{i}"] = pd.array(categorical(i, current and i >= 2, rows), dtype="str")
        frames.append(pd.DataFrame(cols))
    return frames


def write_data(rows: int) -> Path:
    data = VENVS / f"data-{rows}"
    if (data / "current.parquet").exists():
        return data
    data.mkdir(parents=True, exist_ok=True)
    reference, current = build_frames(rows)
    reference.to_parquet(data / "reference.parquet")
    current.to_parquet(data / "current.parquet")
    return data


# ---------------------------------------------------------------- workers (own process)
def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _release_loader_memory() -> None:
    """Hand back what the Parquet reader freed, so RSS before the report is the frames."""
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def load_frames(data: Path):
    """Both frames as pandas reads them, with the reader's scratch memory handed back."""
    import pandas as pd

    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    _release_loader_memory()
    return reference, current


def lower_bound(reference, current) -> None:
    """Drop nulls and sort every numeric column of both frames once, on one thread."""
    import numpy as np
    import pandas as pd

    for name in reference.columns:
        if not pd.api.types.is_float_dtype(reference[name]):
            continue
        for frame in (reference, current):
            values = frame[name].to_numpy()
            kept = values[~np.isnan(values)]
            kept.sort()


def worker(kind: str, data: Path, repeat: int, out: Path) -> None:
    import statistics

    import numpy as np
    import pyarrow  # noqa: F401  (the Parquet reader; counted in the runtime's RSS)

    sys.path.insert(0, str(ROOT))
    from console.diagnostics import drift_report

    def run(ref, cur):
        return drift_report(ref, cur) if kind == "rollbook" else lower_bound(ref, cur)

    rss_runtime = _status_kib("VmRSS") * 1024
    reference, current = load_frames(data)
    frame_bytes = int(
        reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
    )
    run(reference.head(10_000), current.head(10_000))  # imports (scipy), thread pool
    rss_before = _status_kib("VmRSS") * 1024
    reset = _reset_peak()
    times, cpu, report = [], [], None
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        report = run(reference, current)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    result = {
        "seconds": statistics.median(times),
        "all_seconds": times,
        "cpu_seconds": statistics.median(cpu),
        "all_cpu_seconds": cpu,
        "frame_bytes": frame_bytes,
        "rss_runtime": rss_runtime,
        "rss_before": rss_before,
        "peak_rss": _status_kib("VmHWM") * 1024 if reset else None,
    }
    if report is not None:
        result["status"] = report.status
        result["values"] = {}
        for f in report.features:
            ref_values = reference[f.name]
            result["values"][f.name] = {
                "psi": f.psi,
                "ks_pvalue": f.ks_pvalue,
                "jensen_shannon": f.jensen_shannon,
                "wasserstein_norm": None
                if f.wasserstein is None
                else f.wasserstein / max(float(np.nanstd(ref_values.to_numpy())), 0.001),
            }
    out.write_text(json.dumps(result))


def combine(runs: list[dict]) -> dict:
    """One tool's processes as one result: medians over every timed run, the highest peak."""
    import statistics

    good = [r for r in runs if isinstance(r, dict)]
    if not good:
        return runs[0]
    merged = dict(good[-1])
    merged["all_seconds"] = [t for r in good for t in r["all_seconds"]]
    merged["all_cpu_seconds"] = [t for r in good for t in r["all_cpu_seconds"]]
    merged["seconds"] = statistics.median(merged["all_seconds"])
    merged["cpu_seconds"] = statistics.median(merged["all_cpu_seconds"])
    peaks = [r["peak_rss"] for r in good if r.get("peak_rss")]
    merged["peak_rss"] = max(peaks) if peaks else None
    at_peak = max(good, key=lambda r: r.get("peak_rss") or 0)
    merged["rss_before"] = at_peak["rss_before"]
    merged["rss_runtime"] = at_peak["rss_runtime"]
    merged["processes"] = len(good)
    return merged


# ---------------------------------------------------------------- orchestration
def run_json(cmd: list[str], out: Path, timeout: float) -> dict | str:
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return f"failed (exit {proc.returncode}): {' | '.join(tail)}"
    result = json.loads(out.read_text())
    result["wall"] = time.perf_counter() - start
    return result


def ensure_venv(name: str) -> Path | str:
    python = VENVS / name / "bin" / "python"
    marker = VENVS / f"{name}.ok"
    if python.exists() and marker.exists():
        return python
    print(f"creating {VENVS / name} (first run only) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENVS / name)], check=True)
    proc = subprocess.run(
        [str(VENVS / name / "bin" / "pip"), "install", "-q", *VENV_SPECS[name]],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return "did not install: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    marker.write_text(" ".join(VENV_SPECS[name]))
    return python


def measure(
    rows: int, evidently_rows: int | None, repeat: int, rounds: int, with_nannyml: bool
) -> dict:
    data = write_data(rows)
    tmp = data / "out"
    tmp.mkdir(exist_ok=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    results: dict = {
        "rows": rows,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_average": os.getloadavg()[0],
    }
    runs: dict[str, list] = {"lower_bound": [], "rollbook": []}
    for round_ in range(rounds):
        for kind in ("lower_bound", "rollbook"):
            out = tmp / f"{kind}.json"
            out.unlink(missing_ok=True)
            print(f"[{rows:,} rows] {kind} ({round_ + 1}/{rounds}) …", flush=True)
            runs[kind].append(
                run_json(
                    [
                        *me,
                        "--worker",
                        kind,
                        "--data",
                        str(data),
                        "--repeat",
                        str(repeat),
                        "--out",
                        str(out),
                    ],
                    out,
                    1800,
                )
            )
    for kind, done in runs.items():
        results[kind] = combine(done)
    if evidently_rows:
        ev_data = write_data(evidently_rows)
        python = ensure_venv("evidently")
        out = ev_data / "out" / "evidently.json"
        (ev_data / "out").mkdir(exist_ok=True)
        out.unlink(missing_ok=True)
        print(f"[{evidently_rows:,} rows] evidently …", flush=True)
        compare = json.dumps({"numeric": COMPARE_NUMERIC, "categorical": COMPARE_CATEGORICAL})
        results["evidently"] = (
            python
            if isinstance(python, str)
            else run_json(
                [str(python), str(HERE / "evidently_runner.py"), str(ev_data), str(out), compare],
                out,
                3600,
            )
        )
        if isinstance(results["evidently"], dict):
            results["evidently"]["rows"] = evidently_rows
    if with_nannyml:
        python = ensure_venv("nannyml")
        out = tmp / "nannyml.json"
        out.unlink(missing_ok=True)
        print(f"[{rows:,} rows] nannyml …", flush=True)
        results["nannyml"] = (
            python
            if isinstance(python, str)
            else run_json(
                [str(python), str(HERE / "nannyml_runner.py"), str(data), str(out)], out, 3600
            )
        )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--evidently-at-scale",
        action="store_true",
        help="run Evidently at --rows too (default: at most 100k rows)",
    )
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument("--no-nannyml", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per Rollbook/lower-bound process"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="processes per tool, lower bound and Rollbook alternating",
    )
    parser.add_argument("--worker", choices=["rollbook", "lower_bound"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.repeat, args.out)
        sys.exit(0)
    ev_rows = (
        None
        if args.no_evidently
        else (args.rows if args.evidently_at_scale else min(args.rows, EVIDENTLY_DEFAULT_ROWS))
    )
    res = measure(args.rows, ev_rows, args.repeat, args.rounds, not args.no_nannyml)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"drift-{args.rows}.json").write_text(json.dumps(res, indent=2, default=str))
    from drift_table import write_markdown  # noqa: E402  (benchmarks/ is on sys.path)

    print(write_markdown(RESULTS))
