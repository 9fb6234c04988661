"""``spark``: a prediction log in a lake, queried with Spark SQL (through ibis) in a local
session or on a cluster through Spark Connect: the aggregates run in Spark.

Options (``[env.NAME.predictions]``)::

    plugin = "spark"
    remote = "sc://spark.internal:15002"   # Spark Connect; without it a local session
    master = "local[2]"                    # the local session's master
    table = "ml.churn_predictions"         # a table in the catalog, or:
    path = "s3a://lake/predictions/churn"  # Parquet files Spark reads (partitions included)
    conf = { "spark.driver.memory" = "1g" }
    # and the column options of every table log (console.backends.tablelog):
    timestamp = "ts"; version = "version"; prediction = "prediction"; label = "label"
    segments = ["plan_type"]; features = ["avg_order_value_90d"]; model_column = "model"

An existing active session is reused (``SparkSession.getActiveSession()``), so a notebook
or a test run shares its session; a session this plugin started is stopped on close.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.backends.tablelog import COLUMN_OPTIONS
from console.errors import ConfigError

OPTIONS = ("remote", "master", "table", "path", "conf", *COLUMN_OPTIONS)


def spark_session(options: Mapping[str, Any]) -> tuple[Any, bool]:
    """(a session, whether this call started it)."""
    from pyspark.sql import SparkSession

    if not options.get("remote"):
        active = SparkSession.getActiveSession()
        if active is not None:
            return active, False
    builder = SparkSession.builder.appName("rollbook")
    if options.get("remote"):
        builder = builder.remote(str(options["remote"]))
    else:
        builder = builder.master(str(options.get("master", "local[2]")))
    # Spark's console progress bar would draw on stderr while `rollbook` prints
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    for k, v in (options.get("conf") or {}).items():
        builder = builder.config(str(k), str(v))
    return builder.getOrCreate(), True


def make_predictions(ctx: PluginContext, options: Mapping[str, Any]):
    import ibis

    from console.backends.tablelog import TablePredictionLog

    key = f"env.{ctx.env_name}.predictions"
    session, started = spark_session(options)
    con = ibis.pyspark.connect(session)
    views: dict[str, Any] = {}

    def opener(opts: Mapping[str, Any]):
        if opts.get("path"):
            path = str(opts["path"])
            if path not in views:
                name = f"rollbook_log_{len(views)}"
                session.read.parquet(path).createOrReplaceTempView(name)
                views[path] = name
            return con.table(views[path])
        if opts.get("table"):
            db, _, name = str(opts["table"]).rpartition(".")
            return con.table(name, database=db or None)
        raise ConfigError(ctx.config_path, f"{key}.table", "needs a table (or a path)")

    close = session.stop if started else None
    return TablePredictionLog("spark", options, opener, close=close, config_key=key)


plugin = Plugin(
    name="spark",
    description="Prediction log in Spark (local session or Spark Connect), Spark SQL in place.",
    roles={"predictions": make_predictions},
    options={"predictions": OPTIONS},
)
