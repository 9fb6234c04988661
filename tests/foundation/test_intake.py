import json

from click.testing import CliRunner

from console.cli.main import cli
from console.intake import intake_alerts
from console.workspace import open_workspace


def test_alerts_become_one_incident_per_model_with_a_runbook(clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.inject("athena-null-feature")
        ws.backends.world.inject("pricing-zero")
        first = intake_alerts(ws)
        incidents = {r.incident.id for r in first}
        assert len(incidents) == 2  # churn and pricing, however many alerts each fires
        by_model = {r.alert.model: r.incident for r in first}
        assert by_model["churn"].runbook == "null-feature"
        assert by_model["pricing"].runbook == "pricing-zero"
        n_events = len(ws.store.events(all_incidents=True))
        again = intake_alerts(ws)  # repeated firings change nothing
        assert {r.incident.id for r in again} == incidents
        assert not any(r.created for r in again)
        assert len(ws.store.events(all_incidents=True)) == n_events


def test_alerts_cli_lists_without_opening(clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.inject("pricing-zero")
    r = CliRunner().invoke(cli, ["alerts", "--json"])
    assert r.exit_code == 1
    rows = json.loads(r.output)["alerts"]
    assert rows and all(row["incident"] is None for row in rows)


def test_intake_of_one_model_leaves_the_others_alone(clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.inject("athena-null-feature")
        ws.backends.world.inject("pricing-zero")
        rows = intake_alerts(ws, model="pricing")
        assert rows and {r.alert.model for r in rows} == {"pricing"}
        assert ws.store.find_open(model="churn", env=ws.env.name) is None
        assert ws.store.find_open(model="pricing", env=ws.env.name) is not None


def test_alerts_watch_opens_incidents_and_prints_a_line_per_round(clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.inject("pricing-zero")
    r = CliRunner().invoke(cli, ["alerts", "--open", "--watch", "0", "--count", "2", "--json"])
    assert r.exit_code == 1, r.output
    rounds = [json.loads(line) for line in r.output.splitlines()]
    assert len(rounds) == 2
    first, second = ({row["incident"] for row in rnd["alerts"]} for rnd in rounds)
    assert len(first) == 1 and first == second  # opened once, then the same incident
    assert sum(row["created"] for row in rounds[0]["alerts"]) == 1
    assert not any(row["created"] for row in rounds[1]["alerts"])


def test_alerts_watch_reports_a_dead_backend_and_keeps_going(clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.break_backend("metrics", "active_alerts", times=2)
    r = CliRunner().invoke(cli, ["alerts", "--watch", "0", "--count", "2"])
    assert r.exit_code == 5, r.output  # the last round's: backend unreachable
    assert r.output.count("error: embedded metrics.active_alerts failed") == 2
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.break_backend("metrics", "active_alerts", times=1)
    r = CliRunner().invoke(cli, ["alerts", "--watch", "0", "--count", "2"])
    assert r.exit_code == 0, r.output  # the second round got through
    assert r.output.count("error:") == 1 and "no alerts firing" in r.output


def test_count_needs_watch():
    r = CliRunner().invoke(cli, ["alerts", "--count", "2"])
    assert r.exit_code == 2 and "--count needs --watch" in r.output
