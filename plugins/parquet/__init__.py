"""``parquet``: a prediction log kept as Parquet files, queried in process by DuckDB (through
ibis) — every check's aggregates are computed over the files, never loaded into Python.

Options (``[env.NAME.predictions]``)::

    plugin = "parquet"
    path = "/data/predictions/churn"      # a folder (read recursively), a file or a glob
    hive_partitioning = true              # dt=2026-11-01/hour=06/… folders become columns
    union_by_name = true                  # files whose columns differ (after a rename) line up
    memory_limit = "1GB"                  # DuckDB's memory cap (it spills past it)
    threads = 2
    # and the column options of every table log (console.backends.tablelog):
    timestamp = "ts"; version = "version"; prediction = "prediction"; label = "label"
    segments = ["plan_type"]; features = ["avg_order_value_90d"]; model_column = "model"
    [env.NAME.predictions.models.churn]   # per-model overrides, e.g. a path per model
    path = "/data/predictions/churn"
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.backends.tablelog import COLUMN_OPTIONS
from console.errors import ConfigError

OPTIONS = ("path", "hive_partitioning", "union_by_name", "memory_limit", "threads", *COLUMN_OPTIONS)


def parquet_source(path: str) -> str:
    """A folder becomes ``folder/**/*.parquet``; a file or a glob is used as given."""
    p = Path(path).expanduser()
    if p.is_dir():
        return str(p / "**" / "*.parquet")
    return str(p)


def make_predictions(ctx: PluginContext, options: Mapping[str, Any]):
    import ibis

    from console.backends.tablelog import TablePredictionLog

    key = f"env.{ctx.env_name}.predictions"
    config: dict[str, Any] = {}
    if options.get("memory_limit"):
        config["memory_limit"] = str(options["memory_limit"])
    if options.get("threads"):
        config["threads"] = int(options["threads"])
    con = ibis.duckdb.connect(**config)
    con.raw_sql("SET enable_progress_bar = false")  # it would draw on stdout, into --json

    def opener(opts: Mapping[str, Any]):
        path = opts.get("path")
        if not path:
            raise ConfigError(ctx.config_path, f"{key}.path", "needs a folder, file or glob")
        return con.read_parquet(
            parquet_source(str(path)),
            hive_partitioning=bool(opts.get("hive_partitioning", True)),
            union_by_name=bool(opts.get("union_by_name", True)),
        )

    return TablePredictionLog("parquet", options, opener, close=con.disconnect, config_key=key)


plugin = Plugin(
    name="parquet",
    description="Prediction log in Parquet files (folder/glob, hive-partitioned or not), DuckDB.",
    roles={"predictions": make_predictions},
    options={"predictions": OPTIONS},
)
