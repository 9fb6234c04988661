"""A second rollback names the first: the plan carries the model's recent mitigations."""

from datetime import timedelta

from click.testing import CliRunner

from console.actions.history import recent_mitigations
from console.actions.rollback import rollback
from console.cli.main import cli


def test_a_second_rollback_plan_names_the_first(ws, clock):
    assert rollback(ws, "churn", dry_run=True).plan["recent"] == []
    first = rollback(ws, "churn")
    assert first.status == "applied"
    clock.advance(minutes=4)
    plan = rollback(ws, "churn", dry_run=True).plan
    [recent] = plan["recent"]
    assert (recent["action"], recent["from"], recent["to"]) == ("rollback", "v13", "v12")
    assert recent["minutes_ago"] == 4.0 and plan["from"] == "v12"
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
    second = rollback(ws, "churn")
    assert second.status == "applied", second.message
    requested = [e for e in ws.store.events(all_incidents=True, kind_prefix="action.requested")
                 if e.payload.get("action") == "rollback"]
    assert requested[-1].payload["plan"]["recent"][0]["to"] == "v12"
