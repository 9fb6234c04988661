"""``postgres``: a prediction log in a PostgreSQL table or view (psycopg 3, through ibis):
the checks' aggregates run as SQL in the database, only their results come back.

Options (``[env.NAME.predictions]``)::

    plugin = "postgres"
    dsn_env = "PREDICTIONS_DSN"   # the NAME of the variable holding the DSN, never the DSN
    table = "churn_predictions"   # or "schema.table"; a view works too
    statement_timeout_ms = 60000  # each query's limit in the database
    # and the column options of every table log (console.backends.tablelog):
    timestamp = "ts"; version = "version"; prediction = "prediction"; label = "label"
    segments = ["plan_type"]; features = ["avg_order_value_90d"]; model_column = "model"
    [env.NAME.predictions.models.churn]
    table = "churn_predictions"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.backends.plugin import Plugin, PluginContext
from console.backends.tablelog import COLUMN_OPTIONS
from console.errors import BackendError, ConfigError

OPTIONS = ("dsn_env", "table", "statement_timeout_ms", *COLUMN_OPTIONS)


def make_predictions(ctx: PluginContext, options: Mapping[str, Any]):
    import ibis
    import psycopg

    from console.backends.tablelog import TablePredictionLog

    key = f"env.{ctx.env_name}.predictions"
    dsn = ctx.secret(options, "dsn", required=True)
    timeout = int(options.get("statement_timeout_ms", 60_000))
    try:
        conn = psycopg.connect(
            dsn, autocommit=True, options=f"-c statement_timeout={timeout}", connect_timeout=10
        )
    except psycopg.Error as exc:
        raise BackendError(
            f"postgres: cannot connect ({str(exc).strip().splitlines()[0]})",
            hint=f"check the DSN in ${options.get('dsn_env')}",
        ) from exc
    con = ibis.postgres.from_connection(conn)

    def opener(opts: Mapping[str, Any]):
        table = opts.get("table")
        if not table:
            raise ConfigError(ctx.config_path, f"{key}.table", "needs a table or view name")
        schema, _, name = str(table).rpartition(".")
        return con.table(name, database=schema or None)

    return TablePredictionLog("postgres", options, opener, close=conn.close, config_key=key)


plugin = Plugin(
    name="postgres",
    description="Prediction log in a PostgreSQL table or view (psycopg 3), queried in place.",
    roles={"predictions": make_predictions},
    options={"predictions": OPTIONS},
)
