"""Homes for the chaos suite: one seeded template per scenario, copied for every run.

Seeding the embedded world takes about a second; copying its file takes milliseconds. A copy
gets its simulated clock re-anchored at the template's time (``anchor_wall`` = now), so every
run starts from the same simulated moment, however long the suite has been running.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WORLD_FILE = "embedded-demo.db"
STORE_FILE = "incidents.db"


@contextmanager
def connect(path: Path | str, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection closed at the end of the block (``with sqlite3.connect()`` alone only
    ends the transaction: the connection would close whenever the garbage collector gets to
    it — perhaps while a copy of the files is being made, deleting the WAL under it)."""
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@contextmanager
def home_env(home: Path, **extra: str) -> Iterator[None]:
    """``ROLLBOOK_HOME`` pointed at ``home`` (and ``extra`` variables set) for in-process
    work: building templates, which happens before any worker thread starts."""
    values = {"ROLLBOOK_HOME": str(home), **extra}
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def child_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLLBOOK_")}
    env.update(ROLLBOOK_HOME=str(home), ROLLBOOK_ACTOR="chaos", **extra)
    for key in ("ROLLBOOK_STORE_DSN",):
        if key in os.environ and key not in extra:
            env[key] = os.environ[key]
    return env


def world_path(home: Path) -> Path:
    return home / "data" / WORLD_FILE


def store_path(home: Path) -> Path:
    return home / "data" / STORE_FILE


def freeze(home: Path) -> None:
    """Record the world's simulated time now, for copies to start from."""
    with connect(world_path(home)) as c:
        anchor_sim, anchor_wall, speed = c.execute(
            "SELECT anchor_sim, anchor_wall, speed FROM world WHERE id = 1"
        ).fetchone()
    sim = anchor_sim + (time.time() - anchor_wall) * speed
    (home / "frozen.json").write_text(json.dumps({"sim": sim}))


def copy_home(template: Path, dest: Path, *, rewind: bool = True) -> Path:
    """A copy of ``template`` (config, world, store) at ``dest``; with ``rewind`` its clock
    restarts at the template's frozen simulated time."""
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns("locks", "*.out", "*.err"))
    if rewind:
        sim = json.loads((template / "frozen.json").read_text())["sim"]
        with connect(world_path(dest)) as c:
            c.execute(
                "UPDATE world SET anchor_sim = ?, anchor_wall = ?, revision = revision + 1"
                " WHERE id = 1",
                (sim, time.time()),
            )
    return dest


def copy_state(src: Path, dest: Path) -> Path:
    """A copy of a home as it is (no process may have it open), clock running on."""
    return copy_home(src, dest, rewind=False)


def repair(home: Path) -> None:
    """Forget every injected slowness/failure (what ``world.repair_backend()`` does)."""
    with connect(world_path(home)) as c:
        c.execute("DELETE FROM breakages")


def production(home: Path) -> dict[str, Any]:
    """``model → {"pointer", "routes", "stages"}`` read straight from the world's file."""
    with connect(world_path(home), readonly=True) as c:
        out: dict[str, Any] = {}
        for name, prod in c.execute("SELECT name, production FROM models"):
            row = c.execute(
                "SELECT weights FROM route_log WHERE model = ? ORDER BY at DESC, id DESC LIMIT 1",
                (name,),
            ).fetchone()
            stages = dict(c.execute("SELECT version, stage FROM versions WHERE model = ?", (name,)))
            out[name] = {
                "pointer": prod,
                "routes": {k: float(v) for k, v in json.loads(row[0]).items() if float(v)}
                if row
                else {},
                "stages": stages,
            }
    return out


def events(home: Path) -> list[tuple[int, str, str, str, dict]]:
    """Every timeline event ``(seq, chain, hash, kind, payload)`` of a SQLite store."""
    path = store_path(home)
    if not path.exists():
        return []
    with connect(path, readonly=True) as c:
        return [
            (int(s), ch, h, k, json.loads(p))
            for s, ch, h, k, p in c.execute(
                "SELECT seq, chain, hash, kind, payload FROM events ORDER BY seq"
            )
        ]
