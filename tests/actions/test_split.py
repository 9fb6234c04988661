"""A registry that disagrees with traffic is a SPLIT: status and audit pending flag it with the
commands that reconcile it, and the traffic half of an undo works while the registry is down."""

import json

from click.testing import CliRunner

from console.actions.rollback import rollback
from console.cli.main import cli
from console.fleet import fleet_status
from console.serving import split_of


def test_split_of_names_both_ways_to_reconcile():
    s = split_of("churn", "v13", {"v12": 100.0})
    assert s.reconcile == (
        "rollbook pointer churn v12 --yes",
        "rollbook traffic churn v13=100 --yes",
    )
    assert "⚠ SPLIT: the registry names v13" in s.message
    # a canary beside production, a kill switch, no traffic information: not splits
    assert split_of("fraud", "v21", {"v21": 75.0, "v22": 25.0}) is None
    assert split_of("fraud", "v21", {"fallback:rules": 100.0}) is None
    assert split_of("fraud", "v21", {"v20": 100.0}, killswitch=True) is None
    assert split_of("fraud", None, {"v20": 100.0}) is None


def test_the_traffic_half_of_an_undo_works_with_the_registry_down_and_leaves_a_split(ws, rollbook):
    res = rollback(ws, "credit-score")
    assert res.status == "applied"
    traffic_undo, pointer_undo = (c.strip() for c in res.plan.undo.split("&&"))
    world = ws.backends.world
    world.break_backend("registry", "versions", mode="error", times=-1)
    world.break_backend("registry", "set_production", mode="error", times=-1)
    runner = CliRunner()
    r = runner.invoke(cli, [*traffic_undo.split()[1:]])
    assert r.exit_code == 0, r.output
    code, _, err = rollbook(*pointer_undo.split()[1:])
    assert code == 5, err  # the registry half waits for the registry
    world.repair_backend()
    assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}
    [status] = fleet_status(ws, "credit-score")
    assert status.split is not None and status.split.production == "v4"
    r = runner.invoke(cli, ["status", "credit-score"])
    assert "⚠ SPLIT" in r.output and "rollbook pointer credit-score v5 --yes" in r.output
    r = runner.invoke(cli, ["audit", "pending", "--json"])
    assert r.exit_code == 6
    [split] = json.loads(r.output)["splits"]
    assert split["reconcile"][0] == "rollbook pointer credit-score v5 --yes"
    r = runner.invoke(cli, [*split["reconcile"][0].split()[1:]])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["audit", "pending", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["splits"] == []
