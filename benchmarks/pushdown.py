# ruff: noqa: E501  (the child programs below are kept as runnable one-screen scripts)
"""Benchmark: the drift report pushed down to the engine, at 100 M rows, against a floor.

    python benchmarks/pushdown.py                     # 100 M rows (needs ~6 GB of disk)
    python benchmarks/pushdown.py --rows 10000000 --skip-big

Generates a prediction log with DuckDB (``ts`` + 10 numeric + 2 categorical columns, ~1%
nulls, the second half shifted) as Parquet files under ``--dir``, then runs each measurement
in its own process (wall time and the child's peak RSS from ``wait4``):

* ``floor``: one DuckDB aggregate scan over the same columns (count, min, max, sum of every
  numeric column, count of each categorical one) — the least any report can cost;
* ``pushdown``: Rollbook's drift report over the log through the ``parquet`` plugin: the
  first half is the reference window, the second the current one (PSI, KS, Wasserstein,
  JS, chi², null rates; KS/Wasserstein on the grid path above 1 M values a side);
* at 10 M rows (``--small-rows``): the pandas path (read both halves, ``drift_report``),
  the Spark path (the ``spark`` plugin, local[2], 2 GB driver) and whylogs profiling the
  same files (in its own virtual environment, when it installs).

DuckDB runs with ``memory_limit`` 1 GB and 2 threads. The generated files are deleted at
the end unless ``--keep``. Results: benchmarks/results/pushdown.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
NUMERIC = [f"x{i}" for i in range(10)]
CATEGORICAL = ["plan", "region"]


def generate(folder: Path, rows: int) -> float:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    con = duckdb.connect(config={"memory_limit": "2GB", "threads": 2})
    half = rows // 2
    cols = []
    for i, name in enumerate(NUMERIC):
        shift = f"(CASE WHEN i >= {half} THEN {0.05 * (i % 4)} ELSE 0 END)"
        base = [
            f"random() * 10 + {shift}",
            f"exp(random() * 3) + {shift}",
            f"floor(random() * 20) + {shift}",
            f"sqrt(-2 * ln(random())) * cos(2 * pi() * random()) + {shift}",
        ][i % 4]
        cols.append(f"CASE WHEN random() < 0.01 THEN NULL ELSE {base} END AS {name}")
    cols.append(
        "(['basic','plus','premium'])[1 + floor(random() * 3 "
        f"+ CASE WHEN i >= {half} THEN 0.2 ELSE 0 END)::INT % 3] AS plan"
    )
    cols.append("(['na','eu','apac','latam'])[1 + floor(random() * 4)::INT] AS region")
    con.execute(
        f"""COPY (SELECT TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_microseconds(i * 10) AS ts,
                  {", ".join(cols)} FROM range({rows}) t(i))
            TO '{folder}' (FORMAT parquet, PER_THREAD_OUTPUT true, ROW_GROUP_SIZE 1000000)"""
    )
    con.close()
    return time.perf_counter() - t0


def generate_in_child(folder: Path, rows: int) -> float:
    """:func:`generate` in its own process: a child's ru_maxrss starts at its parent's RSS
    (Linux keeps the high-water mark across fork and exec), so the parent stays small."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--generate-only", str(folder), str(rows)], check=True
    )
    return time.perf_counter() - t0


