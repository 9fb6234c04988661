"""Benchmark: the team's incident store — appends with 1 and 8 writer processes, and the time
another console takes to see an event, on SQLite and on PostgreSQL 15 (issue 14).

Every writer and follower is a process of its own with its own store, as each console and
CLI is. Two measures per store configuration:

  * appends  1 writer; 8 writers on one shared incident; 8 writers on 8 incidents (one
             each). Each writer makes --warmup appends (not timed), waits for the others,
             then times its share of --appends ``store.append(iid, "note", …)`` calls
             one by one (wall time, median and p99; every row has as many samples) and
             the run's appends/s (every writer's appends over the span from the first
             start to the last end). Afterwards every chain is
             verified (``store.verify_chain()``: link by link, each chain's end against its
             head) and its length checked; a refused append is counted and its error kept.
  * follow   one process appends a note every --interval seconds carrying ``time.time_ns()``
             in its payload (the send time, taken before the append), --events in all;
             another follows the incident exactly as the console and ``rollbook incident
             follow`` do (``console.live.follow``) and records arrival − send per event (and
             arrival − commit, the time the writer's append returned). Same host clock. On
             PostgreSQL the follower wakes on LISTEN/NOTIFY; on SQLite it polls the store
             every ``console.live.POLL_S`` (0.2 s), so SQLite's latency is bounded by the
             poll, not by the store.

Store configurations (--configs):

  sqlite            the default store as shipped: a file in a temp dir, WAL, synchronous=FULL
                    (one flush to disk per commit);
  postgres          Debian's PostgreSQL 15 with fsync on, as a team's server runs (a WAL
                    flush per commit): the like-for-like peer of ``sqlite``;
  postgres-nofsync  the same server with fsync off, as the tests start it;
  sqlite-nosync     SQLite with synchronous=OFF on the writers' connections (no flush), the
                    peer of ``postgres-nofsync``.

The servers run as the ``postgres`` user (when we are root) on free ports in temp dirs and
are stopped by PID. Ratios are taken within this run: 8 writers / 1 writer, PostgreSQL /
SQLite, follow latency / the poll interval. The machine's load average is printed before and
after (its 2 cores are shared). Writes benchmarks/results/store.md and .json.

    python benchmarks/store.py [--appends 800] [--events 200] [--interval 0.05]
                               [--configs sqlite,postgres,postgres-nofsync,sqlite-nosync]
    python benchmarks/store.py --quick      # 80 appends, 40 events; writes no results
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path[:0] = [str(ROOT), str(ROOT / "examples" / "local-stack")]  # spawned children too

CONFIGS = ("sqlite", "postgres", "postgres-nofsync", "sqlite-nosync")
SCENARIOS = (  # name, writer processes, which incident each appends to
    ("1 writer", 1, "one"),
    ("8 writers, 1 incident", 8, "one"),  # one shared incident
    ("8 writers, 8 incidents", 8, "own"),  # one each
)
PEER = {"postgres": "sqlite", "postgres-nofsync": "sqlite-nosync"}  # same flushing


def open_store(config: str, where: str) -> Any:
    """A new store object (its own connection) for ``config`` at ``where`` (path or DSN)."""
    if config.startswith("sqlite"):
        from console.store.sqlite import SqliteStore

        store = SqliteStore(where)
        if config == "sqlite-nosync":
            # this connection only: commits are not flushed (the peer of fsync=off)
            store._db.execute("PRAGMA synchronous=OFF")
        return store
    from console.store.postgres import PostgresStore

    return PostgresStore(where)


def new_incident(store: Any, title: str) -> str:
    inc = store.create_incident(
        title=title, model="churn", severity="SEV3", env="bench", actor="bench", at=now()
    )
    return str(inc.id)


def now() -> datetime:
    return datetime.now(UTC)


# ---- children (each a process with its own store, as each console is) ---------------------
def context() -> Any:
    """Fresh processes forked from a server that has imported the store once: a console's
    own start-up (imports, ~0.4 s here) is not what is measured, and eight of them at once
    would take seconds of the shared cores. Each child opens its own connection."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["console.store.sqlite", "console.store.postgres", "console.live"])
    return ctx


