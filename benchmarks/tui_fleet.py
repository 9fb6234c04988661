"""The fleet at scale in a real terminal (tmux, 120×36): key → repaint and idle CPU with 5,
500 and 5,000 models in one run, so the ratios against 5 models share the machine's load.

For each fleet size the console starts on the bench-fleet plugin (fixtures/bigfleet.py: N
models in memory whose numbers move every 10 s, like a live fleet; every 50th has a firing
alert) with an open incident of 10 events (5 models) or 10,000 events (larger fleets), then:

  * fleet   — start → the fleet's rows on screen;
  * warm-up — two timer refreshes on screen ("as of" moves twice): keys are pressed while
              the refresh runs, not in the first seconds before it starts;
  * idle    — the console's CPU time (every thread, from /proc) over ``--idle`` seconds with
              no key, as a share of one core;
  * cursor  — ``down`` and ``up`` in turn, each moving the highlighted row (a press past the
              last row changes nothing, so none is), timed until the highlighted row is the
              expected model; presses land at random phases of the refresh cycle;
  * filter  — ``/`` until the filter box shows, ``enter`` on ``model-0003`` until the table
              holds that row alone, ``esc`` until the whole fleet is back (each visible),
              ``--filters`` times;
  * incident — ``i`` on ``model-0000`` until the incident's header shows.

A console that does not show a key's effect within ``--timeout`` seconds is recorded so
(``> 30 s``) and its remaining keys are skipped. Writes benchmarks/results/tui-fleet.md
(``--out``), with the load average before and after each size.

    python benchmarks/tui_fleet.py [--sizes 5,500,5000] [--root CHECKOUT] [--label after]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tui import HERE, ROOT, big_home, load_note, tree_cpu  # noqa: E402  (benchmarks/ is on sys.path)

# A tmux server of its own, apart from the start-up benchmark's (they may run side by side),
# without user config or inherited COLUMNS/LINES (they would pin the console's size).
SESSION = "rb-fleet"
TMUX = ["tmux", "-L", SESSION, "-f", "/dev/null"]


def tmux(*args: str) -> str:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p", "-e")  # -e: styles (the cursor row)


def start(cmd: str, env: dict[str, str], root: Path) -> float:
    """Start ``cmd`` in a fresh 120×36 pane; the time it was started (perf_counter)."""
    tmux("kill-session", "-t", SESSION)
    envs = " ".join(f"{k}={v}" for k, v in env.items())
    for attempt in range(5):  # the server may still be exiting after the last kill
        t = time.perf_counter()
        done = subprocess.run(
            [*TMUX, "new-session", "-d", "-s", SESSION, "-x", "120", "-y", "36"]
            + [f"cd {root} && env -u COLUMNS -u LINES {envs} {cmd}"],
            capture_output=True,
        )
        if done.returncode == 0:
            return t
        time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"tmux would not start a session: {done.stderr!r}")


def console_cpu() -> float:
    """CPU seconds (user + system, every thread, reaped children too) used so far by the
    processes in the pane: the console and the shell that started it."""
    return tree_cpu(int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip()))


SGR = re.compile(r"(\x1b\[[0-9;]*m)")
ROW = re.compile(r"\s*(model-\d{4})\s")
AS_OF = re.compile(r"as of (\d\d:\d\d:\d\d) UTC")


def _background(bg: str | None, params: str) -> str | None:
    """The background colour after one SGR sequence (None: the default)."""
    codes = params.split(";") if params else ["0"]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c in ("0", "", "49"):
            bg = None
        elif c in ("38", "48"):  # extended colour: 5;N or 2;R;G;B
            width = 3 if i + 1 < len(codes) and codes[i + 1] == "5" else 5
            if c == "48":
                bg = ";".join(codes[i : i + width])
            i += width - 1
        elif c.isdigit() and (40 <= int(c) <= 47 or 100 <= int(c) <= 107):
            bg = c
        i += 1
    return bg


def table(styled: str) -> tuple[list[str], str | None]:
    """The model rows on screen, top to bottom, and the highlighted one: the row drawn on a
    background no other row has (None with fewer than two rows)."""
    bg: str | None = None
    rows: list[tuple[str, str | None]] = []
    for line in styled.split("\n"):
        first: str | None = None
        seen = False
        for part in SGR.split(line):
            if part.startswith("\x1b["):
                bg = _background(bg, part[2:-1])
            elif not seen and part.strip():
                first, seen = bg, True
        m = ROW.match(SGR.sub("", line))
        if m:
            rows.append((m.group(1), first))
    names = [name for name, _ in rows]
    if len(rows) < 2:
        return names, None
    counts: dict[str | None, int] = {}
    for _, b in rows:
        counts[b] = counts.get(b, 0) + 1
    odd = [name for name, b in rows if counts[b] == 1]
    return names, odd[0] if len(odd) == 1 else None


def plain(styled: str) -> str:
    return SGR.sub("", styled)


class Late(Exception):
    """The screen did not show a key's effect in time."""


