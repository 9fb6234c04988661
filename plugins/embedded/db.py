"""The embedded world's SQLite schema (one file per environment, WAL so several processes —
the TUI, a CLI call, a drill — read and write it at once).

Plain ``sqlite3``: the tables are a handful of ``CREATE TABLE IF NOT EXISTS`` (with the same
DDL sqlite-utils wrote, so world files from before read the same). sqlite-utils imports
pandas when it is installed, which cost a third of a second of every start of the world."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1

_SQL = {int: "INTEGER", float: "REAL", str: "TEXT"}


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit: the world runs its own BEGIN IMMEDIATE ... COMMIT transactions.
    conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = wal")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -32000")  # 32 MB: a day of inserts stays in memory
    create_schema(conn)
    return conn


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_table(
    conn: sqlite3.Connection,
    table: str,
    columns: Mapping[str, type],
    pk: str | Sequence[str] | None = None,
) -> None:
    """``CREATE TABLE IF NOT EXISTS`` with ``columns`` (name -> int, float or str, in
    order); a single ``pk`` column is the primary key (an INTEGER one is the rowid), several
    make a compound key."""
    parts = []
    for name, typ in columns.items():
        part = f"   {_quote(name)} {_SQL[typ]}"
        if isinstance(pk, str) and name == pk:
            part += " PRIMARY KEY"
        parts.append(part)
    if pk is not None and not isinstance(pk, str):
        parts.append(f"   PRIMARY KEY ({', '.join(_quote(c) for c in pk)})")
    body = ",\n".join(parts)
    conn.execute(f"CREATE TABLE IF NOT EXISTS {_quote(table)} (\n{body}\n)")


def create_index(conn: sqlite3.Connection, table: str, column: str) -> None:
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {_quote(f'idx_{table}_{column}')}"
        f"\n    ON {_quote(table)} ({_quote(column)})"
    )


def table_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def column_names(conn: sqlite3.Connection, table: str) -> list[str]:
    """The table's column names in order (empty if there is no such table)."""
    return [r[1] for r in conn.execute(f"PRAGMA table_info({_quote(table)})")]


def create_schema(conn: sqlite3.Connection) -> None:
    create_table(
        conn,
        "world",
        {
            "id": int,
            "seed": int,
            "schema": int,
            "anchor_sim": float,
            "anchor_wall": float,
            "speed": float,
            "seeded_at": float,
            "simulated_until": int,
            "revision": int,
        },
        pk="id",
    )
    create_table(
        conn,
        "models",
        {
            "name": str,
            "position": int,
            "description": str,
            "serving_pattern": str,
            "owner": str,
            "key_signal": str,
            "features": str,
            "production": str,
        },
        pk="name",
    )
    create_table(
        conn,
        "versions",
        {
            "model": str,
            "version": str,
            "stage": str,
            "created_at": float,
            "lineage": str,
            "tags": str,
            "artifact_hash": str,
        },
        pk=("model", "version"),
    )
    create_table(
        conn,
        "stage_history",
        {
            "id": int,
            "model": str,
            "version": str,
            "from_stage": str,
            "to_stage": str,
            "at": float,
            "actor": str,
            "reason": str,
        },
        pk="id",
    )
    create_table(
        conn,
        "route_log",
        {"id": int, "model": str, "at": float, "weights": str, "actor": str},
        pk="id",
    )
    create_table(
        conn,
        "batch_log",
        {"id": int, "model": str, "at": float, "paused": int, "actor": str},
        pk="id",
    )
    create_table(
        conn,
        "faults",
        {
            "id": int,
            "scenario": str,
            "model": str,
            "onset": float,
            "cleared": float,
            "injected_at": float,
            "facts": str,
        },
        pk="id",
    )
    create_table(
        conn,
        "breakages",
        {
            "id": int,
            "role": str,
            "method": str,
            "mode": str,
            "remaining": int,
            "delay_s": float,
            "route": str,
            "created_at": float,
        },
        pk="id",
    )
    # Metrics: the primary key doubles as the (model, signal, version, ts) index, and
    # WITHOUT ROWID keeps a day of ~200k rows in one B-tree (inserting it takes ~0.3 s).
    conn.execute(
        "CREATE TABLE IF NOT EXISTS metrics (model TEXT NOT NULL, signal TEXT NOT NULL,"
        " version TEXT NOT NULL, ts INTEGER NOT NULL, value REAL,"
        " PRIMARY KEY (model, signal, version, ts)) WITHOUT ROWID"
    )
    for name in ("route_log", "batch_log", "faults", "stage_history"):
        create_index(conn, name, "model")


def samples_table(model: str) -> str:
    return "samples_" + model.replace("-", "_")


_SQL_TYPE = {"f": float, "i": int, "u": int, "b": int}


def ensure_sample_columns(
    conn: sqlite3.Connection, table: str, columns: dict[str, np.ndarray]
) -> None:
    """Create the model's sample table, or add the columns a new schema brings (an upstream
    rename shows up as a new column; old rows keep NULL there)."""
    types = {c: _SQL_TYPE.get(a.dtype.kind, str) for c, a in columns.items()}
    have = set(column_names(conn, table))
    if not have:
        # No primary key: rows of a tick are only ever written once (catch-up) or deleted
        # and rewritten (regeneration); one index on tick serves every time-window read.
        create_table(conn, table, types)
        create_index(conn, table, "tick")
        return
    for col, typ in types.items():
        if col not in have:
            conn.execute(f"ALTER TABLE {_quote(table)} ADD COLUMN {_quote(col)} {_SQL[typ]}")