def _writer(config, where, iid, n, warmup, actor, ready, go, out) -> None:
    """Append ``warmup`` untimed notes, wait for ``go``, then time ``n`` appends."""
    try:
        store = open_store(config, where)
        for i in range(warmup):
            store.append(iid, "note", f"{actor} warm-up {i}", actor=actor)
    except BaseException as exc:  # the parent stops the run and says why
        ready.put(repr(exc))
        return
    ready.put(None)
    go.wait()
    lat: list[int] = []
    refused: list[str] = []
    start = time.monotonic_ns()  # CLOCK_MONOTONIC: one clock for every process on the host
    for i in range(n):
        t = time.perf_counter_ns()
        try:
            store.append(iid, "note", f"{actor} note {i}", actor=actor)
        except Exception as exc:  # a refused append is a result, reported, not a crash
            refused.append(repr(exc))
            continue
        lat.append(time.perf_counter_ns() - t)
    end = time.monotonic_ns()
    store.close()
    out.put({"lat_ns": lat, "refused": refused, "start": start, "end": end, "warmup": warmup})


def _sender(config, where, iid, n, interval, ready, out) -> None:
    """Append ``n`` notes every ``interval`` s, each carrying its send time."""
    store = open_store(config, where)
    if not ready.wait(120):
        out.put({"error": "the follower did not start within 120 s"})
        return
    sent: dict[int, tuple[int, int]] = {}
    t0 = time.monotonic()
    for k in range(n):
        delay = t0 + k * interval - time.monotonic()  # a fixed schedule: no drift
        if delay > 0:
            time.sleep(delay)
        send = time.time_ns()
        ev = store.append(iid, "note", f"ping {k}", actor="sender", payload={"sent_ns": send})
        sent[ev.position] = (send, time.time_ns())
    store.close()
    out.put(sent)


def _follower(config, where, iid, n, timeout, ready, out) -> None:
    """Follow ``iid`` through ``console.live.follow`` until ``n`` pings have arrived."""
    from console.live import follow

    arrivals: dict[int, int] = {}
    statuses: list[str] = []
    deadline = time.monotonic() + timeout

    def on_event(ev) -> None:
        at = time.time_ns()
        ready.set()  # the first event (the catch-up) means the follower is listening
        if "sent_ns" in ev.payload:
            arrivals[ev.position] = at

    follow(
        lambda: open_store(config, where),
        iid,
        on_event=on_event,
        on_status=statuses.append,
        stop=lambda: len(arrivals) >= n or time.monotonic() > deadline,
    )
    out.put({"arrivals": arrivals, "statuses": statuses})


