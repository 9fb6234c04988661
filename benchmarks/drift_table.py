"""Render benchmarks/results/drift-*.json as the Markdown table in benchmarks/results/drift.md."""

from __future__ import annotations

import json
import math
from pathlib import Path

DEFINITIONS = """\
### Where the numbers differ from Evidently's, and why

* **KS p-value** — same definition (two-sample KS, asymptotic distribution above 10,000
  rows, which is what both use here); the differences above are floating-point noise.
* **Wasserstein** — Evidently reports the distance divided by the reference's standard
  deviation (`wasserstein_distance / max(std(reference), 0.001)`); Rollbook reports the plain
  distance in the data's units, equal to `scipy.stats.wasserstein_distance`. The comparison
  divides Rollbook's value by the same standard deviation.
* **PSI, categorical** — same definition (category proportions over the union of
  categories), except the floor: Evidently replaces *empty* categories with 0.0001 (or a
  millionth of the smallest proportion), Rollbook floors *every* proportion at 0.0001. They
  coincide whenever every category has a share above 0.0001, as here.
* **PSI, numeric** — different on purpose. Evidently bins numeric columns with more than 20
  distinct values into equal-width Sturges bins over *both samples together* (so the bins
  move with the current window, and one outlier stretches them); Rollbook uses 10 bins at
  the *reference's* deciles, the definition practitioners' 0.1 / 0.2 thresholds assume. The
  numeric PSI values are shown side by side, not compared.
* **Jensen–Shannon** — Evidently uses the natural logarithm, Rollbook base 2 (bounded by
  1); Evidently's value × 1/√ln 2 equals Rollbook's on categorical columns.
* **Chi-squared** — Evidently's `chisquare` is a goodness-of-fit test of the current counts
  against the reference proportions scaled to the current size (the reference is treated as
  exact); Rollbook's `chi2_pvalue` is the test of homogeneity of the 2 × K table
  (`scipy.stats.chi2_contingency`), which accounts for sampling noise on both sides.
"""


def _fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _mib(value: float | None) -> str:
    return "—" if value is None else f"{value / 2**20:,.0f} MiB"


def _tool(res: dict, key: str) -> dict | None:
    value = res.get(key)
    return value if isinstance(value, dict) else None


HISTORY = """\
Before the merge-free KS and Wasserstein (commit d07b958, best of 3 rather than medians):
2.09× the lower bound at 100k rows, 2.92× at 1M; peak RSS at 1M 1,667 MiB = 2.28× the
frames, most of it the Parquet reader's scratch, which the benchmark now hands back before
measuring. What changed: KS by branch and bound over sampled CDF gaps (no pooled sort),
Wasserstein as the integral of |Q_a − Q_b| over the quantile functions in large chunks with
per-thread work arrays, categorical counts aligned by one hash lookup, one copy per column."""

TIME_GOAL = 1.5  # Rollbook within 1.5× of the sort lower bound
MEMORY_GOAL = 2.0  # peak RSS at most twice the frames' own memory


