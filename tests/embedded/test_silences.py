"""Silences in the embedded world: Alertmanager's semantics (all matchers must match, anchored
regexes, start/end, expire), silenced alerts left out of ``active_alerts`` so intake opens
no incident for them, and the ``rollbook silence`` commands on the demo."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from console.cli.main import cli, main
from console.errors import ActionRefused, InvalidInput, NotFound
from console.intake import intake_alerts
from console.silences import parse_matcher
from console.workspace import open_workspace


def names(metrics) -> set[tuple[str, str]]:
    return {(a.name, a.model) for a in metrics.active_alerts()}


def test_a_silence_hides_matching_alerts_until_it_ends_or_is_expired(env):
    env.world.inject("athena-null-feature")
    env.minutes(10)
    before = names(env.metrics)
    assert ("FeatureNullRateHigh", "churn") in before
    sid = env.metrics.create_silence(
        ["alertname=FeatureNullRateHigh", 'model="churn"'],
        author="ana",
        comment="drill",
        duration=timedelta(hours=1),
    )
    assert names(env.metrics) == before - {("FeatureNullRateHigh", "churn")}
    [s] = env.metrics.silences()
    assert (s.id, s.state, s.created_by, s.comment) == (sid, "active", "ana", "drill")
    assert s.ends_at - s.starts_at == timedelta(hours=1)
    env.minutes(61)  # it ends on its own
    assert ("FeatureNullRateHigh", "churn") in names(env.metrics)
    assert env.metrics.silences()[0].state == "expired"
    sid2 = env.metrics.create_silence(
        ["model=churn"], author="ana", comment="drill", duration=timedelta(hours=1)
    )
    assert not {m for _, m in names(env.metrics)} & {"churn"}
    env.metrics.expire_silence(sid2)
    assert names(env.metrics) == before
    with pytest.raises(ActionRefused):
        env.metrics.expire_silence(sid2)
    with pytest.raises(NotFound):
        env.metrics.expire_silence("nosuch")


def test_matchers_follow_alertmanager():
    labels = {"alertname": "ModelErrorRateHigh", "model": "churn", "severity": "critical"}
    assert parse_matcher("severity=~crit.*").matches(labels)
    assert not parse_matcher("severity=~crit").matches(labels)  # anchored
    assert parse_matcher("model!=fraud").matches(labels)
    assert not parse_matcher("model!~ch.*").matches(labels)
    assert parse_matcher("team=").matches(labels)  # a missing label reads as ""
    for bad in ("bogus", "model", "=churn", "model=~("):
        with pytest.raises(InvalidInput):
            parse_matcher(bad)


def test_a_silenced_alert_opens_no_incident(clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.inject("pricing-zero")
        ws.backends.metrics.create_silence(
            ["model=pricing"], author="tester", comment="drill", duration=timedelta(hours=2)
        )
        assert intake_alerts(ws) == []
        assert ws.store.find_open(model="pricing", env=ws.env.name) is None


def test_silence_commands_on_the_demo(clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.inject("pricing-zero")
    run = CliRunner().invoke
    r = run(cli, ["silence", "add", "-m", "model=pricing", "-d", "2h", "-c", "drill", "--json"])
    assert r.exit_code == 0, r.output
    created = json.loads(r.output)
    assert created["author"] == "tester" and created["matchers"] == ["model=pricing"]
    r = run(cli, ["alerts", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["alerts"] == []
    listed = json.loads(run(cli, ["silence", "list", "--json"]).output)["silences"]
    assert [(s["id"], s["state"]) for s in listed] == [(created["silence_id"], "active")]
    r = run(cli, ["silence", "expire", created["silence_id"], "-c", "done", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(run(cli, ["silence", "list", "--json"]).output)["silences"] == []
    assert json.loads(run(cli, ["alerts", "--json"]).output)["alerts"]
    with open_workspace("demo", clock=clock) as ws:
        kinds = [e.kind for e in ws.store.events(all_incidents=True, kind_prefix="silence.")]
    assert kinds == ["silence.created", "silence.expired"]


def test_a_bad_matcher_is_a_usage_error_before_any_backend_call(capsys, rollbook_home):
    with pytest.raises(SystemExit) as exit_:
        main(["silence", "add", "-m", "bogus", "-c", "drill", "--json"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2
    body = json.loads(out)["error"]
    assert body["exit_code"] == 2 and "bad matcher 'bogus'" in body["message"]
    assert "bad matcher 'bogus'" in err
    assert not (rollbook_home / "data").exists()  # no world, no store was opened
