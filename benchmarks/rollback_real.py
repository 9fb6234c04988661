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
           included), for scale;
  * tui  — the console: press R on the incident, wait for the preflight plan, press y, wait
           for the verified outcome (Textual pilot, headless), as benchmarks/rollback_embedded.py
           does on the embedded backend.

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
    from plugins.http_common.api import JsonApi
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


def sample_tui(ws) -> float:
    """Press R on the incident screen, wait for the plan, press y, wait for "verified"."""
    import asyncio

    from console.incidents import open_manual
    from console.tui.app import RollbookApp
    from console.tui.screens.confirm import MitigationModal
    from console.tui.screens.incident import IncidentScreen
    from console.workspace import open_workspace

    # start each sample from 2 in production, so R proposes 1 (outside the timing)
    ws.backends.traffic.set_routes(MODEL, {"2": 100.0}, actor="bench")
    ws.backends.registry.set_production(MODEL, "2", actor="bench", reason="bench reset")
    inc = open_manual(ws, MODEL, "bench: rollback from the console")
    app = RollbookApp(lambda: open_workspace("bench"), incident=inc.id, refresh_seconds=3600)
    out: list[float] = []

    async def until(pilot, cond):
        while not cond():
            await pilot.pause(0.005)

    async def drive() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(
                pilot,
                lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None,
            )
            t = time.perf_counter()
            await pilot.press("R")
            await until(
                pilot,
                lambda: (
                    isinstance(app.screen, MitigationModal)
                    and app.screen.state in ("ready", "blocked")
                ),
            )
            assert app.screen.state == "ready", "preflight blocked the rollback"
            await pilot.press("y")
            await until(pilot, lambda: app.screen.state == "done")
            out.append(time.perf_counter() - t)
            assert app.screen.result.verified, app.screen.result.message

    asyncio.run(drive())
    return out[0]


def embedded_ms() -> dict[str, float]:
    """Medians from benchmarks/results/rollback_embedded.md (path -> ms), if it exists."""
    path = RESULTS / "rollback_embedded.md"
    if not path.exists():
        return {}
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^\| (\w+) \| ([0-9.]+) \|", path.read_text(), re.M)
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--no-tui", action="store_true", help="skip the console (Textual) path")
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
        samplers = [("raw", sample_raw), ("core", sample_core), ("cli", sample_cli)]
        if not args.no_tui:
            samplers.append(("tui", sample_tui))
        for name, fn in samplers:
            if name == "tui":
                # a fresh audit log: the core samples rolled back from both versions, and
                # the console proposes only a version never rolled back from
                ws.close()
                home = workdir / "home-tui"
                os.environ["ROLLBOOK_HOME"] = str(home)
                write_config(home, mlflow, haproxy)
                ws = open_workspace("bench")
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
    for k in ms:
        lines.append(f"| {k} | {med[k]:.1f} | {min(ms[k]):.1f} | {max(ms[k]):.1f} |")
    lines += [
        "",
        "core, by part (median ms, warm-up included): "
        + ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in STEPS.items()),
    ]
    emb = embedded_ms()
    lines += [
        "",
        f"core = keypress-to-verified in the core, tui = the same from the console (R, plan "
        f"shown, y, verified on screen); {args.runs} runs each after a warm-up.",
        "Embedded backend, same paths: "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in emb.items() if k in ms)
        + " (benchmarks/results/rollback_embedded.md)."
        if emb
        else "Embedded figures: run benchmarks/rollback_embedded.py.",
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rollback_real.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
