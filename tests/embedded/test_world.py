"""Seeding, determinism, catch-up, the shared file and the clock."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from console.backends.interfaces import World
from console.errors import BackendError, InvalidInput, NotFound
from plugins.embedded.fleet import FLEET
from plugins.embedded.noise import key_of, normal
from plugins.embedded.simulator import ModelState, simulate
from plugins.embedded.world import EmbeddedWorld
from tests.embedded.conftest import START, open_env

TABLES = (
    "metrics",
    "samples_churn",
    "samples_recommendations",
    "samples_credit_score",
    "samples_fraud",
    "samples_pricing",
)


def dump(world: EmbeddedWorld) -> dict[str, list[tuple]]:
    out = {"metrics": world.q("SELECT * FROM metrics ORDER BY model, signal, version, ts")}
    now = world.now_ts()
    for model in ("credit-score", "fraud"):  # prediction logs are materialised on read
        table = world.materialize_samples(model, now - 8 * 3600, now)
        out[table] = world.q(f"SELECT * FROM {table} ORDER BY tick, row")
    return out


def story(env, before: list[int], after: list[int]) -> dict[str, list[tuple]]:
    """Inject, advance, roll back at +45 min, advance to +95 min — with the clock moved in
    the given chunks (minutes) and the world advanced after each."""
    assert sum(before) == 45 and sum(after) == 50
    env.world.inject("credit-score-shift")
    env.world.inject("segment-drift")
    for minutes in before:
        now = env.minutes(minutes)
        env.world.advance()
        if len(before) > 1:  # read some prediction logs early, before the rollback
            env.predictions.samples("credit-score", now - timedelta(minutes=20), now)
    env.traffic.set_routes("credit-score", {"v4": 100}, actor="t")
    for minutes in after:
        env.minutes(minutes)
        env.metrics.query("prediction_mean", "credit-score")  # a read catches up too
    return dump(env.world)


def test_seeding_is_fast_and_seeds_a_day_of_history(tmp_path):
    t0 = time.perf_counter()
    env = open_env(tmp_path / "w.db")
    elapsed = time.perf_counter() - t0
    ticks = env.world.q("SELECT MIN(ts), MAX(ts), COUNT(DISTINCT ts) FROM metrics")[0]
    assert ticks[1] == START.timestamp()
    assert ticks[2] == 1440 and ticks[1] - ticks[0] == 1439 * 60
    assert elapsed < 3.0, f"seeding took {elapsed:.2f}s"  # ~0.5 s on an idle laptop
    rows = env.predictions.samples("fraud", START - timedelta(days=2), START)
    assert len(rows) == 1440 * 20 and rows["ts"].min() > START - timedelta(days=1)


def test_same_seed_same_series_whatever_the_chunking(make_env):
    one = story(make_env("one"), [45], [50])
    many = story(make_env("many"), [7, 1, 13, 24], [0.5, 20, 29.5])
    assert one.keys() == many.keys()
    for table in one:
        assert len(one[table]) > 1000, table
        assert one[table] == many[table], table


def test_another_seed_gives_other_numbers():
    ticks = np.arange(START.timestamp() - 3600, START.timestamp(), 60, dtype=np.int64)
    state = ModelState(routes=[(0.0, {"v21": 100.0})])
    a = simulate(7, "fraud", ticks, state)[("", "error_rate")][1]
    again = simulate(7, "fraud", ticks, state)[("", "error_rate")][1]
    b = simulate(8, "fraud", ticks, state)[("", "error_rate")][1]
    assert np.array_equal(a, again)
    assert not np.allclose(a, b)


def test_keyed_noise_does_not_depend_on_order():
    key = key_of(7, "fraud", "v21", "error_rate")
    counters = np.arange(1000, 2000)
    whole = normal(key, counters)
    parts = np.concatenate([normal(key, counters[500:])[::-1][::-1], normal(key, counters[:500])])
    assert np.array_equal(whole, np.concatenate([parts[500:], parts[:500]]))
    assert abs(whole.mean()) < 0.15 and 0.85 < whole.std() < 1.15


def test_reopening_an_existing_world_does_not_duplicate_rows(env):
    now = env.minutes(5)
    for model in FLEET:
        env.predictions.samples(model, now - timedelta(hours=2), now)
    before = {
        t: env.world.q(f"SELECT COUNT(*) FROM {t}")[0][0]
        for t in (*TABLES, "models", "versions", "stage_history", "route_log")
    }
    again = open_env(env.world.path, start=now, seed=99)
    for model in FLEET:
        again.predictions.samples(model, now - timedelta(hours=3), now)
    again = again.world
    after = {t: again.q(f"SELECT COUNT(*) FROM {t}")[0][0] for t in before}
    assert {t: n for t, n in after.items() if not t.startswith("samples")} == {
        t: n for t, n in before.items() if not t.startswith("samples")
    }
    for t in TABLES[1:]:  # one more hour of logs was read, nothing was written twice
        dup = again.q(
            f"SELECT COUNT(*) FROM (SELECT tick, row FROM {t} GROUP BY tick, row"
            " HAVING COUNT(*) > 1)"
        )[0][0]
        assert dup == 0 and after[t] > before[t]
    assert again.seed == 7  # an existing world keeps its own seed


def test_catch_up_after_a_long_gap_keeps_only_the_last_day(env):
    env.clock.advance(days=4)
    value = env.q("request_rate", "fraud")
    assert value > 0
    lo, hi = env.world.q("SELECT MIN(ts), MAX(ts) FROM metrics")[0]
    now = env.clock.now().timestamp()
    assert hi == now and lo > now - 3 * 86400 - 60
    recent = env.world.q("SELECT COUNT(DISTINCT ts) FROM metrics WHERE ts > ?", (now - 86400,))
    assert recent[0][0] == 1440


def test_two_worlds_on_one_file_share_routes_faults_and_breakages(env):
    other = open_env(env.world.path)
    env.world.inject("pricing-zero")
    env.traffic.set_routes("pricing", {"v2": 90, "v3": 10}, actor="t")
    assert other.traffic.routes("pricing") == {"v2": 90.0, "v3": 10.0}
    assert [f["scenario"] for f in other.world.active_faults()] == ["pricing-zero"]
    assert other.q("error_rate", "pricing", version="v3") > 0.9
    other.world.break_backend("registry", "models", times=1)
    with pytest.raises(BackendError):
        env.registry.models()
    assert env.registry.models()  # the one failure was consumed by the first world


def test_scaled_clock_anchor_is_shared_and_set_speed_does_not_jump(tmp_path):
    a = EmbeddedWorld(tmp_path / "w.db", speed=60.0)
    today = datetime.now(UTC).date()
    assert a.now() - datetime.combine(today, datetime.min.time(), UTC) >= timedelta(
        hours=6, minutes=52
    )
    b = EmbeddedWorld(tmp_path / "w.db")
    assert abs((a.now() - b.now()).total_seconds()) < 30  # 60x: half a wall second
    before = a.now()
    a.set_speed(1.0)
    after = b.now()
    assert timedelta(0) <= after - before < timedelta(seconds=30)
    assert b.speed == 1.0
    with pytest.raises(InvalidInput):
        a.set_speed(0)


def test_world_role_contract(env):
    world: World = env.world
    assert set(world.scenarios()) == {
        "athena-null-feature",
        "constant-recommendations",
        "credit-score-shift",
        "canary-latency-spike",
        "canary-error-creep",
        "pricing-zero",
        "segment-drift",
        "fraud-concept-drift",
    }
    assert world.now() == START
    with pytest.raises(NotFound):
        world.inject("no-such-fault")
    assert world.active_faults() == []


def test_a_subprocess_sees_injected_breakage_and_routes(env):
    env.world.break_backend("traffic", "set_routes", times=1)
    code = (
        "import sys\n"
        "from plugins.embedded.world import EmbeddedWorld\n"
        "from plugins.embedded.traffic import EmbeddedTraffic\n"
        "from console.errors import BackendError\n"
        f"t = EmbeddedTraffic(EmbeddedWorld({str(env.world.path)!r}))\n"
        "try:\n"
        "    t.set_routes('fraud', {'v21': 100}, actor='child')\n"
        "except BackendError:\n"
        "    print('broken', t.routes('fraud'))\n"
        "    sys.exit(5)\n"
    )
    env.world.close()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 5, proc.stderr
    assert "broken {'v21': 100.0}" in proc.stdout
    env.traffic.set_routes("fraud", {"v21": 90, "v20": 10}, actor="t")  # failure consumed
