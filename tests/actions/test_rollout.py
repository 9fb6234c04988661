import pytest

from console.actions.rollout import parse_stages, rollout
from console.errors import ActionRefused, InvalidInput


def decisions(ws, action_id):
    return [
        e
        for e in ws.store.events(all_incidents=True)
        if e.payload.get("action_id") == action_id and e.kind == "action.decision"
    ]


def test_good_version_reaches_100_and_becomes_production(ws, world):
    res = rollout(ws, "fraud", "v22", dwell_minutes=5)
    assert res.status == "applied", res.message
    assert ws.backends.traffic.routes("fraud") == {"v22": 100.0}
    assert ws.backends.registry.production_version("fraud") == "v22"
    ds = decisions(ws, res.action_id)
    assert [d.payload["stage"]["weight"] for d in ds] == [10, 25, 50, 100]
    assert all(d.payload["stage"]["passed"] for d in ds)
    test = ds[0].payload["stage"]["stats"]["canary_test"]
    assert test["non_inferior"] is True and test["margin"] == 0.005


def test_bad_version_steps_back_then_aborts_on_the_second_strike(ws, world):
    world.inject("canary-error-creep")  # v22 fails ~3% of requests: under the 5% guardrail
    res = rollout(ws, "fraud", "v22", stages=(10, 25, 50, 100), dwell_minutes=5)
    assert res.status == "failed" and "two strikes" in res.message
    assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}
    assert ws.backends.registry.production_version("fraud") == "v21"
    msgs = [d.message for d in decisions(ws, res.action_id)]
    assert msgs[0].startswith("stage 10%: failed")
    assert "first strike: stepping back to 0%" in msgs[1]
    assert msgs[2].startswith("stage 10%: failed")
    stats = decisions(ws, res.action_id)[0].payload["stage"]["stats"]
    assert stats["canary_test"]["non_inferior"] is False
    assert stats["canary"]["error_rate"] > 0.02 > stats["champion"]["error_rate"]
    assert ws.store.events(all_incidents=True)[-1].kind == "action.failed"


def test_severe_signal_aborts_at_once(ws, world):
    world.inject("canary-latency-spike")  # v22 p99 120 ms, over the 100 ms SLO
    ws.backends.traffic.set_routes("fraud", {"v21": 100.0}, actor="test")
    res = rollout(ws, "fraud", "v22", dwell_minutes=5)
    assert res.status == "failed" and "severe" in res.message and "latency" in res.message
    assert len(decisions(ws, res.action_id)) == 1
    assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}


def test_rollout_refusals_and_stage_parsing(ws):
    with pytest.raises(ActionRefused, match="already production"):
        rollout(ws, "fraud", "v21")
    assert parse_stages("10,25,50,100") == (10, 25, 50, 100)
    for bad in ("10,50", "50,25,100", "x,100", "0,100"):
        with pytest.raises(InvalidInput):
            parse_stages(bad)
    dry = rollout(ws, "fraud", "v22", dry_run=True)
    assert dry.status == "dry-run" and ws.backends.traffic.routes("fraud") == {"v21": 100.0}


def test_cli_rollout_dry_run_and_bad_stages(ws):
    import json

    from click.testing import CliRunner

    from console.cli.main import cli

    r = CliRunner().invoke(
        cli, ["rollout", "fraud", "v22", "--dry-run", "--json", "--stages", "5,20,100"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["plan"]["stages"] == [5, 20, 100]
    r = CliRunner().invoke(cli, ["rollout", "fraud", "v22", "--stages", "50,10"])
    assert isinstance(r.exception, InvalidInput)


class Killed(BaseException):
    """Stands in for SIGTERM: the process stops mid-rollout, no terminal event written."""


def test_a_killed_rollout_is_pending_with_finish_and_undo(ws, clock, rollbook):
    from console.actions.pending import incomplete_actions

    waits = []

    def wait(seconds):
        waits.append(seconds)
        clock.advance(seconds=seconds)
        if len(waits) == 3:  # after routing 50 %: traffic is split
            raise Killed

    with pytest.raises(Killed):
        rollout(ws, "fraud", "v22", dwell_minutes=5, wait=wait)
    assert ws.backends.traffic.routes("fraud") == {"v21": 50.0, "v22": 50.0}
    [pending] = incomplete_actions(ws)
    assert pending["action"] == "rollout" and pending["state"] == "partially applied"
    assert pending["undo"] == (
        "rollbook traffic fraud v21=100 --yes && rollbook pointer fraud v21 --yes"
    )
    assert pending["finish"] == "rollbook rollout fraud v22 --stages 10,25,50,100 --dwell 5 --yes"
    code, out, _ = rollbook("audit", "pending")
    assert code == 6 and "undo:   rollbook traffic fraud v21=100 --yes" in out
    # the undo command does what it says, and the rollout is no longer pending
    from console.actions.traffic import parse_weights, set_traffic

    traffic_part = pending["undo"].split("&&")[0]  # the pointer part finds it on v21 already
    _, _, model, *weights, _ = traffic_part.split()  # what `rollbook traffic` runs
    assert set_traffic(ws, model, parse_weights(weights)).status == "applied"
    assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}
    assert incomplete_actions(ws) == []


def test_a_killed_traffic_change_is_pending_with_finish_and_undo(ws, world, monkeypatch):
    from console.actions.pending import incomplete_actions
    from console.actions.recorder import ActionRecorder
    from console.actions.traffic import set_traffic

    real = ActionRecorder.event

    def die_after_the_step(self, kind, *args, **kwargs):
        real(self, kind, *args, **kwargs)
        if kind == "step":  # the traffic step is on the record, then the process dies
            raise Killed

    monkeypatch.setattr(ActionRecorder, "event", die_after_the_step)
    with pytest.raises(Killed):
        set_traffic(ws, "fraud", {"v21": 90, "v22": 10})
    [pending] = incomplete_actions(ws)
    assert pending["finish"] == "rollbook traffic fraud v21=90 v22=10 --yes"
    assert pending["undo"] == "rollbook traffic fraud v21=100 --yes"