def wait(pred, timeout: float) -> float:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if pred(screen()):
            return time.perf_counter()
        time.sleep(0.01)
    raise Late


def press(keys: list[str], pred, timeout: float, *, literal: bool = False) -> float:
    """Seconds from sending ``keys`` to the screen satisfying ``pred``."""
    t = time.perf_counter()
    tmux("send-keys", "-t", SESSION, *(["-l"] if literal else []), *keys)
    return wait(pred, timeout) - t


def measure(models: int, events: int, args: argparse.Namespace) -> dict:
    """Every figure for one fleet size (seconds; None where the console did not answer)."""
    rng = random.Random(models)
    home = big_home(models, events)
    env = {
        "ROLLBOOK_HOME": home,
        "ROLLBOOK_BENCH_MODELS": str(models),
        "PYTHONPATH": f"{home}/site",
    }
    out: dict = {"models": models, "events": events, "load_before": load_note()}
    t0 = start(f"{sys.executable} -m console", env, args.root)
    try:
        out["fleet"] = wait(lambda s: len(table(s)[0]) >= min(models, 5), args.timeout) - t0
    except Late:
        out["fleet"] = None
        tmux("kill-session", "-t", SESSION)
        return out
    seen: list[str] = []

    def refreshed(s: str) -> bool:
        m = AS_OF.search(plain(s))
        if m and (not seen or seen[-1] != m.group(1)):
            seen.append(m.group(1))
        return len(seen) >= 3  # the first read, then two timer refreshes

    try:
        wait(refreshed, args.timeout)
        out["warm"] = True
    except Late:
        out["warm"] = False  # no refresh reached the screen: measured anyway, frozen or not
    m = re.search(r"read every (\d+) s", plain(screen()))
    out["paced"] = int(m.group(1)) if m else None
    cpu0, w0 = console_cpu(), time.perf_counter()
    time.sleep(args.idle)
    out["idle_cpu"] = (console_cpu() - cpu0) / (time.perf_counter() - w0)
    rows, cursor = table(screen())
    out["cursor"] = []
    out["late"] = None
    try:
        if len(rows) < 2 or cursor != rows[0]:
            raise RuntimeError(f"expected the cursor on {rows[:1]}, found {cursor}: {rows[:3]}")
        for k in range(args.presses):
            time.sleep(rng.uniform(0.2, 0.7))
            key, want = ("Down", rows[1]) if k % 2 == 0 else ("Up", rows[0])
            out["cursor"].append(press([key], lambda s, w=want: table(s)[1] == w, args.timeout))
        for key in ("filter_open", "filter_apply", "filter_clear"):
            out[key] = []
        for _ in range(args.filters):
            time.sleep(rng.uniform(0.3, 0.8))
            out["filter_open"].append(
                press(["/"], lambda s: "filter models" in plain(s), args.timeout)
            )
            tmux("send-keys", "-t", SESSION, "-l", "model-0003")
            # typed into the box (three lines under the title), not yet applied
            wait(lambda s: "model-0003" in "\n".join(plain(s).split("\n")[1:4]), args.timeout)
            time.sleep(rng.uniform(0.3, 0.8))
            out["filter_apply"].append(
                press(["Enter"], lambda s: table(s)[0] == ["model-0003"], args.timeout)
            )
            time.sleep(rng.uniform(0.3, 0.8))
            out["filter_clear"].append(
                press(["Escape"], lambda s: "model-0000" in table(s)[0], args.timeout)
            )
        if args.incident:
            time.sleep(0.3)
            tmux("send-keys", "-t", SESSION, "/")
            wait(lambda s: "filter models" in plain(s), args.timeout)
            tmux("send-keys", "-t", SESSION, "-l", "model-0000")
            tmux("send-keys", "-t", SESSION, "Enter")
            wait(lambda s: table(s)[0] == ["model-0000"], args.timeout)
            time.sleep(0.3)
            out["incident"] = press(["i"], lambda s: "since detection" in plain(s), args.timeout)
    except Late:
        out["late"] = args.timeout
    tmux("kill-session", "-t", SESSION)
    out["load_after"] = load_note()
    return out


