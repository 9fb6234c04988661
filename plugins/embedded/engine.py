"""The simulation engine under ``EmbeddedWorld``: one SQLite file, its clock, and lazy
catch-up of the generated signals and prediction logs.

All roles of a connection share one world. State that matters to another process — the
clock anchor, routes, batch pauses, faults, injected backend failures — lives in the file, so
``rollbook demo`` in one terminal and the TUI in another see the same world.

Signals are generated lazily: every read first advances the simulation to now (at most the
last 24 h after a long gap). Prediction-log rows are materialised on the first read of their
window — the same rows, since every row is a pure function of the logs and its tick.
A state change at time c only alters ticks after c, except an injection with a past onset,
which regenerates the model's series from the onset.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np

from console.clock import Clock, ScaledClock, speed_problem
from console.errors import BackendError, InvalidInput
from plugins.embedded import db as schema
from plugins.embedded import samples, seed_data, simulator
from plugins.embedded.dynamics import Episode
from plugins.embedded.fleet import FLEET
from plugins.embedded.simulator import ModelState

HISTORY_S = 86400  # history seeded on first use, and the most a catch-up regenerates
KEEP_S = 3 * 86400  # older ticks are pruned after a long gap


def to_ts(dt: datetime) -> float:
    if dt.tzinfo is None:
        raise InvalidInput(f"time {dt!r} has no timezone", hint="pass a UTC-aware datetime")
    return dt.timestamp()


def from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _is_ts(value: object) -> bool:
    """Whether ``value`` is a POSIX timestamp a datetime can hold (up to 9999-12-31 23:59:59
    UTC); NaN, ±inf and None are not."""
    return isinstance(value, int | float) and abs(value) <= 253402300799


def floor_minute(ts: float) -> int:
    return int(ts // 60) * 60


class SimulationEngine:
    """Persistence, time and catch-up; ``EmbeddedWorld`` adds the World role on top.
    Thread-safe; safe to open the same file from several processes."""

    def __init__(
        self,
        path: Path | str,
        *,
        seed: int = 7,
        speed: float = 1.0,
        clock: Clock | None = None,
        thresholds: Mapping[str, float] | None = None,
    ):
        self.path = Path(path)
        self.seed = int(seed)
        self.thresholds = dict(thresholds or {})
        self._clock = clock
        if problem := speed_problem(speed):
            raise InvalidInput(f"speed {problem}", hint="e.g. speed=60 (a minute per second)")
        self._initial_speed = float(speed)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._cache: dict[str, tuple[Any, Any]] = {}
        self._ensure_seeded()

    # ---- connection and transactions ---------------------------------------------------
    @property
    def lock(self) -> threading.RLock:
        """Held around every use of the shared connection (Textual workers are threads)."""
        return self._lock

    @property
    def db(self) -> sqlite3.Connection:
        with self._lock:
            if self._db is None:
                self._db = schema.connect(self.path)
            return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def tx(self) -> Iterator[Any]:
        """An IMMEDIATE transaction (one writer across processes) under the thread lock."""
        with self._lock:
            conn = self.db
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql, args).fetchall()

    def _world_row(self) -> dict[str, Any]:
        with self._lock:
            cur = self.db.execute("SELECT * FROM world WHERE id = 1")
            row = cur.fetchone()
        if row is None:
            raise BackendError(f"embedded world {self.path} is not seeded")
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def revision(self) -> int:
        return int(self.q("SELECT revision FROM world WHERE id = 1")[0][0])

    # ---- time --------------------------------------------------------------------------
    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock.now()
        with self._lock:
            w = self._world_row()
        return ScaledClock(from_ts(w["anchor_sim"]), w["anchor_wall"], w["speed"]).now()

    def now_ts(self) -> float:
        return to_ts(self.now())

    def set_speed(self, speed: float) -> None:
        """Simulated seconds per wall second from now on, re-anchored so time does not jump.
        Persisted for every process; no effect on a world driven by an explicit clock.
        Checked before anything is saved: NaN, ±inf, zero, negatives and speeds above
        ``console.clock.MAX_SPEED`` raise ``InvalidInput`` and leave the world as it was."""
        if problem := speed_problem(speed):
            raise InvalidInput(f"speed {problem}", hint="e.g. --speed 60 (a minute per second)")
        sim = self.now_ts()
        with self.tx() as conn:
            conn.execute(
                "UPDATE world SET anchor_sim = ?, anchor_wall = ?, speed = ?,"
                " revision = revision + 1 WHERE id = 1",
                (sim, time.time(), speed),
            )

    @property
    def speed(self) -> float:
        return float(self.q("SELECT speed FROM world WHERE id = 1")[0][0])

    # ---- seeding and catch-up ----------------------------------------------------------
    def _ensure_seeded(self) -> None:
        with self.tx() as conn:
            row = conn.execute("SELECT seed FROM world WHERE id = 1").fetchone()
            if row is not None:
                self.seed = int(row[0])  # an existing world keeps the seed it was made with
                created = False
                self._repair_clock(conn)
            else:
                if self._clock is not None:
                    seed_now = floor_minute(to_ts(self._clock.now()))
                else:  # the reference alert reads 06:47; the demo world starts at 06:52
                    today = datetime.now(UTC).date()
                    seed_now = datetime.combine(today, dtime(6, 52), UTC).timestamp()
                conn.execute(
                    "INSERT INTO world (id, seed, schema, anchor_sim, anchor_wall, speed,"
                    " seeded_at, simulated_until, revision) VALUES (1,?,?,?,?,?,?,?,0)",
                    (
                        self.seed,
                        schema.SCHEMA_VERSION,
                        seed_now,
                        time.time(),
                        self._initial_speed,
                        seed_now,
                        int(seed_now) - HISTORY_S,
                    ),
                )
                seed_data.insert_fleet(conn, seed_now)
                created = True
        if created:
            self.advance(from_ts(self._world_row()["seeded_at"]))

    def _repair_clock(self, conn: Any) -> None:
        """A world saved with a clock that cannot run — a speed no clock can run at (inf, NaN
        — stored as NULL —, zero, negative or absurdly large, by a version that checked too
        late), an anchor that is no time, or a fast clock left running until it passed the
        year 9999 — would make every read fail. Fall back to 1x from the last good simulated
        time and say so once on stderr (the repair is saved, so the next open is silent)."""
        speed, anchor_sim, anchor_wall, until = conn.execute(
            "SELECT speed, anchor_sim, anchor_wall, simulated_until FROM world WHERE id = 1"
        ).fetchone()
        problem = speed_problem(speed)
        anchor_ok = _is_ts(anchor_sim)
        if speed is None:  # SQLite stores a NaN as NULL
            why = "the saved speed is missing or NaN"
        elif problem:
            why = f"the saved speed {problem}"
        elif not anchor_ok:
            why = f"the saved clock anchor {anchor_sim!r} is not a time"
        elif isinstance(anchor_wall, int | float) and _is_ts(
            anchor_sim + (time.time() - anchor_wall) * speed
        ):
            return  # the clock runs
        else:
            why = f"the saved clock no longer gives a time (speed {speed:g} for too long)"
        # Time never runs back behind the ticks already generated.
        restart = max(float(until), float(anchor_sim)) if anchor_ok else float(until)
        conn.execute(
            "UPDATE world SET anchor_sim = ?, anchor_wall = ?, speed = 1.0,"
            " revision = revision + 1 WHERE id = 1",
            (restart, time.time()),
        )
        print(
            f"warning: embedded world {self.path}: {why}; reset to speed 1"
            f" (simulated time resumes at {from_ts(restart):%Y-%m-%d %H:%M} UTC)",
            file=sys.stderr,
        )

    def model_state(self, model: str) -> ModelState:
        routes = [
            (at, json.loads(w))
            for at, w in self.q(
                "SELECT at, weights FROM route_log WHERE model = ? ORDER BY at, id", (model,)
            )
        ]
        pauses = [
            (at, bool(p))
            for at, p in self.q(
                "SELECT at, paused FROM batch_log WHERE model = ? ORDER BY at, id", (model,)
            )
        ]
        episodes = [
            Episode(s, onset, cleared)
            for s, onset, cleared in self.q(
                "SELECT scenario, onset, cleared FROM faults WHERE model = ? ORDER BY id", (model,)
            )
        ]
        return ModelState(routes, pauses, episodes)

    def simulated_until(self) -> int:
        return int(self.q("SELECT simulated_until FROM world WHERE id = 1")[0][0])

    def advance(self, until: datetime | None = None) -> None:
        """Generate every minute tick up to ``until`` (default now). Idempotent; after a gap of
        more than 24 h only the last 24 h are generated."""
        target = floor_minute(to_ts(until) if until is not None else self.now_ts())
        with self._lock:
            for _ in range(5):
                last, rev = self.simulated_until(), self.revision()
                if target <= last:
                    return
                start = max(last + 60, target - HISTORY_S + 60)
                ticks = np.arange(start, target + 60, 60, dtype=np.int64)
                rows = [r for m in FLEET for r in self._metric_rows(m, ticks)]
                with self.tx() as conn:
                    now_last, now_rev = conn.execute(
                        "SELECT simulated_until, revision FROM world WHERE id = 1"
                    ).fetchone()
                    if now_rev != rev or now_last != last:
                        continue  # another writer moved first: regenerate from its state
                    self._write_metrics(conn, rows)
                    conn.execute("UPDATE world SET simulated_until = ? WHERE id = 1", (target,))
                    if target // 3600 != last // 3600:  # hourly: keep the file bounded
                        self._prune(conn, target - KEEP_S)
                return
            raise BackendError("embedded world: could not catch up (too much contention)")

    def catch_up(self) -> None:
        """What every read calls first."""
        self.advance()

    def _metric_rows(self, model: str, ticks: np.ndarray) -> list[tuple]:
        series = simulator.simulate(self.seed, model, ticks, self.model_state(model))
        return simulator.rows(model, ticks, series)

    @staticmethod
    def _write_metrics(conn: Any, rows: list[tuple]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO metrics (model, signal, version, ts, value) VALUES (?,?,?,?,?)",
            rows,
        )

    def _sample_tables(self) -> list[str]:
        names = set(schema.table_names(self.db))
        return [t for t in (schema.samples_table(m) for m in FLEET) if t in names]

    def _prune(self, conn: Any, before: int) -> None:
        conn.execute("DELETE FROM metrics WHERE ts < ?", (before,))
        for table in self._sample_tables():
            conn.execute(f"DELETE FROM {table} WHERE tick < ?", (before,))

    def regenerate(self, model: str, since: float) -> None:
        """Rebuild ``model``'s ticks from ``since`` to the simulated present after a change
        of its logs that reaches into already-generated time (prediction-log rows from there
        on are dropped and materialised again on the next read)."""
        with self._lock:
            last = self.simulated_until()
            first = max(-(-int(since) // 60) * 60, last - HISTORY_S + 60)
            if first > last:
                return
            rows = self._metric_rows(model, np.arange(first, last + 60, 60, dtype=np.int64))
            table = schema.samples_table(model)
            with self.tx() as conn:
                conn.execute("DELETE FROM metrics WHERE model = ? AND ts >= ?", (model, first))
                if table in self._sample_tables():
                    conn.execute(f"DELETE FROM {table} WHERE tick >= ?", (first,))
                self._write_metrics(conn, rows)
            self._cache.clear()

    def materialize_samples(self, model: str, lo: float, hi: float) -> str | None:
        """Make sure the prediction-log rows of every tick in [lo, hi] exist (generated on
        first read — the same rows the ticks would have logged). Returns the table name, or
        None when no tick of the window has been simulated."""
        first_tick = int(self._world_row()["seeded_at"]) - HISTORY_S + 60
        last = self.simulated_until()
        lo_tick = max(-(-int(lo) // 60) * 60, first_tick, last - KEEP_S)
        hi_tick = min(-(-int(hi) // 60) * 60, last)
        table = schema.samples_table(model)
        if hi_tick < lo_tick:
            return table if table in self._sample_tables() else None
        wanted = np.arange(lo_tick, hi_tick + 60, 60, dtype=np.int64)
        with self._lock:
            for _ in range(5):
                rev = self.revision()
                missing = self._missing_ticks(table, wanted)
                if not len(missing):
                    return table
                columns = samples.generate(self.seed, model, missing, self.model_state(model))
                schema.ensure_sample_columns(self.db, table, columns)
                with self.tx() as conn:
                    if conn.execute("SELECT revision FROM world").fetchone()[0] != rev:
                        continue  # the logs changed under us: generate again
                    keep = np.isin(columns["tick"], self._missing_ticks(table, wanted))
                    cols = list(columns)
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES"
                        f" ({', '.join('?' * len(cols))})",
                        zip(*(columns[c][keep].tolist() for c in cols), strict=True),
                    )
                return table
        raise BackendError("embedded world: could not write prediction logs (contention)")

    def _missing_ticks(self, table: str, wanted: np.ndarray) -> np.ndarray:
        if table not in self._sample_tables():
            return wanted
        have = self.q(
            f"SELECT DISTINCT tick FROM {table} WHERE tick >= ? AND tick <= ?",
            (int(wanted[0]), int(wanted[-1])),
        )
        return np.setdiff1d(wanted, np.array([h[0] for h in have], dtype=np.int64))

    def changed(self, model: str, at: float, record: str, args: tuple) -> None:
        """Append one row to a log (``record`` is its INSERT), bump the revision and rebuild
        any ticks the change reaches."""
        with self._lock:
            with self.tx() as conn:
                conn.execute(record, args)
                conn.execute("UPDATE world SET revision = revision + 1 WHERE id = 1")
            self._cache.clear()
            if at < self.simulated_until():
                self.regenerate(model, at)

    def cached(self, key: str, compute: Any) -> Any:
        """Memoise a derived view (alerts) until time or state moves."""
        with self._lock:
            stamp = (self.simulated_until(), self.revision())
            hit = self._cache.get(key)
            if hit is not None and hit[0] == stamp:
                return hit[1]
            value = compute()
            self._cache[key] = (stamp, value)
            return value

    # ---- routes and batch (used by the traffic role) ------------------------------------
    def current_routes(self, model: str) -> dict[str, float]:
        row = self.q(
            "SELECT weights FROM route_log WHERE model = ? ORDER BY at DESC, id DESC LIMIT 1",
            (model,),
        )
        return json.loads(row[0][0]) if row else {}

    def record_routes(
        self, model: str, weights: Mapping[str, float], *, actor: str, at: float | None = None
    ) -> None:
        self.catch_up()
        at = self.now_ts() if at is None else at
        self.changed(
            model,
            at,
            "INSERT INTO route_log (model, at, weights, actor) VALUES (?,?,?,?)",
            (model, at, json.dumps(dict(weights), sort_keys=True), actor),
        )

    def batch_paused(self, model: str) -> bool:
        row = self.q(
            "SELECT paused FROM batch_log WHERE model = ? ORDER BY at DESC, id DESC LIMIT 1",
            (model,),
        )
        return bool(row and row[0][0])

    def record_batch(self, model: str, paused: bool, *, actor: str) -> None:
        self.catch_up()
        at = self.now_ts()
        self.changed(
            model,
            at,
            "INSERT INTO batch_log (model, at, paused, actor) VALUES (?,?,?,?)",
            (model, at, int(paused), actor),
        )

    def route_values(self, model: str, route: str, ts: float) -> dict[str, float]:
        """One route's own signal values at ``ts`` (what a request sent straight to it
        would see), whatever its traffic share."""
        tick = np.array([floor_minute(ts)], dtype=np.int64)
        series = simulator.route_series(self.seed, model, route, tick, self.model_state(model))
        return {k: float(v[0]) for k, v in series.items()}
