"""Keypress-to-verified rollback time on the embedded backend.

Measures, in one run and on one machine:
  * core   — `console.actions.rollback.rollback()` from call to verified result (what the
             TUI's `y` triggers): preflight, audit events, traffic, registry, read-backs, probe;
  * tui    — the same through the console: press R, wait for the preflight plan, press y,
             wait for the verified outcome in the modal (Textual pilot, headless);
  * raw    — the two backend writes alone (set_routes + set_production), no checks, no
             audit: the floor a careless script would hit.
Each sample starts from a fresh world with `credit-score-shift` injected. Prints medians
and the ratios core/raw and tui/core, and writes benchmarks/results/rollback_embedded.md.

    python benchmarks/rollback_embedded.py [--runs 9]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

T0 = datetime(2026, 11, 22, 6, 52, tzinfo=UTC)


def fresh_home() -> None:
    os.environ["ROLLBOOK_HOME"] = tempfile.mkdtemp(prefix="rb-bench-")
    os.environ.setdefault("ROLLBOOK_ACTOR", "bench")


def prepared():
    from console.clock import ManualClock
    from console.workspace import open_workspace

    fresh_home()
    clock = ManualClock(T0)
    ws = open_workspace("demo", clock=clock)
    ws.backends.world.inject("credit-score-shift")
    ws.backends.metrics.query("prediction_mean", "credit-score")  # catch up before timing
    return ws, clock


def sample_core() -> float:
    from console.actions.rollback import rollback

    ws, _ = prepared()
    t = time.perf_counter()
    res = rollback(ws, "credit-score", to="v4")
    dt = time.perf_counter() - t
    assert res.verified, res.message
    ws.close()
    return dt


def sample_raw() -> float:
    ws, _ = prepared()
    t = time.perf_counter()
    ws.backends.traffic.set_routes("credit-score", {"v4": 100.0}, actor="bench")
    ws.backends.registry.set_production("credit-score", "v4", actor="bench", reason="bench")
    dt = time.perf_counter() - t
    ws.close()
    return dt


def sample_tui() -> float:
    from console.demo import start_demo
    from console.tui.app import RollbookApp
    from console.tui.screens.confirm import MitigationModal
    from console.tui.screens.incident import IncidentScreen
    from console.workspace import open_workspace

    ws, clock = prepared()
    inc = start_demo(ws, "credit-score-shift").incident
    ws.close()
    app = RollbookApp(
        lambda: open_workspace("demo", clock=clock), incident=inc.id, refresh_seconds=3600
    )
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
                lambda: isinstance(app.screen, MitigationModal) and app.screen.state == "ready",
            )
            await pilot.press("y")
            await until(pilot, lambda: app.screen.state == "done")
            out.append(time.perf_counter() - t)
            assert app.screen.result.verified

    asyncio.run(drive())
    return out[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    results = {}
    for name, fn in (("raw", sample_raw), ("core", sample_core), ("tui", sample_tui)):
        fn()  # warm-up (imports, first-seed costs)
        results[name] = [fn() for _ in range(args.runs)]
    med = {k: statistics.median(v) * 1000 for k, v in results.items()}
    lines = [
        "| path | median (ms) | min (ms) | max (ms) |",
        "|---|---:|---:|---:|",
        *(
            f"| {k} | {med[k]:.1f} | {min(v) * 1000:.1f} | {max(v) * 1000:.1f} |"
            for k, v in results.items()
        ),
        "",
        f"core/raw = {med['core'] / med['raw']:.1f}× (preflight, audit log, read-backs, probe); "
        f"tui/core = {med['tui'] / med['core']:.1f}× (keypress R → plan shown → y → verified "
        f"on screen, includes the preflight the modal shows). {args.runs} runs each.",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).parent / "results" / "rollback_embedded.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
