"""Long incidents outside the console: `incident show --json` and the post-mortems at 100,000
events, against a 1,000-event incident in the same run (issue 19).

Builds two incidents of the same shape (tests/reports/long_incident.py: a flapping alert, a
recovery check run again and again, a bot's status notes, people's own notes, retried
rollbacks; one bulk insert per part), then measures, in fresh processes:

  * show     `rollbook incident show ID --json` — wall time, CPU time, peak RSS, bytes printed
             (the output is read through a pipe and counted, as a script would read it);
  * md, html `rollbook postmortem ID --format md|html --no-charts` (the charts query the
             metrics backend, whose cost does not depend on the incident's length);
  * render   the post-mortem rendered in-process from the store (read + fold + template),
             i.e. the commands above without the interpreter's start and imports.

Each figure is the median of --runs runs; the ratio 100k/1k says how it grows. With
--baseline DIR the same measures run a second source tree (PYTHONPATH=DIR) in the same run,
for a before/after under the same load; the tree for issue 19's "before" was made with

    git archive HEAD | tar -x -C /tmp/rb-before
    for f in console/reports/postmortem.py console/reports/record.py templates/postmortem.md \\
             templates/postmortem.html console/cli/incidents.py console/cli/reports.py; do
        git show 837061f:$f > /tmp/rb-before/$f; done
    rm /tmp/rb-before/console/reports/timeline.py

The machine's load (other people share its 2 cores) is printed before and after: read the
ratios, and CPU time, rather than wall time alone. Writes benchmarks/results/long_incident.md
and .json.

    python benchmarks/long_incident.py [--events 100000] [--small 1000] [--runs 3]
                                       [--baseline /tmp/rb-before]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
COMMANDS = {
    "show": ["incident", "show", "{iid}", "--json"],
    "md": ["postmortem", "{iid}", "--format", "md"],
    "html": ["postmortem", "{iid}", "--format", "html", "--no-charts"],
}


def build(events: int) -> tuple[Path, str, float]:
    """A fresh ROLLBOOK_HOME holding one incident of ``events`` events: (home, id, seconds)."""
    sys.path.insert(0, str(ROOT))
    from console.store import open_store
    from tests.reports.long_incident import build_long_incident

    home = Path(tempfile.mkdtemp(prefix=f"rb-long-{events}-"))
    t = time.perf_counter()
    with open_store(home / "data") as store:
        iid = build_long_incident(store, events)
    return home, iid, time.perf_counter() - t


def run(argv: list[str], home: Path, src: Path) -> dict[str, float]:
    """One command in a fresh process: wall and CPU seconds, peak RSS (MiB), stdout bytes."""
    env = {**os.environ, "ROLLBOOK_HOME": str(home), "PYTHONPATH": str(src)}
    env.pop("ROLLBOOK_ENV", None)
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=src)
    assert proc.stdout is not None and proc.stderr is not None
    size = 0
    while chunk := proc.stdout.read(1 << 16):
        size += len(chunk)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {err.decode()[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "bytes": float(size),
    }


def child_render(fmt: str, home: str, iid: str) -> None:
    """(In a child process) render the post-mortem from the store, print the figures."""
    import resource
    from datetime import UTC, datetime

    from console.reports.postmortem import render_postmortem
    from console.store import open_store

    now = datetime(2026, 12, 1, tzinfo=UTC)
    with open_store(Path(home) / "data") as store:
        inc = store.get(iid)
        t, c = time.perf_counter(), time.process_time()
        try:
            from console.reports.timeline import TimelineFolder  # noqa: F401 - the new code
            from console.store.paging import PagedTimeline

            events: object = PagedTimeline(store, iid)
        except ImportError:  # a tree from before: the timeline as one list
            events = store.events(iid)
        doc = render_postmortem(inc, events, now=now, fmt=fmt)  # type: ignore[arg-type]
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rss_mib": rss, "bytes": len(doc)}))


def measure(home: Path, iid: str, src: Path, runs: int) -> dict[str, dict[str, float]]:
    python = sys.executable
    out: dict[str, dict[str, float]] = {}
    for name, args in COMMANDS.items():
        argv = [python, "-m", "console", *(a.format(iid=iid) for a in args)]
        samples = [run(argv, home, src) for _ in range(runs)]
        out[name] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    for fmt in ("md", "html"):
        samples = []
        for _ in range(runs):
            argv = [python, str(Path(__file__).resolve()), "--child", fmt, str(home), iid]
            env = {**os.environ, "PYTHONPATH": str(src)}
            res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=src)
            if res.returncode:
                raise SystemExit(f"render {fmt}: {res.stderr[-2000:]}")
            samples.append(json.loads(res.stdout))
        out[f"render {fmt}"] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    return out


def table(results: dict, big: int, small: int) -> str:
    """One row per measure and figure; for each tree, the two sizes and their ratio."""
    trees = list(results)
    head = "| measure | " + " | ".join(f"{t} {small:,} | {t} {big:,} | {t} ratio" for t in trees)
    lines = [head + " |", "|---|" + "---:|" * (3 * len(trees))]

    def fmt(key: str, v: float) -> str:
        if key == "bytes":
            return f"{v / 1e6:.2f} MB" if v >= 1e5 else f"{v / 1e3:.1f} kB"
        if key == "rss_mib":
            return f"{v:.0f} MiB"
        return f"{v:.2f} s"

    labels = (("wall_s", "time"), ("cpu_s", "CPU"), ("rss_mib", "peak RSS"), ("bytes", "output"))
    for name in results[trees[0]][str(small)]:
        for key, label in labels:
            cells = []
            for t in trees:
                a, b = results[t][str(small)][name][key], results[t][str(big)][name][key]
                cells += [fmt(key, a), fmt(key, b), f"{b / a:.1f}×" if a else "—"]
            lines.append(f"| {name} {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_render(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline", type=Path, default=None, help="a source tree to compare")
    args = ap.parse_args()

    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} (cores: {os.cpu_count()})", flush=True)
    built = {}
    for n in (args.small, args.events):
        home, iid, secs = build(n)
        built[n] = (home, iid)
        print(f"built {n:,} events in {secs:.1f} s ({home})", flush=True)
    trees = {"after": ROOT}
    if args.baseline:
        trees = {"before": args.baseline.resolve(), **trees}
    results: dict[str, dict[str, dict]] = {}
    for tree, src in trees.items():
        for n, (home, iid) in built.items():
            print(f"measuring {tree} at {n:,} events …", flush=True)
            results.setdefault(tree, {})[str(n)] = measure(home, iid, src, args.runs)
    load_after = os.getloadavg()
    text = table(results, args.events, args.small)
    note = (
        f"\n\nMedians of {args.runs} runs; 2 cores shared with other engineers' jobs, load "
        f"average {load_before[0]:.2f} before and {load_after[0]:.2f} after the run. "
        "`render` is in-process (store read, folding, template), the others whole commands "
        "in a fresh interpreter."
    )
    print(text + note)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "long_incident.md").write_text(text + note + "\n", encoding="utf-8")
    payload = {
        "events": args.events,
        "small": args.small,
        "runs": args.runs,
        "load": [load_before[0], load_after[0]],
        "results": results,
    }
    (RESULTS / "long_incident.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
