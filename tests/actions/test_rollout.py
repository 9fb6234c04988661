import pytest

from console.actions.rollout import parse_stages, rollout
from console.errors import ActionRefused, InvalidInput


def decisions(ws, action_id):
    return [e for e in ws.store.events(all_incidents=True)
            if e.payload.get("action_id") == action_id and e.kind == "action.decision"]


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

    r = CliRunner().invoke(cli, ["rollout", "fraud", "v22", "--dry-run", "--json",
                                 "--stages", "5,20,100"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["plan"]["stages"] == [5, 20, 100]
    r = CliRunner().invoke(cli, ["rollout", "fraud", "v22", "--stages", "50,10"])
    assert isinstance(r.exception, InvalidInput)
