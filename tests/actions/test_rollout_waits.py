"""A stage that measured nothing is not a strike; dwells follow the environment's clock."""

import time

import console.actions.rollout as ro
from console.actions.rollout import rollout, wait_on_clock


def decisions(ws, action_id):
    return [
        e.message
        for e in ws.store.events(all_incidents=True)
        if e.payload.get("action_id") == action_id and e.kind == "action.decision"
    ]


def test_nothing_measured_yet_waits_again_instead_of_striking(ws, world, monkeypatch):
    real = ro._window
    calls = {"n": 0}

    def first_canary_window_empty(ws_, model, version, minutes):
        w = real(ws_, model, version, minutes)
        if version == "v22" and calls["n"] == 0:
            calls["n"] += 1
            return {**w, "requests": 0, "error_rate": None}
        return w

    monkeypatch.setattr(ro, "_window", first_canary_window_empty)
    res = rollout(ws, "fraud", "v22", dwell_minutes=5)
    assert res.status == "applied", res.message
    msgs = decisions(ws, res.action_id)
    assert "nothing measured on v22 yet after 5 min" in msgs[0]
    assert msgs[1].startswith("stage 10%: passed") and "strike" not in " ".join(msgs)


def test_a_canary_that_never_gets_traffic_aborts_with_the_reason(ws, world, monkeypatch):
    real = ro._window

    def canary_dark(ws_, model, version, minutes):
        w = real(ws_, model, version, minutes)
        return {**w, "requests": 0, "error_rate": None} if version == "v22" else w

    monkeypatch.setattr(ro, "_window", canary_dark)
    res = rollout(ws, "fraud", "v22", dwell_minutes=5)
    assert (
        res.status == "failed" and "no traffic measured on v22 at 10% after 15 min" in res.message
    )
    assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}


class FastClock:
    """Simulated time at ``rate`` x the wall clock (a sped-up simulated world)."""

    def __init__(self, ws, rate: float = 600):
        self.start_wall, self.start, self.rate = time.monotonic(), ws.now(), rate

    def now(self):
        from datetime import timedelta

        return self.start + timedelta(seconds=(time.monotonic() - self.start_wall) * self.rate)


def test_a_dwell_waits_on_the_environments_clock(ws, monkeypatch):
    fast = FastClock(ws)
    monkeypatch.setattr(type(ws), "now", lambda self: fast.now())
    t = time.monotonic()
    wait_on_clock(ws, 300, poll=0.05)  # five simulated minutes
    assert time.monotonic() - t < 2.0
    assert (fast.now() - fast.start).total_seconds() >= 300


def test_a_dwell_in_a_fast_world_does_not_overshoot_by_a_whole_poll(ws, monkeypatch):
    """At 3000x a one-minute dwell is 0.02 s of wall time: the wait used to sleep a whole
    poll (1 s), i.e. 50 simulated minutes."""
    fast = FastClock(ws, rate=3000)
    monkeypatch.setattr(type(ws), "now", lambda self: fast.now())
    t = time.monotonic()
    wait_on_clock(ws, 60)  # the default poll: one second
    waited = (fast.now() - fast.start).total_seconds()
    assert time.monotonic() - t < 0.5
    assert 60 <= waited < 600, waited


def test_cli_rollout_reports_each_stage_as_it_happens_in_a_sped_up_world(ws, world):
    from click.testing import CliRunner

    from console.cli.main import cli

    world.set_speed(3000.0)  # a one-minute dwell takes a few hundredths of a second
    t = time.monotonic()
    r = CliRunner().invoke(cli, ["rollout", "fraud", "v22", "--dwell", "1", "--yes"])
    assert r.exit_code == 0, r.output
    assert time.monotonic() - t < 30
    lines = r.output.splitlines()
    order = [
        next(i for i, ln in enumerate(lines) if text in ln)
        for text in (
            "traffic 10%: ok",
            "collecting canary traffic for 1 min",
            "stage 10%: passed",
            "traffic 25%: ok",
            "stage 100%: passed",
            "APPLIED",
        )
    ]
    assert order == sorted(order)
