"""Console responsiveness in a real terminal (tmux), measured as ratios in one run.

  * startup  — process start → first painted frame of `rollbook demo` (the incident header
               on screen), against a minimal Textual app painting one line (the floor any
               Textual program pays: interpreter + Textual import + first frame);
  * fleet    — the fleet at scale, by benchmarks/tui_fleet.py: key → repaint (the cursor
               row moving, the filter box, a filter applied and cleared, opening a
               10,000-event incident) and idle CPU with 5, 500 and 5,000 models, after the
               timer's refreshes have started, against the same console with 5 models.
Needs tmux. Writes benchmarks/results/tui.md, with the machine's load average before and
after the run (the figures are wall times on a shared machine: read the ratios).

    python benchmarks/tui.py [--runs 5] [--startup-only] [--root OTHER_CHECKOUT]
    python benchmarks/tui.py --before OLD_CHECKOUT [--root NEW_CHECKOUT] [--runs 5]

``--root`` runs ``rollbook demo`` from another checkout (e.g. a ``git worktree`` of an older
commit) with this interpreter; ``--before`` measures start-up of two checkouts with their runs
interleaved, so a before/after pair shares the machine's load. Start-up figures include the
CPU time the process had used when the screen showed the awaited text, and are taken with
Python's bytecode cache on (in a temporary folder), as an installed package runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: one tmux server and session per benchmark process: two benchmarks run at once (say, the
#: start-up and the fleet one) must not kill or read each other's sessions
SESSION = f"rb-bench-{os.getpid()}"


# A tmux server of our own (no user config, no foreign sessions), and no inherited
# COLUMNS/LINES: they would pin the peer app's size (Textual prefers them to the terminal's).
TMUX = ["tmux", "-L", SESSION, "-f", "/dev/null"]


def tmux(*args: str) -> str:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p", "-e")  # -e: styles too (cursor row)


def start(
    cmd: str, env: dict[str, str], width: int = 120, height: int = 36, root: Path = ROOT
) -> float:
    tmux("kill-session", "-t", SESSION)
    envs = " ".join(f"{k}={v}" for k, v in env.items())
    for attempt in range(5):  # the server may still be exiting after the last kill
        t = time.perf_counter()
        done = subprocess.run(
            [
                *TMUX,
                "new-session",
                "-d",
                "-s",
                SESSION,
                "-x",
                str(width),
                "-y",
                str(height),
                f"cd {root} && env -u COLUMNS -u LINES {envs} {cmd}",
            ],
            capture_output=True,
        )
        if done.returncode == 0:
            return t
        time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"tmux would not start a session: {done.stderr!r}")


def wait_for(pred, timeout: float = 60.0) -> float:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if pred(screen()):
            return time.perf_counter()
        time.sleep(0.01)
    raise TimeoutError("screen never showed the expected text:\n" + screen())


MINIMAL = textwrap.dedent("""
    from textual.app import App
    from textual.widgets import Static
    class Minimal(App):
        def compose(self):
            yield Static("MINIMAL-READY")
    Minimal().run()