def _size_section(res: dict) -> list[str]:
    rows = res["rows"]
    rb, lb = _tool(res, "rollbook"), _tool(res, "lower_bound")
    lines = [
        f"### {rows:,} rows × (40 numeric + 5 categorical), reference and current",
        "",
        "| tool | time | vs sort lower bound | CPU time | CPU vs lower bound "
        "| Rollbook faster by | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    base = lb["seconds"] if lb else None
    base_cpu = lb.get("cpu_seconds") if lb else None
    mine = rb["seconds"] if rb else None

    def row(
        name: str,
        tool: dict | None,
        note: str | None = None,
        same_rows: bool = True,
        rival: bool = True,
    ):
        if tool is None:
            lines.append(f"| {name} | {note or 'not run'} | | | | | |")
            return
        t, cpu = tool["seconds"], tool.get("cpu_seconds")
        ratio = f"{t / base:.2f}×" if base and same_rows else "—"
        cpu_ratio = f"{cpu / base_cpu:.2f}×" if cpu and base_cpu and same_rows else "—"
        faster = f"{t / mine:.1f}×" if mine and same_rows and rival else "—"
        lines.append(
            f"| {name} | {_fmt_s(t)} | {ratio} | {_fmt_s(cpu)} | {cpu_ratio} | {faster} "
            f"| {_mib(tool.get('peak_rss'))} |"
        )

    row("Lower bound: drop nulls + sort each numeric column, 1 thread", lb, rival=False)
    row("Rollbook drift report (2 threads)", rb, rival=False)
    ev = res.get("evidently")
    if isinstance(ev, dict):
        ev_rows = ev.get("rows", rows)
        label = "Evidently 0.7.23 DataDriftPreset" + (
            f" (at {ev_rows:,} rows)" if ev_rows != rows else ""
        )
        row(label, ev, same_rows=ev_rows == rows)
    else:
        row("Evidently 0.7.23 DataDriftPreset", None, ev)
    nm = res.get("nannyml")
    row(
        "NannyML univariate drift (KS, Wasserstein, JS / chi², JS)",
        nm if isinstance(nm, dict) else None,
        None if isinstance(nm, dict) else nm,
    )
    lines.append("")
    if lb and rb:
        runs = len(rb.get("all_seconds", [])), len(lb.get("all_seconds", []))
        spread = (
            f"{min(rb['all_seconds']):.2f}–{max(rb['all_seconds']):.2f} s"
            if rb.get("all_seconds")
            else "?"
        )
        lines.append(
            f"Rollbook and the lower bound: medians of {runs[0]} and {runs[1]} timed runs "
            f"(Rollbook's ranged {spread}); Evidently and NannyML ran once. Load average "
            f"when the run started: {res.get('load_average', float('nan')):.1f} on "
            f"{res.get('cores', '?')} cores."
        )
        lines.append("")
    if rb:
        frames, peak, before = rb["frame_bytes"], rb.get("peak_rss"), rb.get("rss_before")
        text = f"Frames in memory (both, pandas `memory_usage(deep=True)`): {_mib(frames)}."
        if peak:
            runtime = rb.get("rss_runtime")
            text += (
                f" Rollbook's process: {_mib(runtime)} for the interpreter and numpy, pandas, "
                f"pyarrow and Rollbook before reading; {_mib(before)} with the frames loaded, "
                f"the Parquet reader's buffers handed back and the imports of a warm-up run "
                f"(scipy) done; peak during the report {_mib(peak)} = "
                f"**{peak / frames:.2f}× the frames**. The report itself added "
                f"{_mib(peak - before)} ({(peak - before) / frames:.2f}× the frames)."
            )
        lines.append(text)
    return lines + [""]


def _verdict(res: dict) -> str | None:
    rb, lb = _tool(res, "rollbook"), _tool(res, "lower_bound")
    if not (rb and lb):
        return None
    ratio = rb["seconds"] / lb["seconds"]
    met_time = "met" if ratio <= TIME_GOAL else "**not met**"
    cpu = ""
    if rb.get("cpu_seconds") and lb.get("cpu_seconds"):
        cpu = f"; CPU time {rb['cpu_seconds'] / lb['cpu_seconds']:.2f}×"
    text = f"* {res['rows']:,} rows: time {ratio:.2f}× the lower bound ({met_time}{cpu})"
    if rb.get("peak_rss"):
        memory = rb["peak_rss"] / rb["frame_bytes"]
        met_memory = "met" if memory <= MEMORY_GOAL else "**not met**"
        text += f", peak RSS {memory:.2f}× the frames ({met_memory}"
        runtime = (rb.get("rss_runtime") or 0) / rb["frame_bytes"]
        if runtime > MEMORY_GOAL:
            text += f": the interpreter and libraries alone take {runtime:.2f}× the frames"
        text += ")"
    return text + "."


def _comparison(res: dict) -> list[str]:
    rb, ev = _tool(res, "rollbook"), _tool(res, "evidently")
    if not (rb and ev and ev.get("rows", res["rows"]) == res["rows"] and ev.get("values")):
        return []
    diffs: dict[str, list[float]] = {
        "ks_pvalue": [],
        "wasserstein_norm": [],
        "psi_cat": [],
        "js_cat": [],
    }
    numeric_psi = []
    for col, theirs in ev["values"].items():
        ours = rb["values"].get(col, {})
        if "ks_pvalue" in theirs:
            diffs["ks_pvalue"].append(abs(ours["ks_pvalue"] - theirs["ks_pvalue"]))
            diffs["wasserstein_norm"].append(
                abs(ours["wasserstein_norm"] - theirs["wasserstein_norm"])
                / max(abs(theirs["wasserstein_norm"]), 1e-300)
            )
            numeric_psi.append((col, ours["psi"], theirs["psi"]))
        else:
            diffs["psi_cat"].append(abs(ours["psi"] - theirs["psi"]) / max(theirs["psi"], 1e-300))
            diffs["js_cat"].append(
                abs(ours["jensen_shannon"] - theirs["jensen_shannon_e"] / math.sqrt(math.log(2)))
            )
    lines = [
        f"### Agreement with Evidently ({res['rows']:,} rows, same files)",
        "",
        "| statistic (columns) | largest difference |",
        "| --- | ---: |",
        f"| KS p-value ({len(diffs['ks_pvalue'])} numeric) | "
        f"{max(diffs['ks_pvalue']):.2e} (absolute) |",
        f"| Wasserstein ÷ std(reference) ({len(diffs['wasserstein_norm'])} numeric) | "
        f"{max(diffs['wasserstein_norm']):.2e} (relative) |",
        f"| PSI ({len(diffs['psi_cat'])} categorical) | {max(diffs['psi_cat']):.2e} (relative) |",
        f"| Jensen–Shannon, base converted ({len(diffs['js_cat'])} categorical) | "
        f"{max(diffs['js_cat']):.2e} (absolute) |",
        "",
        "Numeric PSI (definitions differ, see below):",
        "",
        "| column | Rollbook (reference deciles) | Evidently (Sturges, pooled) |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {c} | {a:.4f} | {b:.4f} |" for c, a, b in numeric_psi]
    return lines + [""]


def write_markdown(results_dir: Path) -> str:
    runs = sorted(
        (json.loads(p.read_text()) for p in results_dir.glob("drift-*.json")),
        key=lambda r: r["rows"],
    )
    lines = [
        "## Drift benchmark",
        "",
        "`python benchmarks/drift.py [--rows N] [--evidently-at-scale]`: seeded frames, each "
        "tool in its own process on the same Parquet files, read with pandas; times exclude "
        "loading. Machine: "
        f"{runs[0]['cores'] if runs else '?'} cores, Python "
        f"{runs[0]['python'] if runs else '?'}, shared with other jobs, so wall times "
        "vary from run to run and Rollbook's two threads do not always get both cores. The "
        "lower bound and Rollbook therefore run alternately (several processes each) and "
        "the tables give medians. CPU time (user + system, all threads) is shown too: it "
        "counts the work done, which the load changes far less than the wall time. Rollbook "
        "uses two threads, the lower bound one; on a machine whose other jobs leave Rollbook "
        "a single core, its wall-time ratio tends to its CPU-time ratio.",
        "",
        f"Goals: Rollbook within {TIME_GOAL}× of the sort lower bound, peak RSS at most "
        f"{MEMORY_GOAL:g}× the frames' memory.",
        "",
        *[v for v in map(_verdict, runs) if v],
        "",
        HISTORY,
        "",
    ]
    for res in runs:
        lines += _size_section(res)
    for res in runs:
        lines += _comparison(res)
    text = "\n".join(lines) + "\n" + DEFINITIONS
    (results_dir / "drift.md").write_text(text)
    return text
