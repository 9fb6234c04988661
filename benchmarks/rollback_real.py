"""Keypress-to-verified rollback time against a real MLflow and a real HAProxy on loopback.

Starts MLflow (sqlite store), HAProxy and two tiny model servers on 127.0.0.1 with the local
stack's launchers, seeds ``churn`` versions 1 and 2, then measures, alternating the target
between the two versions so every sample really moves the alias and the weights:

  * core — ``console.actions.rollback.rollback()`` from call to verified result (what the
           TUI's ``y`` and ``rollbook rollback`` trigger): preflight (registry lookups, HTTP
           probe of the target), audit events, HAProxy weights + `show stat` read-back,
           MLflow alias move + read-back, verification probe;
  * raw  — the two backend writes alone (``set_routes`` + ``set_production``): the floor;
  * cli  — ``rollbook rollback churn --to V --yes`` as a new process (Python start-up
           included), for scale.

Prints medians and writes benchmarks/results/rollback_real.md beside the embedded figure
from benchmarks/results/rollback_embedded.md when that exists.

    python benchmarks/rollback_real.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples" / "local-stack"))

from processes import PROGRAMS, free_port  # noqa: E402
from servers import HaproxyServer, MlflowServer, ModelServer  # noqa: E402

MODEL = "churn"


def start(workdir: Path) -> tuple[MlflowServer, HaproxyServer, list[ModelServer]]:
    models = [ModelServer(MODEL, v, free_port(), workdir).launch() for v in ("1", "2")]
    mlflow = MlflowServer(workdir / "mlflow").launch()
    haproxy = HaproxyServer(
        workdir / "haproxy",
        {MODEL: {f"v{m.version}": m.port for m in models}},
        {MODEL: {"v2": 100}},
    ).launch()
    for m in models:
        m.wait()
    haproxy.wait()
    t = mlflow.wait()
    print(f"MLflow ready after {t:.1f}s", file=sys.stderr)
    return mlflow, haproxy, models


def seed(mlflow: MlflowServer) -> None:
    from console.backends.types import Lineage
    from plugins.http_api import JsonApi
    from plugins.mlflow import seed as s

    api = JsonApi("MLflow", mlflow.url, timeout=10)
    s.ensure_model(api, MODEL)
    for i in (1, 2):
        s.register_version(
            api,
            MODEL,
            source=f"s3://models/{MODEL}/{i}",
            lineage=Lineage(code_commit=f"c{i}", gates={"auc_min": True}),
        )
    s.set_alias(api, MODEL, "champion", "2")
    api.close()


def write_config(home: Path, mlflow: MlflowServer, haproxy: HaproxyServer) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"""default_env = "bench"
[env.bench.registry]
plugin = "mlflow"
url = "{mlflow.url}"
[env.bench.metrics]   # a rollback reads no metrics
plugin = "prometheus"
url = "http://127.0.0.1:{free_port()}"
[env.bench.traffic]
plugin = "haproxy"
socket = "{haproxy.socket_path}"
sample_request = '{{"features": {{"tenure": 14}}}}'
[env.bench.traffic.models.{MODEL}]
versions = {{ "1" = "v1", "2" = "v2" }}
"""
    )


def other(version: str | None) -> str:
    return "1" if version == "2" else "2"


STEPS: dict[str, list[float]] = {}


def sample_core(ws) -> float:
    from console.actions.rollback import rollback

    target = other(ws.backends.registry.production_version(MODEL))
    t = time.perf_counter()
    res = rollback(ws, MODEL, to=target, timeout=15)
    dt = time.perf_counter() - t
    assert res.status == "applied" and res.verified, res.message
    for step in res.steps:
        STEPS.setdefault(step.name, []).append(step.duration_ms)
    STEPS.setdefault("plan, preflight, audit", []).append(
        dt * 1000 - sum(step.duration_ms for step in res.steps)
    )
    return dt


def sample_raw(ws) -> float:
    target = other(ws.backends.registry.production_version(MODEL))
    t = time.perf_counter()
    ws.backends.traffic.set_routes(MODEL, {target: 100.0}, actor="bench")
    ws.backends.registry.set_production(MODEL, target, actor="bench", reason="bench")
    return time.perf_counter() - t


def sample_cli(ws) -> float:
    target = other(ws.backends.registry.production_version(MODEL))
    t = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "console", "rollback", MODEL, "--to", target, "--yes"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    dt = time.perf_counter() - t
    assert r.returncode == 0, r.stdout + r.stderr
    return dt


def embedded_core_ms() -> float | None:
    path = RESULTS / "rollback_embedded.md"
    if not path.exists():
        return None
    m = re.search(r"^\| core \| ([0-9.]+) \|", path.read_text(), re.M)
    return float(m.group(1)) if m else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    missing = [p for p in ("mlflow", "haproxy") if PROGRAMS[p]() is None]
    if missing:
        sys.exit(f"not installed: {', '.join(missing)} (see .ci/run for how CI installs them)")
    workdir = Path(tempfile.mkdtemp(prefix="rb-bench-real-"))
    os.environ["ROLLBOOK_HOME"] = str(workdir / "home")
    os.environ.setdefault("ROLLBOOK_ACTOR", "bench")
    mlflow, haproxy, models = start(workdir)
    try:
        seed(mlflow)
        write_config(workdir / "home", mlflow, haproxy)
        from console.workspace import open_workspace

        ws = open_workspace("bench")
        results: dict[str, list[float]] = {}
        for name, fn in (("raw", sample_raw), ("core", sample_core), ("cli", sample_cli)):
            fn(ws)  # warm-up: imports, first connections, MLflow's first queries
            results[name] = [fn(ws) for _ in range(args.runs)]
        ws.close()
    finally:
        for s in (haproxy, mlflow, *models):
            s.stop()
    ms = {k: [x * 1000 for x in v] for k, v in results.items()}
    med = {k: statistics.median(v) for k, v in ms.items()}
    lines = [
        "Rollback against real MLflow 3.17.2 (sqlite store, 1 worker) and HAProxy 2.6 on "
        "loopback; every sample moves the alias and the weights (1 ⇄ 2).",
        "",
        "| path | median (ms) | min (ms) | max (ms) |",
        "|---|---:|---:|---:|",
    ]
    for k in ("raw", "core", "cli"):
        lines.append(f"| {k} | {med[k]:.1f} | {min(ms[k]):.1f} | {max(ms[k]):.1f} |")
    lines += [
        "",
        "core, by part (median ms, warm-up included): "
        + ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in STEPS.items()),
    ]
    emb = embedded_core_ms()
    lines += [
        "",
        f"core = keypress-to-verified in the core; {args.runs} runs each after a warm-up.",
        f"Embedded backend, same core path: {emb:.1f} ms median "
        "(benchmarks/results/rollback_embedded.md)."
        if emb is not None
        else "Embedded figure: run benchmarks/rollback_embedded.py.",
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rollback_real.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