def ms(x: float | None, late: float | None = None) -> str:
    if x is None:
        return f"> {late:g} s" if late else "—"
    return f"{x * 1000:,.0f} ms" if x < 10 else f"{x:,.1f} s"


def med(xs: list[float] | None, late: float | None) -> str:
    """The median of a key's samples, or how long it was waited for in vain."""
    return ms(statistics.median(xs), late) if xs else ms(None, late)


def report(results: list[dict], args: argparse.Namespace) -> str:
    lines = [
        "| models | fleet on screen | read every | idle CPU (one core) | cursor key → repaint: "
        "median · max (n) | `/` → filter box | filter applied | filter cleared | open incident |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cur = r.get("cursor") or []
        late = r.get("late")
        cursor = (
            f"{ms(statistics.median(cur))} · {ms(max(cur))} ({len(cur)})" if cur else ms(None, late)
        )
        if cur and late and len(cur) < args.presses:
            cursor += f", then > {late:g} s"
        lines.append(
            f"| {r['models']:,} | {ms(r.get('fleet'), args.timeout)} | "
            f"{str(r['paced']) + ' s' if r.get('paced') else 'as set (2 s)'}"
            f"{'' if r.get('warm', True) else ' (no refresh shown)'} | "
            f"{r['idle_cpu'] * 100:.1f}% | {cursor} | "
            f"{med(r.get('filter_open'), late)} | {med(r.get('filter_apply'), late)} | "
            f"{med(r.get('filter_clear'), late)} | "
            f"{ms(r.get('incident'), late) if args.incident else '—'} |"
            if "idle_cpu" in r
            else f"| {r['models']:,} | > {args.timeout:g} s | | | | | | | |"
        )
    base = results[0]
    base_cur = base.get("cursor") or []
    for r in results[1:]:
        cur = r.get("cursor") or []
        if base_cur and cur and len(cur) == len(base_cur):
            lines.append(
                f"\n{r['models']:,} vs {base['models']:,} models: cursor median "
                f"{statistics.median(cur) / statistics.median(base_cur):.2f}×, idle CPU "
                f"{r['idle_cpu'] * 100:.1f}% vs {base['idle_cpu'] * 100:.1f}%."
            )
    lines.append("")
    lines.append(
        f"{args.label}: root {args.root}; in tmux (120×36), the screen polled every 10 ms; "
        f"{args.presses} cursor presses and {args.filters} filter cycles (medians), idle CPU "
        f"over {args.idle:g} s after two refreshes; timeout {args.timeout:g} s per key. `esc` "
        "includes Textual's 100 ms wait for an escape sequence (ESCDELAY)."
    )
    for r in results:
        lines.append(
            f"{r['models']:,} models ({r['events']:,}-event incident): {r['load_before']} "
            f"before, {r.get('load_after', '?')} after."
        )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5,500,5000", help="fleet sizes, the first the baseline")
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout to run rollbook from")
    ap.add_argument("--label", default="after", help="names the run in the results")
    ap.add_argument("--presses", type=int, default=12)
    ap.add_argument("--filters", type=int, default=3, help="filter set-and-clear cycles")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU measured")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a key")
    ap.add_argument("--no-incident", dest="incident", action="store_false")
    ap.add_argument("--out", default="tui-fleet.md", help="file name under benchmarks/results")
    return ap


def defaults(**overrides: object) -> argparse.Namespace:
    """The command line's defaults, some replaced (benchmarks/tui.py's full run)."""
    args = parser().parse_args([])
    for k, v in overrides.items():
        setattr(args, k, v)
    return args


def main() -> None:
    args = parser().parse_args()
    if not shutil.which("tmux"):
        sys.exit("needs tmux (apt-get install tmux)")
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        r = measure(n, 10 if n <= 5 else 10_000, args)
        print(r, flush=True)
        results.append(r)
    text = report(results, args)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
