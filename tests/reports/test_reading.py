"""The reports read the record correctly: both mitigation times with their definitions, the
summary's actions in time order with their times, resolution rows that name what moved,
questions that read as findings, no simulator internals, resolved alerts with their value at
resolution."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from console import lifecycle
from console.backends.types import Alert
from console.reports import record
from console.reports.drill import build_drill_report, score_drill
from console.reports.postmortem import build_postmortem, postmortem_json, render_postmortem

from .conftest import NOW, at


def open_incident(store, **kw):
    return store.create_incident(
        title="churn scores wrong",
        model="churn",
        severity="SEV2",
        env="demo",
        actor="alerting",
        at=at(6, 47),
        detected_at=at(6, 47),
        **kw,
    )


def action(store, iid, aid, kind, t_req, t_done, *, outcome="finished", **payload):
    """An action as the mitigation use case records it: requested, then how it ended."""
    common = {"action_id": aid, "action": kind, "model": "churn"}
    store.append(
        iid, "action.requested", f"{kind} requested", actor="alice", at=t_req, payload=common
    )
    store.append(
        iid,
        f"action.{outcome}",
        f"{kind} {outcome}",
        actor="alice",
        at=t_done,
        payload={**common, **payload},
    )


# ---- what moved ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "moved"),
    [
        ({"action": "rollback", "from": "v13", "to": "v12"}, "v13 → v12"),
        ({"action": "resume_batch", "from": "paused", "to": "running"}, "paused → running"),
        (
            {"action": "traffic", "before": {"v21": 75.0, "v22": 25.0}, "after": {"v21": 100.0}},
            "v21:75% v22:25% → v21:100%",
        ),
        (
            {"action": "killswitch", "before": {"v21": 100}, "after": {"fallback:rules": 100}},
            "v21:100% → rules:100%",
        ),
        (
            {"action": "pause_batch", "before": {"paused": False}, "after": {"paused": True}},
            "running → paused",
        ),
        (
            {"action": "stage", "version": "v22", "before": "Canary", "after": "Staging"},
            "v22: Canary → Staging",
        ),
        (
            {"action": "clear_fault", "before": {"active": True}, "after": {"active": False}},
            "fix deployed (simulated world)",
        ),
        ({"action": "pointer", "message": "pointer moved by hand"}, "pointer moved by hand"),
        ({"action": "rollout"}, "rollout"),
    ],
)
def test_an_action_always_names_what_it_moved(row, moved):
    assert record.describe_action(row) == moved


def test_resolution_rows_name_what_moved_never_blank(store):
    inc = open_incident(store)
    action(
        store,
        inc.id,
        "a1",
        "traffic",
        at(6, 50),
        at(6, 51),
        **{"before": {"v21": 75.0, "v22": 25.0}, "after": {"v21": 100.0}},
    )
    action(
        store,
        inc.id,
        "a2",
        "stage",
        at(6, 52),
        at(6, 52),
        version="v22",
        before="Canary",
        after="Staging",
    )
    action(
        store,
        inc.id,
        "a3",
        "clear_fault",
        at(6, 53),
        at(6, 53),
        before={"active": True},
        after={"active": False},
    )
    action(store, inc.id, "a4", "rollback", at(6, 54), at(6, 55), **{"from": "v13", "to": "v12"})
    events = store.events(inc.id)
    for fmt in ("md", "html"):
        doc = render_postmortem(store.get(inc.id), events, now=at(7, 0), fmt=fmt)
        resolution = doc.split("Resolution")[1].split("Contributing factors")[0]
        for moved in (
            "traffic of churn: v21:75% v22:25% → v21:100%",
            "stage of churn: v22: Canary → Staging",
            "clear_fault of churn: fix deployed (simulated world)",
            "rollback of churn: v13 → v12",
        ):
            assert moved in resolution, (fmt, moved)
        assert ":  → " not in resolution and "None" not in resolution


def test_routes_are_not_listed_as_versions(store):
    inc = open_incident(store)
    action(
        store,
        inc.id,
        "a1",
        "traffic",
        at(6, 50),
        at(6, 51),
        **{
            "from": "v21:75% v22:25%",
            "to": "v21:100%",
            "before": {"v21": 75.0, "v22": 25.0},
            "after": {"v21": 100.0},
        },
    )
    versions = record.versions_involved(store.events(inc.id), {"model": "churn"})
    assert [(v["version"], v["role"]) for v in versions] == [
        ("v21", "served before the traffic"),
        ("v22", "served before the traffic"),
    ]


# ---- the two mitigation times ----------------------------------------------------------------
def test_summary_lists_actions_in_time_order_with_their_times(store):
    inc = open_incident(store)
    iid = inc.id

    def ev(kind, aid, name, t, **payload):
        common = {"action_id": aid, "action": name, "model": "churn"}
        store.append(iid, kind, f"{name}", actor="alice", at=t, payload={**common, **payload})

    # the rollback is requested first and applied last: the list goes by when each took
    # effect; a failed kill switch is listed with its outcome; a no-op is not an action taken
    ev("action.requested", "a1", "rollback", at(6, 50))
    ev("action.requested", "a2", "pause_batch", at(6, 51))
    ev("action.finished", "a2", "pause_batch", at(6, 52), **{"from": "running", "to": "paused"})
    lifecycle.mitigation_applied(
        store,
        iid,
        actor="alice",
        at=at(6, 52),
        action="pause_batch",
        summary="pause",
        action_id="a2",
    )
    ev("action.requested", "a3", "killswitch", at(6, 53))
    ev("action.failed", "a3", "killswitch", at(6, 53))
    ev("action.noop", "a4", "traffic", at(6, 54))
    ev("action.finished", "a1", "rollback", at(6, 58), **{"from": "v13", "to": "v12"})
    lifecycle.mitigated(
        store, iid, actor="rollbook", at=at(7, 5), observed_at=at(7, 3), message="back"
    )
    pm = build_postmortem(store.get(inc.id), store.events(inc.id), now=at(7, 10))
    assert (
        "Mitigation applied after 5 min (pause_batch running → paused); "
        "impact observed to stop after 16 min."
    ) in pm["summary"]
    assert (
        "Actions: 06:52 pause_batch running → paused; 06:53 killswitch (failed); "
        "06:58 rollback v13 → v12."
    ) in pm["summary"]
    assert "noop" not in pm["summary"]  # changed nothing: not an action taken


def test_applied_but_not_observed_keeps_the_cost_clock_running(store):
    inc = open_incident(store, data={"impact": {"revenue_per_hour": 6000.0}})
    action(store, inc.id, "a1", "rollback", at(6, 50), at(6, 51), **{"from": "v13", "to": "v12"})
    lifecycle.mitigation_applied(
        store,
        inc.id,
        actor="alice",
        at=at(6, 51),
        action="rollback",
        summary="rollback",
        action_id="a1",
    )
    inc = store.get(inc.id)
    assert inc.mitigation_applied_at is not None and inc.mitigated_at is None
    pm = build_postmortem(inc, store.events(inc.id), now=at(7, 17))
    assert (
        "Mitigation applied after 4 min (rollback v13 → v12); impact not observed to stop yet."
    ) in pm["summary"]
    # 30 min since detection, not the 4 until the rollback was read back
    assert pm["impact"]["revenue_at_risk"] == pytest.approx(6000 * 30 / 60)
    assert pm["impact"]["revenue_so_far"] is True
    rows = {m["key"]: m["minutes"] for m in pm["metrics_table"]}
    assert rows["mitigation_applied_min"] == 4.0 and rows["mitigate_min"] is None
    md = render_postmortem(inc, store.events(inc.id), now=at(7, 17), fmt="md")
    assert "- Mitigation applied: after 4 min (rollback v13 → v12)" in md
    assert "- Impact observed to stop: not observed yet" in md
    assert "× 30 min so far: the impact has not been observed to stop" in md
    assert "until now: the impact has not been observed to stop" in md


def test_an_impact_that_stopped_without_a_change_says_so(store):
    inc = open_incident(store)
    lifecycle.mitigated(store, inc.id, actor="rollbook", at=at(7, 0), message="signal back")
    pm = build_postmortem(store.get(inc.id), store.events(inc.id), now=at(7, 10))
    assert (
        "Impact observed to stop after 13 min (no change to production was recorded for it)."
    ) in pm["summary"]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_both_times_with_their_definitions(drill_incident, fmt):
    inc, events = drill_incident
    doc = render_postmortem(inc, events, now=NOW, fmt=fmt)
    for text in (
        "Time to mitigation applied",
        "read back from production",
        "Time to mitigate",
        "impact observed to stop (the alert",
    ):
        assert text in doc.replace("&#39;", "'"), text


# ---- questions read as findings --------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "state", "reads"),
    [
        (
            "Does the null rate trip the circuit breaker?",
            "failed",
            "Does the null rate trip the circuit breaker? — yes: null rate 94.2% > 5.0%",
        ),
        (
            "Is the model failing requests?",
            "passed",
            "Is the model failing requests? — no: null rate 94.2% > 5.0%",
        ),
        (
            "Are the scores wrong? (positive rate against its trailing mean)",
            "failed",
            "Are the scores wrong? (positive rate against its trailing mean) — yes: "
            "null rate 94.2% > 5.0%",
        ),
        (
            "Are inputs arriving out of range (a feed in the wrong unit)?",
            "failed",
            "Are inputs arriving out of range (a feed in the wrong unit)? — yes: "
            "null rate 94.2% > 5.0%",
        ),
        ("Which features drifted?", "failed", "Which features drifted? — null rate 94.2% > 5.0%"),
        (
            "Is it slow?",
            "inconclusive",
            "Is it slow? — not known (no data to judge): null rate 94.2% > 5.0%",
        ),
        # not questions: read as they are
        ("The global false-positive rate (does it hide the segment?)", "passed", None),
        ("Confirm the null rate", "failed", None),
    ],
)
def test_a_question_reads_as_its_answer(title, state, reads):
    assert record.finding(title, state, "null rate 94.2% > 5.0%") == reads


def test_questions_are_findings_not_failures_in_every_table(store):
    inc = open_incident(store, drill=True)
    summary = "avg_order_value_90d null rate 94.2% (threshold 5.0%)"
    store.append(
        inc.id,
        "step.finished",
        f"Does the null rate trip the circuit breaker?: failed — {summary}",
        actor="engine",
        at=at(6, 50),
        payload={
            "step": "breaker",
            "kind": "check",
            "check": "null_rate",
            "state": "failed",
            "passed": False,
            "summary": summary,
        },
    )
    store.append(
        inc.id,
        "step.finished",
        "Roll back, hotfix or retrain?: done — decided: Hotfix",
        actor="engine",
        at=at(6, 51),
        payload={
            "step": "decide",
            "kind": "decision",
            "state": "done",
            "passed": None,
            "summary": "decided: Hotfix",
            "answer": "hotfix",
        },
    )
    inc, events = store.get(inc.id), store.events(inc.id)
    found = f"Does the null rate trip the circuit breaker? — yes: {summary}"
    md = render_postmortem(inc, events, now=at(7, 0), fmt="md")
    assert f"| engine | finding | {found} |" in md  # the timeline
    assert f"- Check null_rate (breaker) at 06:50: {found}" in md  # the checks
    assert "| engine | decision | Roll back, hotfix or retrain? — decided: Hotfix |" in md
    assert "failed" not in md.split("## Timeline")[1].split("## Detection")[0]
    html = render_postmortem(inc, events, now=at(7, 0), fmt="html")
    assert f"<td>finding</td><td>{found}</td>" in html
    report = build_drill_report(inc, events, targets={}, now=at(7, 0))
    breaker = next(s for s in report["steps"] if s["step"] == "breaker")
    assert (breaker["result"], breaker["detail"]) == ("finding", found)


# ---- no simulator internals --------------------------------------------------------------
def test_the_simulated_worlds_facts_stay_out_of_the_post_mortem(drill_incident):
    inc, events = drill_incident
    facts = inc.data["facts"]
    assert facts["bad_version"] and facts["scenario"]
    for fmt in ("md", "html"):
        doc = render_postmortem(inc, events, now=NOW, fmt=fmt)
        supporting = doc.split("Supporting data")[1]
        for key in ("bad_version", "good_version", "scenario", "kind:", "signals"):
            assert key not in supporting, (fmt, key)
    data = postmortem_json(build_postmortem(inc, events, now=NOW))
    supporting = json.dumps(data["supporting"], default=str)
    assert "bad_version" not in supporting and "good_version" not in supporting


# ---- drill report: both times ----------------------------------------------------------------
def test_the_drill_report_gives_both_times(drill_incident):
    inc, events = drill_incident
    report = build_drill_report(inc, events, targets={"mitigate_min": 15.0}, now=NOW)
    assert report["time_to_mitigation_applied"] == pytest.approx(19 / 3)
    assert report["time_to_mitigate"] == 7.0
    score = score_drill(inc, {"mitigation_applied_min": 5.0, "mitigate_min": 15.0})
    assert score.to_dict()["time_to_mitigation_applied"] == pytest.approx(19 / 3)
    assert score.to_dict()["time_to_mitigate"] == 7.0
    assert not score.passed  # applied after 6.3 min, over the 5-minute target
    assert "time to mitigation applied 6.3 min exceeds the target of 5 min" in score.reasons


def test_a_drill_that_stopped_the_impact_without_changing_production_can_pass(store):
    inc = open_incident(store, drill=True, onset_at=at(6, 45))
    lifecycle.acknowledge(store, inc.id, actor="alice", at=at(6, 48))
    lifecycle.mitigated(store, inc.id, actor="rollbook", at=at(6, 55), message="back")
    s = score_drill(store.get(inc.id), {"mitigation_applied_min": 8.0, "mitigate_min": 15.0})
    assert s.passed
    assert "time to mitigation applied not measured (nothing changed in production)" in s.reasons


# ---- resolved alerts carry their value at resolution -----------------------------------------
class OneSignal:
    def __init__(self, value):
        self.value, self.asked = value, []

    def query(self, signal, model, *, version=None, at=None):
        self.asked.append((signal, model, at))
        return self.value


def test_a_resolved_alert_shows_its_value_at_resolution(store):
    from console.runbooks.selection import record_alert

    inc = open_incident(store)
    metrics = OneSignal(0.18)
    ws = SimpleNamespace(
        store=store, now=lambda: at(7, 2), backends=SimpleNamespace(metrics=metrics)
    )
    alert = Alert(
        "PositiveRateShift",
        "churn",
        "fp1",
        at(6, 47),
        "warning",
        "firing",
        {"signal": "positive_rate"},
        {"summary": "positive rate 62.0% vs 14.0%"},
        0.62,
    )
    record_alert(ws, inc.id, alert, "firing")
    record_alert(ws, inc.id, alert, "resolved")
    fired, resolved = store.events(inc.id, kind_prefix="alert.")
    assert fired.payload["value"] == 0.62 and "62.0%" in fired.message
    assert resolved.message == "PositiveRateShift resolved: positive_rate 18.0% at resolution"
    assert resolved.payload["value"] == 0.18 and resolved.payload["firing_value"] == 0.62
    assert metrics.asked == [("positive_rate", "churn", at(7, 2))]
    md = render_postmortem(store.get(inc.id), store.events(inc.id), now=at(7, 5), fmt="md")
    assert (
        "| alert resolved | PositiveRateShift resolved: positive_rate 18.0% at resolution |" in md
    )


def test_a_resolved_alert_without_a_readable_signal_says_so(store):
    from console.errors import BackendError
    from console.runbooks.selection import record_alert

    class Down:
        def query(self, *a, **k):
            raise BackendError("metrics down")

    inc = open_incident(store)
    ws = SimpleNamespace(
        store=store, now=lambda: at(7, 2), backends=SimpleNamespace(metrics=Down())
    )
    alert = Alert("A", "churn", "fp", at(6, 47), labels={"signal": "error_rate"}, value=0.9)
    record_alert(ws, inc.id, alert, "resolved")
    (resolved,) = store.events(inc.id, kind_prefix="alert.resolved")
    assert resolved.message == "A resolved (value at resolution not available)"
    assert resolved.payload["value"] is None and resolved.payload["firing_value"] == 0.9
