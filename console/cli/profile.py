"""``rollbook profile build | show``: a model version's reference profile, computed where the
data lives (training data files, or a healthy window of the prediction log) and stored with
the version, so ``rollbook drift --model M`` and the checks compare against it.

Heavy modules (numpy, ibis, ``console.diagnostics``) are imported inside the commands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from console.cli.common import console_out, env_option, json_option, print_json, workspace


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def log_aggregates(ws: Any, model: str) -> tuple[Any, bool]:
    """The environment's prediction log of ``model`` as aggregates, and whether the engine
    computes them (else DuckDB over its samples, up to 50,000 rows a window)."""
    from console.backends.framelog import SamplesAggregates
    from console.errors import BackendError

    log = ws.backends.predictions
    if log is None:
        raise BackendError(
            f"environment {ws.env.name!r} has no prediction log",
            hint="configure a predictions plugin (parquet, postgres, spark) for it",
        )
    if "aggregates" in log.capabilities:
        agg = log.aggregates(model)
        if agg is not None:
            return agg, True

    def sampler(start, end, version, segment):
        return log.samples(model, start, end, version=version, segment=segment, limit=50_000)

    return SamplesAggregates(sampler, engine=f"{model} samples"), False


def default_columns(ws: Any, model: str, present: list[str]) -> list[str]:
    """The registry's features for ``model`` (its lineage), else the log's configured ones,
    else every input column present — keeping those the data has."""
    info = next((m for m in ws.backends.registry.models() if m.name == model), None)
    log = ws.backends.predictions
    wanted = list(info.features) if info and info.features else []
    if not wanted and log is not None:
        wanted = log.features(model)
    return [c for c in wanted if c in present] if wanted else present


@click.group()
def profile() -> None:
    """Reference profiles of model versions (what drift is measured against)."""


@profile.command("build")
@click.argument("source")
@click.option("--model", "-m", required=True, help="The model (must be in the registry).")
@click.option("--version", "-v", "version", required=True, help="The version to profile.")
@click.option(
    "--window",
    default=None,
    metavar="START/END",
    help="A healthy window (ISO dates/times, UTC), e.g. 2026-11-01/2026-11-08; needed for `log`.",
)
@click.option("--columns", multiple=True, metavar="A,B", help="Only these columns.")
@click.option("--categorical", multiple=True, metavar="A,B", help="Profile as categories.")
@click.option("--segment-by", multiple=True, metavar="COL", help="Also profile per segment.")
@click.option("--any-version", is_flag=True, help="From the log: rows of every version.")
@click.option("--bins", default=10, show_default=True, type=click.IntRange(1, 1000))
@env_option
@json_option
@click.pass_context
def build(
    ctx: click.Context,
    source: str,
    model: str,
    version: str,
    window: str | None,
    columns: tuple[str, ...],
    categorical: tuple[str, ...],
    segment_by: tuple[str, ...],
    any_version: bool,
    bins: int,
    as_json: bool,
) -> None:
    """Compute VERSION's reference profile from SOURCE and store it with the version.

    SOURCE is a CSV/Parquet file, a folder or glob of Parquet files (training data), or
    `log` for a healthy window of the environment's prediction log. The profile keeps, per
    column: null counts, moments, PSI bin edges and counts, a fine CDF grid, categories.
    """
    from console.backends.aggregates import LogWindow
    from console.diagnostics.io import file_aggregates
    from console.diagnostics.logchecks import present_columns
    from console.diagnostics.profile_store import TAG, parse_window, publish_profile
    from console.diagnostics.pushdown import fit_log_profile
    from console.errors import InvalidInput
    from console.runbooks.context import CORE_COLUMNS

    with workspace(ctx) as ws:
        registry = ws.backends.registry
        registry.version(model, version)  # NotFound (exit 4) for an unknown one
        if source == "log":
            if window is None:
                raise InvalidInput("profiling the log needs --window START/END (a healthy period)")
            agg, pushdown = log_aggregates(ws, model)
            start, end = parse_window(window, ws.now())
            win = LogWindow(start, end, None if any_version else version)
        else:
            agg, pushdown = file_aggregates(source), True
            win = LogWindow(*parse_window(window, ws.now())) if window else LogWindow()
        present = list(present_columns(agg, win, skip=(*CORE_COLUMNS, *segment_by))[0])
        names = _split(columns) or default_columns(ws, model, present)
        fitted = fit_log_profile(
            agg,
            win,
            names,
            bins=bins,
            categorical=_split(categorical),
            segment_by=list(segment_by),
            keep_values=False,
            meta={
                "model": model,
                "version": version,
                "source": source,
                "window": window,
                "built_at": datetime.now(UTC).isoformat(),
                "computed": "pushdown" if pushdown else "samples",
            },
        )
        path, uri = publish_profile(
            registry, ws.config.data_dir, ws.env.name, model, version, fitted
        )
        tagged = "tags" in registry.capabilities
    out = {
        "model": model,
        "version": version,
        "path": str(path),
        "registry_uri": uri,
        "rows": fitted.rows,
        "columns": list(fitted.columns),
        "segments": sorted(fitted.segments),
        "tagged": tagged,
    }
    if as_json:
        print_json(out)
        return
    console = console_out()
    console.print(
        f"profile of {model} version {version}: {fitted.rows:,} rows, "
        f"{len(fitted.columns)} columns"
        + (f", {len(fitted.segments)} segments" if fitted.segments else "")
    )
    console.print(f"stored: {path}" + (f" (tag {TAG} on the version)" if tagged else ""))
    if uri:
        console.print(f"kept with the version in the registry: {uri}")


@profile.command("show")
@click.argument("model")
@click.argument("version")
@env_option
@json_option
@click.pass_context
def show(ctx: click.Context, model: str, version: str, as_json: bool) -> None:
    """The stored profile of MODEL VERSION: rows, and per column its kind and null rate."""
    from console.diagnostics.profile_store import load_profile, profile_path

    with workspace(ctx) as ws:
        stored = load_profile(ws.config.data_dir, ws.env.name, model, version, ws.backends.registry)
        path = profile_path(ws.config.data_dir, ws.env.name, model, version)
    rows: list[dict[str, Any]] = []
    for name, col in stored.columns.items():
        n_rows, nulls, _, valid = col.counts_tuple()
        rows.append(
            {
                "column": name,
                "kind": col.kind,
                "rows": n_rows,
                "null_rate": nulls / n_rows if n_rows else None,
                "values": valid,
            }
        )
    if as_json:
        print_json(
            {"path": str(path), "meta": dict(stored.meta), "rows": stored.rows, "columns": rows}
        )
        return
    from rich.table import Table

    out = console_out()
    out.print(f"{model} version {version}: {stored.rows:,} rows ({path})")
    table = Table()
    for heading in ("column", "kind", "null rate", "values"):
        table.add_column(heading)
    for r in rows:
        rate = "—" if r["null_rate"] is None else f"{r['null_rate'] * 100:.1f}%"
        table.add_row(r["column"], r["kind"], rate, f"{r['values']:,}")
    out.print(table)
