"""Keypress-to-verified rollback time on the embedded backend.

Measures, in one run and on one machine:
  * core   — `console.actions.rollback.rollback()` from call to verified result (what the
             TUI's `y` triggers): preflight, audit events, traffic, registry, read-backs, probe;
  * tui    — the same through the console in a real terminal (tmux): press R, wait for the
             preflight plan on screen, press y, wait until the modal says VERIFIED;
  * raw    — the two backend writes alone (set_routes + set_production), no checks, no
             audit: the floor a careless script would hit.
Each sample starts from a fresh world with `credit-score-shift` injected. Prints medians
and the ratios core/raw and tui/core, and writes benchmarks/results/rollback_embedded.md.

    python benchmarks/rollback_embedded.py [--runs 9]
"""

from __future__ import annotations

import argparse
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
    """In a real terminal (tmux): the demo incident on screen, press R, wait for the plan,
    press y, wait until the modal says VERIFIED."""
    import subprocess
    import sys

    from console.demo import start_demo
    from console.workspace import open_workspace

    fresh_home()
    home = os.environ["ROLLBOOK_HOME"]
    with open_workspace("demo") as ws:
        inc = start_demo(ws, "credit-score-shift").incident
    session = "rb-rollback-bench"
    TMUX = ["tmux", "-L", "rb-bench", "-f", "/dev/null"]  # a server of our own

    def screen() -> str:
        return subprocess.run(
            [*TMUX, "capture-pane", "-t", session, "-p"], capture_output=True, text=True
        ).stdout

    def wait(text: str, timeout: float = 60) -> float:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if text in screen():
                return time.perf_counter()
            time.sleep(0.005)
        raise TimeoutError(f"{text!r} not on screen:\n{screen()}")

    subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
    subprocess.run(
        [
            *TMUX,
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "120",
            "-y",
            "36",
            f"env ROLLBOOK_HOME={home} {sys.executable} -m console",
        ],
        check=True,
    )
    try:
        wait("credit-score")
        subprocess.run([*TMUX, "send-keys", "-t", session, "/"], check=True)
        wait("filter models")
        subprocess.run([*TMUX, "send-keys", "-t", session, "-l", "credit"], check=True)
        time.sleep(0.2)
        subprocess.run([*TMUX, "send-keys", "-t", session, "Enter"], check=True)
        time.sleep(0.3)
        subprocess.run([*TMUX, "send-keys", "-t", session, "i"], check=True)
        wait(inc.id + " ·")
        wait("since detection")
        time.sleep(0.3)
        t = time.perf_counter()
        subprocess.run([*TMUX, "send-keys", "-t", session, "R"], check=True)
        wait("y EXECUTE")
        subprocess.run([*TMUX, "send-keys", "-t", session, "y"], check=True)
        done = wait("VERIFIED")
        return done - t
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)


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
