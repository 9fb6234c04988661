import json

import pytest
from click.testing import CliRunner

from console.actions.traffic import check_transition, parse_weights, set_traffic, transition_stage
from console.cli.main import cli
from console.errors import InvalidInput, InvalidTransition


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("None", "Staging"),
        ("Staging", "Shadow"),
        ("Shadow", "Canary"),
        ("Canary", "Production"),
        ("Production", "Archived"),
    ],
)
def test_valid_transitions(a, b):
    check_transition(a, b)


@pytest.mark.parametrize(
    ("a", "b", "words"),
    [
        ("Archived", "Production", "rollbook rollback"),
        ("None", "Production", "Staging"),
        ("Production", "Canary", "Archived"),
        ("Staging", "Bogus", "unknown stage"),
    ],
)
def test_invalid_transitions_are_refused_with_a_hint(a, b, words):
    with pytest.raises(InvalidTransition) as err:
        check_transition(a, b)
    assert words in str(err.value)


def test_stage_transition_is_audited(ws):
    versions = {v.version: v.stage for v in ws.backends.registry.versions("fraud")}
    assert versions["v22"] == "Canary"
    with pytest.raises(InvalidTransition):
        transition_stage(ws, "fraud", "v20", "Production")  # Archived → Production
    res = transition_stage(ws, "fraud", "v22", "Shadow")
    assert res.status == "applied"
    assert ws.backends.registry.version("fraud", "v22").stage == "Shadow"
    assert ws.store.events()[-1].payload["after"] == "Shadow"


def test_parse_weights():
    assert parse_weights(["v4=90", "v5=10"]) == {"v4": 90.0, "v5": 10.0}
    for bad in (["v4=90"], ["v4"], ["v4=abc", "v5=100"], ["v4=150", "v5=-50"]):
        with pytest.raises(InvalidInput):
            parse_weights(bad)


def test_set_traffic_and_noop(ws):
    res = set_traffic(ws, "fraud", {"v21": 90, "v22": 10})
    assert res.status == "applied"
    assert ws.backends.traffic.routes("fraud") == {"v21": 90.0, "v22": 10.0}
    assert set_traffic(ws, "fraud", {"v21": 90, "v22": 10}).status == "noop"


def test_audit_verify_passes_then_names_the_edited_record(ws):
    set_traffic(ws, "fraud", {"v21": 90, "v22": 10})
    set_traffic(ws, "fraud", {"v21": 100})
    runner = CliRunner()
    r = runner.invoke(cli, ["audit", "verify", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["ok"]
    target = ws.store.events()[1].seq
    ws.store._db.executescript(
        "DROP TRIGGER events_no_update;"
        f"UPDATE events SET payload = '{{\"forged\": true}}' WHERE seq = {target};"
    )
    r = runner.invoke(cli, ["audit", "verify"])
    assert r.exit_code == 1
    assert f"record {target}" in r.output


def test_cli_rollback_dry_run_and_confirmation(ws, world, monkeypatch):
    monkeypatch.setattr("console.cli.common.stdin_is_tty", lambda: True)  # a person answers
    runner = CliRunner()
    r = runner.invoke(cli, ["rollback", "credit-score", "--dry-run", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)["plan"]["to"] == "v4"
    r = runner.invoke(cli, ["rollback", "credit-score"], input="n\n")
    assert r.exit_code == 1  # declined at the prompt
    assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}
    r = runner.invoke(cli, ["rollback", "credit-score"], input="y\n")
    assert r.exit_code == 0, r.output
    assert "APPLIED" in r.output


def test_traffic_to_an_unknown_version_is_refused_before_anything_changes(ws, world):
    from console.errors import NotFound

    n = len(ws.store.events(all_incidents=True))
    with pytest.raises(NotFound, match="pricing has no version v99"):
        set_traffic(ws, "pricing", {"v99": 100})
    assert ws.backends.traffic.routes("pricing") == {"v3": 100.0}
    assert len(ws.store.events(all_incidents=True)) == n  # no FAILED record either
    assert set_traffic(ws, "pricing", {"v2": 100}).status == "applied"


def test_rollback_to_a_bare_number_means_the_v_prefixed_version(ws):
    from console.actions.rollback import rollback

    res = rollback(ws, "churn", to="11", dry_run=True)
    assert res.plan.pointer_after == "v11" and res.status == "dry-run"
