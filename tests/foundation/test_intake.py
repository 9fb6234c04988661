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
