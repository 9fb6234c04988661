"""The churn model's prediction log for the reference incident, written where a real team
keeps one: Parquet files (hive-partitioned by date and hour) and a PostgreSQL table.

Six hours of scored requests (``per_minute`` a minute); at ``onset`` the upstream team
renames ``total_order_amount`` to ``order_total_amount``: the old column is null from then
on, the new one carries the values, and the feature built from the old one,
``avg_order_value_90d``, comes out 94.2% null (DOMAIN.md) while the model keeps scoring and
its positive rate climbs from 14% to 62%.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = (
    "order_count_90d",
    "avg_order_value_90d",
    "tenure_months",
    "days_since_last_order",
    "support_tickets_90d",
    "plan_type",
    "region",
)
SEGMENTS = ("plan_type", "region")


def churn_log(
    start: datetime,
    end: datetime,
    onset: datetime | None,
    *,
    per_minute: int = 20,
    seed: int = 7,
    version: str = "2",
) -> pd.DataFrame:
    """One row per scored request in ``[start, end)``; broken from ``onset`` (None: healthy)."""
    rng = np.random.default_rng(seed)
    minutes = int((end - start).total_seconds() // 60)
    n = minutes * per_minute
    ts = (
        pd.Timestamp(start)
        + pd.to_timedelta((np.arange(n) + rng.uniform(size=n)) * (60.0 / per_minute), unit="s")
    ).floor("us")  # microseconds: what every engine stores
    after = np.zeros(n, dtype=bool) if onset is None else np.asarray(ts >= pd.Timestamp(onset))
    orders = 1 + rng.poisson(2.5, n)
    avg = np.round(np.exp(np.log(55.0) + 0.5 * rng.normal(size=n)), 2)
    total = np.round(orders * avg, 2)
    null = rng.uniform(size=n) < np.where(after, 0.942, 0.002)
    positive = rng.uniform(size=n) < np.where(after & null, 0.6496, 0.14)
    u = rng.uniform(size=n)
    score = np.where(positive, 0.505 + 0.49 * u**0.7, 0.5 * u**7.8)
    return pd.DataFrame(
        {
            "ts": ts,
            "model": "churn",
            "version": version,
            "customer_id": rng.integers(0, 2_100_000, n),
            "total_order_amount": np.where(after, np.nan, total),
            "order_total_amount": np.where(after, total, np.nan),
            "order_count_90d": orders,
            "avg_order_value_90d": np.where(null, np.nan, avg),
            "tenure_months": np.clip(np.round(24 * np.exp(0.8 * rng.normal(size=n))), 1, 120),
            "days_since_last_order": np.floor(rng.exponential(20.0, n)),
            "support_tickets_90d": np.floor(rng.exponential(0.8, n)),
            "plan_type": rng.choice(["basic", "plus", "premium"], n, p=[0.5, 0.35, 0.15]),
            "region": rng.choice(["na", "eu", "apac", "latam"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "prediction": np.round(score, 4),
            "label": np.full(n, np.nan),
        }
    )


def write_parquet(frame: pd.DataFrame, folder: Path) -> Path:
    """Hive-partitioned files: ``folder/dt=YYYY-MM-DD/hour=HH/part-0.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    ts = frame["ts"].dt.tz_convert("UTC")
    for (day, hour), part in frame.groupby([ts.dt.strftime("%Y-%m-%d"), ts.dt.hour]):
        where = folder / f"dt={day}" / f"hour={hour:02d}"
        where.mkdir(parents=True, exist_ok=True)
        # microseconds: what Spark and most lake tools read
        part.to_parquet(where / "part-0.parquet", index=False, coerce_timestamps="us")
    return folder


PG_TYPES = {"float64": "double precision", "int64": "bigint", "bool": "boolean"}


def write_postgres(frame: pd.DataFrame, dsn: str, table: str = "churn_predictions") -> str:
    """(Re)create ``table`` and COPY the rows in; NaN is written as NULL, as the log's
    producer would. Returns the table's name."""
    import psycopg
    from psycopg import sql

    cols = []
    for name, dtype in frame.dtypes.items():
        if name == "ts":
            cols.append((name, "timestamptz"))
        else:
            cols.append((name, PG_TYPES.get(str(dtype), "text")))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in cols
                ),
            )
        )
        records = frame.astype(object).where(frame.notna(), None)
        with (
            conn.cursor() as cur,
            cur.copy(
                sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n, _ in cols)
                )
            ) as copy,
        ):
            for row in records.itertuples(index=False, name=None):
                copy.write_row(row)
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    return table


def broken_log(
    now: datetime, *, hours: float = 6, onset_minutes: float = 50, **kw
) -> tuple[pd.DataFrame, datetime]:
    """The last ``hours`` up to ``now`` with the rename ``onset_minutes`` ago, and the onset."""
    onset = now - timedelta(minutes=onset_minutes)
    return churn_log(now - timedelta(hours=hours), now, onset, **kw), onset