CHILD = {
    "floor": """
import duckdb, sys
con = duckdb.connect(config={"memory_limit": "1GB", "threads": 2})
con.execute("SET enable_progress_bar = false")
num, cat = sys.argv[2].split(","), sys.argv[3].split(",")
parts = ["count(*)"] + [f"count({c}), min({c}), max({c}), sum({c})" for c in num] + [f"count({c})" for c in cat]
print(con.execute(f"SELECT {', '.join(parts)} FROM read_parquet('{sys.argv[1]}/*.parquet')").fetchone()[0])
""",
    "pushdown": """
import sys, json
from datetime import datetime, timedelta, UTC
from pathlib import Path
from console.backends.plugin import PluginContext
from console.backends.aggregates import LogWindow
from console.diagnostics.pushdown import drift_between
from plugins.parquet import make_predictions
rows = int(sys.argv[4])
log = make_predictions(PluginContext("b", Path(".")), {"path": sys.argv[1], "memory_limit": "1GB", "threads": 2})
agg = log.aggregates("m")
t0 = datetime(2026, 11, 1, tzinfo=UTC)
mid = t0 + timedelta(seconds=(rows // 2) * 1e-5)
end = t0 + timedelta(seconds=rows * 1e-5 + 1)
cols = sys.argv[2].split(",") + sys.argv[3].split(",")
rep = drift_between(agg, LogWindow(t0, mid), agg, LogWindow(mid, end), columns=cols)
print(json.dumps({f.name: [f.psi, f.ks_statistic, f.evidence.get("ks_error_bound")] for f in rep.features}))
""",
    "pandas": """
import sys, json, pandas as pd
from console.diagnostics import drift_report
rows = int(sys.argv[4])
frame = pd.read_parquet(sys.argv[1], columns=sys.argv[2].split(",") + sys.argv[3].split(","))
ref, cur = frame.iloc[: rows // 2], frame.iloc[rows // 2 :]
rep = drift_report(ref, cur)
print(json.dumps({f.name: [f.psi, f.ks_statistic] for f in rep.features}))
""",
    "spark": """
import sys, json
from datetime import datetime, timedelta, UTC
from pathlib import Path
from console.backends.plugin import PluginContext
from console.backends.aggregates import LogWindow
from console.diagnostics.pushdown import drift_between
from plugins.spark import make_predictions
rows = int(sys.argv[4])
log = make_predictions(PluginContext("b", Path(".")), {"path": sys.argv[1], "master": "local[2]",
    "conf": {"spark.driver.memory": "2g", "spark.ui.enabled": "false", "spark.sql.session.timeZone": "UTC",
             "spark.sql.shuffle.partitions": "4"}})
agg = log.aggregates("m")
t0 = datetime(2026, 11, 1, tzinfo=UTC)
mid = t0 + timedelta(seconds=(rows // 2) * 1e-5)
end = t0 + timedelta(seconds=rows * 1e-5 + 1)
cols = sys.argv[2].split(",") + sys.argv[3].split(",")
rep = drift_between(agg, LogWindow(t0, mid), agg, LogWindow(mid, end), columns=cols)
print(json.dumps({f.name: [f.psi, f.ks_statistic] for f in rep.features}))
log.close()
""",
    "whylogs": """
import sys, glob, pyarrow.parquet as pq
import whylogs as why
cols = sys.argv[2].split(",") + sys.argv[3].split(",")
profile = None
for path in sorted(glob.glob(sys.argv[1] + "/*.parquet")):
    f = pq.ParquetFile(path)
    for i in range(f.num_row_groups):
        frame = f.read_row_group(i, columns=cols).to_pandas()
        res = why.log(frame)
        profile = res.profile() if profile is None else profile.track(frame) or profile
print("profiled")
""",
}


def _tree_rss(root: int) -> int:
    """RSS (bytes) of ``root`` and all its descendants (Spark's JVM is one)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def measure(kind: str, folder: Path, rows: int, python: str = sys.executable) -> dict:
    import tempfile

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [str(folder), ",".join(NUMERIC), ",".join(CATEGORICAL), str(rows)]
    # files, not pipes: wait4 reads nothing until the child ends, so a pipe would fill up
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [python, "-c", CHILD[kind], *args], stdout=out_f, stderr=err_f, env=env, cwd=str(ROOT)
        )
        peak = [0]
        done = threading.Event()

        def sample() -> None:  # the whole process tree, every 0.2 s
            while not done.wait(0.2):
                peak[0] = max(peak[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        out_f.seek(0)
        err_f.seek(0)
        out = out_f.read().decode(errors="replace")
        err = err_f.read().decode(errors="replace")
    ok = os.waitstatus_to_exitcode(status) == 0
    return {
        "kind": kind,
        "rows": rows,
        "ok": ok,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": round(peak[0] / 2**20, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "output": out.strip()[-400:] if ok else err.strip()[-800:],
    }


def whylogs_python() -> str | None:
    venv = HERE / ".venvs" / "whylogs"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        got = subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "-q",
                "whylogs",
                "numpy<2",
                "pandas<2.3",
                "pyarrow<18",
            ]
        )
        if got.returncode != 0:
            return None
    return str(py)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--generate-only":
        generate(Path(sys.argv[2]), int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--small-rows", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/work/bench-pushdown"))
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="use files already generated")
    args = ap.parse_args()
    out: dict = {"machine": {"cores": os.cpu_count(), "load_before": load()}, "runs": []}
    sizes = ([] if args.skip_big else [args.rows]) + [args.small_rows]
    try:
        for rows in sizes:
            folder = args.dir / f"rows-{rows}"
            reuse = args.reuse and any(folder.glob("*.parquet"))
            gen = 0.0 if reuse else generate_in_child(folder, rows)
            size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
            out["runs"].append(
                {
                    "kind": "generate",
                    "rows": rows,
                    "wall_s": round(gen, 1),
                    "bytes": size,
                    "load": load(),
                }
            )
            print(json.dumps(out["runs"][-1]), flush=True)
            kinds = ["floor", "pushdown"]
            if rows == args.small_rows:
                kinds += ["pandas", "spark"]
            for kind in kinds:
                res = measure(kind, folder, rows)
                res["load"] = load()
                out["runs"].append(res)
                print(json.dumps(res), flush=True)
            if rows == args.small_rows:
                py = whylogs_python()
                res = (
                    measure("whylogs", folder, rows, py)
                    if py
                    else {"kind": "whylogs", "ok": False, "output": "whylogs did not install"}
                )
                out["runs"].append(res)
                print(json.dumps(res), flush=True)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        out["machine"]["load_after"] = load()
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "pushdown.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
