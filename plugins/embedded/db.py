"""The embedded world's SQLite schema (one file per environment, WAL so several processes —
the TUI, a CLI call, a drill — read and write it at once)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from sqlite_utils import Database

SCHEMA_VERSION = 1


def connect(path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit: the world runs its own BEGIN IMMEDIATE ... COMMIT transactions.
    conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    db = Database(conn)
    db.enable_wal()
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -32000")  # 32 MB: a day of inserts stays in memory
    create_schema(db)
    return db


def create_schema(db: Database) -> None:
    db["world"].create(
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
        if_not_exists=True,
    )
    db["models"].create(
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
        if_not_exists=True,
    )
    db["versions"].create(
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
        if_not_exists=True,
    )
    db["stage_history"].create(
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
        if_not_exists=True,
    )
    db["route_log"].create(
        {"id": int, "model": str, "at": float, "weights": str, "actor": str},
        pk="id",
        if_not_exists=True,
    )
    db["batch_log"].create(
        {"id": int, "model": str, "at": float, "paused": int, "actor": str},
        pk="id",
        if_not_exists=True,
    )
    db["faults"].create(
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
        if_not_exists=True,
    )
    db["breakages"].create(
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
        if_not_exists=True,
    )
    # Metrics: the primary key doubles as the (model, signal, version, ts) index, and
    # WITHOUT ROWID keeps a day of ~200k rows in one B-tree (inserting it takes ~0.3 s).
    db.execute(
        "CREATE TABLE IF NOT EXISTS metrics (model TEXT NOT NULL, signal TEXT NOT NULL,"
        " version TEXT NOT NULL, ts INTEGER NOT NULL, value REAL,"
        " PRIMARY KEY (model, signal, version, ts)) WITHOUT ROWID"
    )
    for name in ("route_log", "batch_log", "faults", "stage_history"):
        db[name].create_index(["model"], if_not_exists=True)


def samples_table(model: str) -> str:
    return "samples_" + model.replace("-", "_")


_SQL_TYPE = {"f": float, "i": int, "u": int, "b": int}


def ensure_sample_columns(db: Database, table: str, columns: dict[str, np.ndarray]) -> None:
    """Create the model's sample table, or add the columns a new schema brings (an upstream
    rename shows up as a new column; old rows keep NULL there)."""
    types = {c: _SQL_TYPE.get(a.dtype.kind, str) for c, a in columns.items()}
    tbl = db[table]
    if not tbl.exists():
        # No primary key: rows of a tick are only ever written once (catch-up) or deleted
        # and rewritten (regeneration); one index on tick serves every time-window read.
        tbl.create(types, if_not_exists=True)
        tbl.create_index(["tick"], if_not_exists=True)
        return
    have = set(tbl.columns_dict)
    for col, typ in types.items():
        if col not in have:
            tbl.add_column(col, typ)