""")


def session_cpu() -> float:
    """CPU seconds (user + system, all threads) used so far by the processes in the
    benchmark's tmux pane: the program under test (and the shell that started it), with the
    children they have already reaped (a helper process that has finished still counts)."""
    return tree_cpu(int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip()))


def tree_cpu(root: int) -> float:
    """CPU seconds (utime, stime and the reaped children's) of process ``root`` and every
    process below it, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parent[int(entry)] = int(fields[1])
        cpu[int(entry)] = sum(map(int, fields[11:15])) / tick  # utime stime cutime cstime
    tree = {root}
    while more := {pid for pid, ppid in parent.items() if ppid in tree} - tree:
        tree |= more
    return sum(cpu.get(pid, 0.0) for pid in tree)


def bytecode_env(cache: str) -> dict[str, str]:
    """Python writes and reuses compiled bytecode — in ``cache``, not in the checkout — as
    an installed package has it (``PYTHONDONTWRITEBYTECODE``, set in some shells, would
    make every start compile the console's modules again: ~0.1–0.2 s)."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": cache}


def startup(home: str, root: Path = ROOT, cache: str = "") -> tuple[float, ...]:
    """(first frame, minimal app, incident on a fresh world, incident on a seeded world) in
    wall seconds, then the CPU seconds each of the last three had used by then."""
    py = sys.executable
    env = bytecode_env(cache) if cache else {}
    t = start(f"{py} -c '{MINIMAL}'", env)
    base = wait_for(lambda s: "MINIMAL-READY" in s) - t
    base_cpu = session_cpu()
    t = start(f"{py} -m console demo", {"ROLLBOOK_HOME": home, **env}, root=root)
    first = wait_for(lambda s: "Rollbook" in s or "INC-" in s) - t
    ready = wait_for(lambda s: "since detection" in s) - t
    ready_cpu = session_cpu()
    tmux("kill-session", "-t", SESSION)
    # warm: the world is already seeded and the incident open
    t = start(f"{py} -m console demo", {"ROLLBOOK_HOME": home, **env}, root=root)
    warm = wait_for(lambda s: "since detection" in s) - t
    warm_cpu = session_cpu()
    tmux("kill-session", "-t", SESSION)
    return first, base, ready, warm, base_cpu, ready_cpu, warm_cpu


def compare_startup(before: Path, after: Path, runs: int) -> str:
    """Start-up of two checkouts in one session, their runs interleaved (a change in the
    machine's load hits both alike): a markdown table of medians, wall and CPU."""
    load_before = load_note()
    cache = tempfile.mkdtemp(prefix="rb-pyc-")
    for root in (before, after):  # compiles each checkout's bytecode: not timed
        startup(tempfile.mkdtemp(prefix="rb-demo-"), root, cache)
    got: dict[Path, list[tuple[float, ...]]] = {before: [], after: []}
    for _ in range(runs):
        for root in (before, after):
            got[root].append(startup(tempfile.mkdtemp(prefix="rb-demo-"), root, cache))

    def med(root: Path, i: int) -> float:
        return statistics.median(r[i] for r in got[root])

    base = statistics.median(r[1] for rs in got.values() for r in rs)
    base_cpu = statistics.median(r[4] for rs in got.values() for r in rs)
    rows = [
        "| measure | before | after | minimal Textual app | after / minimal |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, i, floor in (
        ("start → first frame", 0, base),
        ("start → demo incident on screen, fresh world", 2, base),
        ("start → demo incident on screen, world already seeded", 3, base),
        ("CPU used by then, fresh world", 5, base_cpu),
        ("CPU used by then, seeded world", 6, base_cpu),
    ):
        rows.append(
            f"| {label} | {med(before, i):.2f} s | {med(after, i):.2f} s | {floor:.2f} s | "
            f"{med(after, i) / floor:.1f}× |"
        )
    rows += [
        "",
        f"before: {before}; after: {after}; medians of {runs} interleaved runs each (after one "
        f"untimed start of each that compiles the bytecode). Load: {load_before} at the start, "
        f"{load_note()} at the end.",
    ]
    return "\n".join(rows)


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def big_home(models: int, events: int) -> str:
    """A ROLLBOOK_HOME whose default env uses the bench-fleet plugin, plus one incident with
    ``events`` timeline events."""
    home = tempfile.mkdtemp(prefix="rb-tui-")
    site = Path(home) / "site"
    dist = site / "rollbook_bench-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rollbook-bench\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[rollbook.plugins]\nbench-fleet = bigfleet:plugin\n")
    shutil.copy(HERE / "fixtures" / "bigfleet.py", site / "bigfleet.py")
    (Path(home) / "config.toml").write_text(
        'default_env = "big"\n[env.big]\nregistry = "bench-fleet"\nmetrics = "bench-fleet"\n'
        'traffic = "bench-fleet"\n'
    )
    os.environ["ROLLBOOK_HOME"] = home
    from console.store import open_store

    with open_store(Path(home) / "data") as store:
        t0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
        inc = store.create_incident(
            title="bench incident",
            model="model-0000",
            severity="SEV3",
            env="big",
            actor="bench",
            at=t0,
        )
        for i in range(events - 1):
            store._append(
                inc.id,
                "note",
                f"event {i}",
                actor="bench",
                at=t0 + timedelta(seconds=i),
                payload={"i": i},
            )
        store._db.execute("COMMIT") if store._db.in_transaction else None
    return home


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--startup-only", action="store_true", help="skip the fleet runs")
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout to run rollbook from")
    ap.add_argument(
        "--before", type=Path, help="start-up only: compare this checkout with --root, interleaved"
    )
    args = ap.parse_args()
    if not shutil.which("tmux"):
        sys.exit("needs tmux (apt-get install tmux)")
    if args.before:
        print(compare_startup(args.before, args.root, args.runs))
        return
    load_before = load_note()
    cache = tempfile.mkdtemp(prefix="rb-pyc-")
    startup(tempfile.mkdtemp(prefix="rb-demo-"), args.root, cache)  # compiles: not timed
    st = [startup(tempfile.mkdtemp(prefix="rb-demo-"), args.root, cache) for _ in range(args.runs)]
    ours = statistics.median(s[0] for s in st)
    base = statistics.median(s[1] for s in st)
    ready = statistics.median(s[2] for s in st)
    warm = statistics.median(s[3] for s in st)
    base_cpu, ready_cpu, warm_cpu = (statistics.median(s[i] for s in st) for i in (4, 5, 6))
    if args.startup_only:
        rows = [
            f"| start → first frame | {ours:.2f} s | {base:.2f} s | {ours / base:.1f}× |",
            f"| start → demo incident, fresh world | {ready:.2f} s | {base:.2f} s | "
            f"{ready / base:.1f}× |",
            f"| start → demo incident, seeded world | {warm:.2f} s | {base:.2f} s | "
            f"{warm / base:.1f}× |",
            f"| CPU by then, fresh world | {ready_cpu:.2f} s | {base_cpu:.2f} s | "
            f"{ready_cpu / base_cpu:.1f}× |",
            f"| CPU by then, seeded world | {warm_cpu:.2f} s | {base_cpu:.2f} s | "
            f"{warm_cpu / base_cpu:.1f}× |",
            "",
            f"root {args.root}; medians of {args.runs} (after one untimed start that compiles "
            f"the bytecode); before: {load_before}; after: {load_note()}",
        ]
        print("\n".join(rows))
        return
    import tui_fleet  # benchmarks/ is on sys.path (this script's folder)

    fleet_args = tui_fleet.defaults(root=args.root)
    fleet = [tui_fleet.measure(n, 10 if n <= 5 else 10_000, fleet_args) for n in (5, 500, 5000)]
    rows = [
        "| measure | Rollbook | baseline | ratio |",
        "|---|---:|---:|---:|",
        f"| start → first frame (`rollbook demo` vs a minimal Textual app) | {ours:.2f} s | "
        f"{base:.2f} s | {ours / base:.1f}× |",
        f"| start → demo incident on screen, fresh world (seeds 24 h of history) | "
        f"{ready:.2f} s | {base:.2f} s | {ready / base:.1f}× |",
        f"| start → demo incident on screen, world already seeded | {warm:.2f} s | "
        f"{base:.2f} s | {warm / base:.1f}× |",
        "",
        f"Medians over {args.runs} starts, measured in tmux (120×36) by polling the screen "
        "every 10 ms.",
        f"Machine: before the run {load_before}; after the start-ups {load_note()}.",
        "",
        "The fleet at scale (benchmarks/tui_fleet.py):",
        "",
        tui_fleet.report(fleet, fleet_args),
    ]
    text = "\n".join(rows)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "tui.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