# ---- measures -------------------------------------------------------------------------------
def summary(ns: list[int]) -> dict[str, float]:
    """Milliseconds: median, p99 (nearest rank: with 200 samples the 2nd largest), max and
    mean ({"n": 0} for no samples)."""
    ms = sorted(x / 1e6 for x in ns)
    if not ms:
        return {"n": 0}
    p99 = ms[max(0, -(-99 * len(ms) // 100) - 1)]
    med, mean = statistics.median(ms), statistics.fmean(ms)
    return {"n": len(ms), "median": med, "p99": p99, "max": ms[-1], "mean": mean}


def appends(
    config: str, where: str, name: str, writers: int, spread: str, n: int, warmup: int
) -> dict:
    with open_store(config, where) as store:
        incs = [new_incident(store, name) for _ in range(1 if spread == "one" else writers)]
    ctx = context()
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=_writer,
            args=(config, where, incs[k % len(incs)], n, warmup, f"w{k}", ready, go, out),
        )
        for k in range(writers)
    ]
    for p in procs:
        p.start()
    try:
        errors = [e for e in (ready.get(timeout=120) for _ in procs) if e]
        if errors:
            raise SystemExit(f"{config}: a writer could not start: {errors[0]}")
        go.set()
        runs = [out.get(timeout=600) for _ in procs]
    finally:
        for p in procs:
            p.join(30)
    lat = [x for r in runs for x in r["lat_ns"]]
    refused = [e for r in runs for e in r["refused"]]
    span_s = (max(r["end"] for r in runs) - min(r["start"] for r in runs)) / 1e9
    with open_store(config, where) as store:
        report = store.verify_chain()
        heads = store.heads()
    # every incident's chain: its opening event, then exactly the appends that landed on it
    landed = writers * warmup + len(lat)
    lengths = sum(heads[i][0] for i in incs)
    return {
        "writers": writers,
        "incidents": len(incs),
        "appends": len(lat),
        "latency_ms": summary(lat),
        "appends_per_s": len(lat) / span_s if span_s else 0.0,
        "span_s": span_s,
        "refused": len(refused),
        "refused_errors": sorted(set(refused))[:5],
        "chains_ok": report.ok and lengths == len(incs) + landed,
        "chain_problem": report.problem
        or (None if lengths == len(incs) + landed else f"{lengths} events, {landed} expected"),
    }


def follow_latency(config: str, where: str, n: int, interval: float) -> dict:
    with open_store(config, where) as store:
        iid = new_incident(store, "followed")
    ctx = context()
    ready, out_s, out_f = ctx.Event(), ctx.Queue(), ctx.Queue()
    timeout = n * interval + 60
    follower = ctx.Process(target=_follower, args=(config, where, iid, n, timeout, ready, out_f))
    sender = ctx.Process(target=_sender, args=(config, where, iid, n, interval, ready, out_s))
    follower.start()
    sender.start()
    try:
        sent = out_s.get(timeout=timeout + 60)
        if "error" in sent:
            raise SystemExit(f"{config}: {sent['error']}")
        got = out_f.get(timeout=timeout + 60)
    finally:
        for p in (sender, follower):
            p.join(30)
    arrivals = got["arrivals"]
    missing = sorted(set(sent) - set(arrivals))
    after_send = [arrivals[p] - sent[p][0] for p in sent if p in arrivals]
    after_commit = [arrivals[p] - sent[p][1] for p in sent if p in arrivals]
    return {
        "events": len(sent),
        "missing": len(missing),
        "statuses": got["statuses"],
        "after_send_ms": summary(after_send),
        "after_commit_ms": summary(after_commit),
    }


# ---- servers and places ---------------------------------------------------------------------
class Places:
    """A temp dir per SQLite store and a fresh database per PostgreSQL one; the servers are
    started on first use and stopped by PID in ``close``."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="rb-bench-store-"))
        self.servers: dict[str, Any] = {}
        self.dirs: list[Path] = [self.tmp]

    def new(self, config: str) -> str:
        if config.startswith("sqlite"):
            return str(Path(tempfile.mkdtemp(dir=self.tmp)) / "incidents.db")
        import psycopg

        server = self.servers.get(config) or self._start(config)
        name = f"rb_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server.dsn, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return str(server.dsn.replace("dbname=postgres", f"dbname={name}"))

    def _start(self, config: str) -> Any:
        from postgres import PostgresServer, postgres_bin

        if postgres_bin() is None:
            raise SystemExit("PostgreSQL server binaries missing (apt-get install postgresql)")
        workdir = Path(tempfile.mkdtemp(prefix="rb-bench-pg-"))
        self.dirs.append(workdir)
        server = PostgresServer(workdir, max_connections=40, fsync=config == "postgres")
        self.servers[config] = server  # stopped in close() even when it fails to come up
        t = time.perf_counter()
        server.launch().wait()
        print(f"{config}: PostgreSQL up in {time.perf_counter() - t:.2f} s", flush=True)
        return server

    def close(self) -> None:
        for server in self.servers.values():
            stop_postgres(server)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


def stop_postgres(server: Any) -> None:
    """A fast shutdown (SIGINT) sent to the postmaster's own PID, then ``server.stop()``
    (a no-op once it has exited). As root ``server.proc`` is ``runuser``, which does not pass
    SIGINT on: ``stop()`` alone waits 10 s and then SIGKILLs the server."""
    pidfile = server.workdir / "data" / "postmaster.pid"
    if server.proc is not None and server.proc.poll() is None and pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError, subprocess.TimeoutExpired):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGINT)
            server.proc.wait(10)
    server.stop()


# ---- report ---------------------------------------------------------------------------------
def tables(res: dict, configs: list[str], poll_s: float) -> str:
    """Two Markdown tables (appends, follow) with the ratios taken within this run."""

    def ms(x: float) -> str:
        return f"{x:.2f}" if x < 10 else f"{x:.0f}"

    def vs_peer(c: str, pick) -> str:
        peer = PEER.get(c)
        if peer not in res:
            return "—"
        return f"{pick(res[c]) / pick(res[peer]):.2f}×"

    lines = [
        "| store | writers | per append: median · p99 · max (ms) | median vs 1 writer | appends/s "
        "| PostgreSQL / SQLite peer: median · appends/s | refused | chains |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in configs:
        one = res[c]["appends"]["1 writer"]["latency_ms"]["median"]
        for name, r in res[c]["appends"].items():
            lat = r["latency_ms"]
            med = vs_peer(c, lambda x, n=name: x["appends"][n]["latency_ms"]["median"])
            rate = vs_peer(c, lambda x, n=name: x["appends"][n]["appends_per_s"])
            lines.append(
                f"| {c} | {name} | {ms(lat['median'])} · {ms(lat['p99'])} · {ms(lat['max'])} "
                f"| {lat['median'] / one:.1f}× | {r['appends_per_s']:,.0f} "
                f"| {med if med == '—' else med + ' · ' + rate} | {r['refused']} "
                f"| {'verified' if r['chains_ok'] else r['chain_problem']} |"
            )
    lines += [
        "",
        "| store | event → other console: median · p99 (ms) | commit → other console: "
        f"median · p99 (ms) | median / poll ({poll_s} s) | PostgreSQL / SQLite peer "
        "| events (missing) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in configs:
        f = res[c]["follow"]
        a, b = f["after_send_ms"], f["after_commit_ms"]
        poll = f"{a['median'] / (poll_s * 1000):.2f}" if c.startswith("sqlite") else "no poll"
        lines.append(
            f"| {c} | {ms(a['median'])} · {ms(a['p99'])} | {ms(b['median'])} · {ms(b['p99'])} "
            f"| {poll} | {vs_peer(c, lambda x: x['follow']['after_send_ms']['median'])} "
            f"| {f['events']} ({f['missing']}) |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--appends", type=int, default=800, help="timed appends per row, shared")
    ap.add_argument("--warmup", type=int, default=5, help="untimed appends per writer first")
    ap.add_argument("--events", type=int, default=200, help="events the follower times")
    ap.add_argument("--interval", type=float, default=0.05, help="seconds between events")
    ap.add_argument("--configs", default=",".join(CONFIGS), help=", ".join(CONFIGS))
    ap.add_argument("--quick", action="store_true", help="80 appends, 40 events, no results")
    args = ap.parse_args()
    if args.quick:
        args.appends, args.events = 80, 40
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if unknown := set(configs) - set(CONFIGS):
        ap.error(f"unknown configs: {', '.join(sorted(unknown))}")

    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} (cores: {os.cpu_count()})", flush=True)
    t_run = time.perf_counter()
    places = Places()
    res: dict[str, dict[str, Any]] = {c: {"appends": {}} for c in configs}
    try:
        # one scenario on every configuration back to back, so a change in the machine's
        # load or the disk's flush time falls on the peers alike
        for name, writers, spread in SCENARIOS:
            for c in configs:
                n = args.appends // writers
                r = appends(c, places.new(c), name, writers, spread, n, args.warmup)
                res[c]["appends"][name] = r
                lat = r["latency_ms"]
                print(
                    f"{time.perf_counter() - t_run:5.1f}s {c:16} {name:23} "
                    f"median {lat['median']:7.2f} ms  p99 {lat['p99']:7.2f} ms"
                    f"  {r['appends_per_s']:7.0f}/s  refused {r['refused']}"
                    f"  chains {'ok' if r['chains_ok'] else r['chain_problem']}",
                    flush=True,
                )
        for c in configs:
            f = follow_latency(c, places.new(c), args.events, args.interval)
            res[c]["follow"] = f
            a = f["after_send_ms"]
            print(
                f"{time.perf_counter() - t_run:5.1f}s {c:16} {'follow':23} "
                f"median {a['median']:7.2f} ms  p99 {a['p99']:7.2f} ms"
                f"  missing {f['missing']} of {f['events']}",
                flush=True,
            )
    finally:
        places.close()
    load_after = os.getloadavg()
    elapsed = time.perf_counter() - t_run
    print(f"load average after: {load_after[0]:.2f}; {elapsed:.0f} s in all", flush=True)

    from console.live import POLL_S

    text = tables(res, configs, POLL_S)
    note = (
        f"\n\n{args.appends} timed appends per row, shared among its writers, each writer "
        f"after {args.warmup} untimed ones; "
        f"{args.events} followed events, one every {args.interval * 1000:.0f} ms. Every writer "
        "and follower is a process with its own store. p99 is the nearest rank. 2 cores "
        f"shared with other engineers' jobs: load average {load_before[0]:.2f} before and "
        f"{load_after[0]:.2f} after the run ({elapsed:.0f} s). `postgres` runs with fsync on "
        "and `sqlite` with synchronous=FULL (a flush per commit each); `postgres-nofsync` "
        "(as the tests start it) and `sqlite-nosync` flush nothing."
    )
    print(text + note)
    if args.quick:
        return  # a smoke run: the results files keep the last full run
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "store.md").write_text(text + note + "\n", encoding="utf-8")
    payload = {
        "appends_per_row": args.appends,
        "warmup": args.warmup,
        "events": args.events,
        "interval_s": args.interval,
        "load": [load_before[0], load_after[0]],
        "seconds": elapsed,
        "results": res,
    }
    (RESULTS / "store.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
