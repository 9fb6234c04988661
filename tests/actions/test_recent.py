"""A second rollback names the first: the plan carries the model's recent mitigations."""

from datetime import timedelta

import pytest
from click.testing import CliRunner

from console.actions.history import recent_mitigations
from console.actions.rollback import rollback
from console.cli.main import cli, main


def test_a_second_rollback_plan_names_the_first(ws, clock):
    assert rollback(ws, "churn", dry_run=True).plan.recent == ()
    first = rollback(ws, "churn")
    assert first.status == "applied"
    clock.advance(minutes=4)
    plan = rollback(ws, "churn", dry_run=True).plan
    [recent] = plan.recent
    assert (recent.action, recent.from_, recent.to) == ("rollback", "v13", "v12")
    assert recent.minutes_ago == 4.0 and plan.pointer_before == "v12"
    # older than the window: no longer "recent"
    assert recent_mitigations(ws, "churn", within=timedelta(minutes=3)) == []
    assert recent_mitigations(ws, "fraud") == []


def test_cli_dry_run_warns_and_prints_routes_plainly(ws, clock):
    rollback(ws, "churn")
    r = CliRunner().invoke(cli, ["rollback", "churn", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "⚠ rolled back v13 → v12 0 min ago by" in r.output
    assert "v12:100%" in r.output and "{" not in r.output


def test_a_second_real_rollback_records_its_plan(ws, clock):
    rollback(ws, "churn")
    clock.advance(minutes=2)
    second = rollback(ws, "churn", to="v11")  # going further back takes an explicit --to
    assert second.status == "applied", second.message
    requested = [
        e
        for e in ws.store.events(all_incidents=True, kind_prefix="action.requested")
        if e.payload.get("action") == "rollback"
    ]
    assert requested[-1].payload["plan"]["recent"][0]["to"] == "v12"


def test_rolling_back_twice_changes_nothing_the_second_time(ws, clock):
    first = rollback(ws, "churn")
    assert first.status == "applied" and (first.plan.pointer_before, first.plan.pointer_after) == (
        "v13",
        "v12",
    )
    clock.advance(minutes=4)
    second = rollback(ws, "churn")
    assert second.status == "noop" and second.exit_code == 0, second.message
    assert second.message == (
        "churn was already rolled back v13 → v12 4 min ago by tester; "
        "nothing changed — to go further back name the version: --to v11"
    )
    assert ws.backends.registry.production_version("churn") == "v12"
    assert ws.backends.traffic.routes("churn") == {"v12": 100.0}
    noop = [
        e
        for e in ws.store.events(all_incidents=True, kind_prefix="action.noop")
        if e.payload.get("action_id") == second.action_id
    ]
    assert noop and noop[0].payload["further"] == "v11"
    # the dry run says the same, and an explicit --to still goes further back
    dry = rollback(ws, "churn", dry_run=True)
    assert dry.plan.pointer_after == "v12" and dry.message.startswith("would do nothing: churn was")
    assert rollback(ws, "churn", to="v11").status == "applied"
    assert ws.backends.registry.production_version("churn") == "v11"


def test_the_no_op_ends_with_the_window_or_a_later_move(ws, clock):
    from console.actions.traffic import set_traffic

    rollback(ws, "churn")
    set_traffic(ws, "churn", {"v12": 50, "v13": 50})  # traffic no longer where it left it
    # v13 takes traffic beside the production version v12: the rollback removes it (v13 was
    # rolled back from, v12 keeps production) instead of walking further back
    plan = rollback(ws, "churn", dry_run=True).plan
    assert (plan.rule, plan.pointer_after, plan.routes_after) == (
        "remove_canary",
        "v12",
        {"v12": 100.0},
    )
    set_traffic(ws, "churn", {"v12": 100})
    assert rollback(ws, "churn", dry_run=True).plan.pointer_after == "v12"
    clock.advance(hours=7)  # past RECENT: a new rollback is a new decision
    assert rollback(ws, "churn", dry_run=True).plan.pointer_after == "v11"


def test_cli_rollback_twice_is_a_no_op(ws, rollbook):
    assert rollbook("rollback", "churn", "--yes")[0] == 0
    code, out, _ = rollbook("rollback", "churn", "--yes")
    assert code == 0 and "NOTHING TO DO: churn was already rolled back v13 → v12" in out
    assert "--to v11" in out
    code, out, _ = rollbook("rollback", "churn", "--dry-run")
    # the recent rollback is named, but not as "going further back": this one does not
    assert code == 0 and "rolls back further" not in out
    assert ws.backends.registry.production_version("churn") == "v12"


def test_audit_pending_for_an_unknown_model_is_not_found(ws, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["audit", "pending", "nosuch"])
    assert exc.value.code == 4 and "no model 'nosuch'" in capsys.readouterr().err
    r = CliRunner().invoke(cli, ["audit", "pending", "churn"])
    assert r.exit_code == 0 and "No unfinished actions; registry and traffic agree" in r.output
