"""The scaled clock's speed: checked before it is saved, repaired when a saved one is bad."""

from __future__ import annotations

import math
import sqlite3
from datetime import timedelta

import pytest

from console.backends.plugin import PluginContext
from console.clock import MAX_SPEED, ManualClock
from console.errors import ConfigError, InvalidInput
from plugins.embedded import plugin
from plugins.embedded.engine import from_ts
from plugins.embedded.world import EmbeddedWorld
from tests.embedded.conftest import START

BAD = [math.inf, -math.inf, math.nan, 0.0, -1.0, 1e300, MAX_SPEED + 1]


def world_row(path) -> tuple:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT speed, anchor_sim, anchor_wall, revision FROM world").fetchone()
    db.close()
    return row


@pytest.mark.parametrize("speed", BAD)
def test_set_speed_refuses_a_speed_no_clock_can_run_at_and_saves_nothing(env, speed):
    before = world_row(env.world.path)
    with pytest.raises(InvalidInput, match="finite number above 0"):
        env.world.set_speed(speed)
    assert world_row(env.world.path) == before


def test_set_speed_accepts_the_limit(env):
    env.world.set_speed(MAX_SPEED)
    assert env.world.speed == MAX_SPEED


@pytest.mark.parametrize("speed", BAD)
def test_a_new_world_and_the_config_option_refuse_it_too(tmp_path, speed):
    with pytest.raises(InvalidInput):
        EmbeddedWorld(tmp_path / "w.db", speed=speed)
    assert not (tmp_path / "w.db").exists()
    ctx = PluginContext("x", tmp_path, clock=ManualClock(START))
    with pytest.raises(ConfigError, match="speed"):
        plugin.roles["world"](ctx, {"speed": speed})


@pytest.mark.parametrize(
    ("stored", "says"),
    [
        ({"speed": math.inf}, "got inf"),
        ({"speed": math.nan}, "missing or NaN"),  # SQLite keeps a NaN as NULL
        ({"speed": -3.0}, "got -3.0"),
        ({"speed": 1e300}, "got 1e+300"),
        ({"anchor_sim": math.inf}, "clock anchor"),
        # a legal speed left running since 1970 has run past the year 9999
        ({"speed": MAX_SPEED, "anchor_wall": 0.0}, "no longer gives a time"),
    ],
)
def test_a_world_saved_with_a_bad_clock_is_repaired_once_on_open(make_env, capsys, stored, says):
    path = make_env().world.path
    with sqlite3.connect(path) as db:
        until = db.execute("SELECT simulated_until FROM world").fetchone()[0]
        columns = ", ".join(f"{c} = ?" for c in stored)
        db.execute(f"UPDATE world SET {columns} WHERE id = 1", tuple(stored.values()))
    db.close()
    capsys.readouterr()

    world = EmbeddedWorld(path)  # the wall-scaled clock, as `rollbook` opens it
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and says in err and "reset to speed 1" in err
    assert world.speed == 1.0
    now = world.now()  # no OverflowError, and time does not run back behind the data
    assert from_ts(until) <= now < from_ts(until) + timedelta(minutes=1)
    world.close()

    EmbeddedWorld(path).close()
    assert capsys.readouterr().err == ""  # said once: the repair was saved


def test_a_good_world_opens_silently_and_unchanged(make_env, capsys):
    path = make_env().world.path
    before = world_row(path)
    capsys.readouterr()
    EmbeddedWorld(path).close()
    assert capsys.readouterr().err == "" and world_row(path) == before
