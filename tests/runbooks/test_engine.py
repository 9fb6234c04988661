"""The engine: steps, confirmations, decisions, notes, phases, milestones, and state that
lives only in the store (a fresh Engine on the same incident sees the same states)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from console.errors import InvalidInput, InvalidTransition
from console.incidents import open_manual
from console.runbooks.engine import Engine
from console.runbooks.registry import CHECKS, load_registries
from console.runbooks.selection import open_incident
from tests.runbooks.helpers import open_scenario


def kinds(ws, incident_id, prefix=""):
    return [e.kind for e in ws.store.events(incident_id) if e.kind.startswith(prefix)]


@pytest.fixture
def athena(ws):
    inc, rb = open_scenario(ws, "athena-null-feature")
    return Engine(ws, inc.id)


def test_runs_the_current_step_and_replays_from_the_store(ws, athena):
    assert athena.runbook.id == "null-feature"
    assert athena.current().id == "acknowledge"
    view = athena.run_step()
    assert view.state == "done" and ws.store.get(athena.incident_id).acknowledged_at
    view = athena.run_step()
    assert view.id == "confirm_nulls" and view.state == "failed"
    assert "avg_order_value_90d" in view.summary
    fresh = Engine(ws, athena.incident_id)  # a restarted process
    assert [(v.id, v.state) for v in fresh.steps()] == [(v.id, v.state) for v in athena.steps()]
    assert fresh.current().id == "blast_radius"
    assert fresh.step("confirm_nulls").values["top_feature"] == "avg_order_value_90d"


def test_actions_wait_for_confirmation_and_support_dry_run(ws, athena):
    athena.run_step("confirm_nulls")  # pause_batch runs `when` the null check failed
    before = len(ws.store.events(athena.incident_id))
    view = athena.run_step("pause_batch")
    assert view.needs_confirmation and view.needs == "confirm" and view.state == "pending"
    assert view.plan.paused_before is False and view.plan.paused_after is True
    dry = athena.run_step("pause_batch", dry_run=True)
    assert dry.plan.summary == "pause churn batch job" and dry.state == "pending"
    assert len(ws.store.events(athena.incident_id)) == before  # nothing recorded
    assert not ws.backends.traffic.batch_paused("churn")
    done = athena.run_step("pause_batch", confirm=True)
    assert done.state == "done" and ws.backends.traffic.batch_paused("churn")
    actions = kinds(ws, athena.incident_id, "action.")
    assert actions[:2] == ["action.requested", "action.confirmed"] and "action.finished" in actions
    # the pause was applied (read back): mitigation applied, acknowledging implied, phase
    # mitigate; mitigated waits for the signal to be seen back
    inc = ws.store.get(athena.incident_id)
    assert inc.acknowledged_at and inc.mitigation_applied_at
    assert inc.acknowledged_at <= inc.mitigation_applied_at and inc.mitigated_at is None
    assert inc.phase == "mitigate" and inc.status == "mitigating"
    assert "recovery.watching" in kinds(ws, athena.incident_id, "recovery.")


def test_phases_advance_one_at_a_time(ws, athena):
    def changes():
        return [
            (e.payload["from"], e.payload["to"])
            for e in ws.store.events(athena.incident_id)
            if e.kind == "phase.changed"
        ]

    # a check taken ahead of the flow is recorded but does not move the incident
    assert athena.run_step("schema").state in ("passed", "failed")
    assert changes() == [] and ws.store.get(athena.incident_id).phase == "detect"
    # acting on the world does: every phase passed is recorded, one at a time
    athena.run_step("rollback", confirm=True)
    assert changes() == [
        ("detect", "triage"),
        ("triage", "mitigate"),
        ("mitigate", "diagnose"),
        ("diagnose", "fix"),
    ]
    assert ws.store.get(athena.incident_id).phase == "fix"


def test_decisions_need_an_answer_and_jump(ws, athena):
    with pytest.raises(InvalidInput, match="decision"):
        athena.run_step("decide")
    with pytest.raises(InvalidInput, match="not an option"):
        athena.run_step("decide", answer="pray")
    assert kinds(ws, athena.incident_id, "step.") == []  # nothing half-recorded
    view = athena.run_step("decide", answer="hotfix", note="the upstream rename")
    assert view.answer == "hotfix" and "the upstream rename" in view.summary
    # decided ahead of the flow: remembered, but the steps before it are still to do
    assert athena.current().id == "acknowledge"
    states = {v.id: v.state for v in athena.steps()}
    assert states["rollback"] == "skipped" and states["retrain"] == "skipped"
    # when the flow gets there it follows the decision
    skip_to(athena, "decide")
    assert athena.current().id == "hotfix_mapping"


def test_notes_and_action_items_go_on_the_timeline(ws, athena):
    with pytest.raises(InvalidInput, match="asks"):
        athena.run_step("why_1")
    athena.run_step("why_1", note="the feature was null")
    notes = [e for e in ws.store.events(athena.incident_id) if e.kind == "note"]
    assert notes[-1].message == "the feature was null" and notes[-1].payload["tag"] == "why"
    athena.run_step("action_items")
    items = [e.payload for e in ws.store.events(athena.incident_id) if e.kind == "action_item"]
    assert len(items) == 4 and {i["type"] for i in items} == {"prevent", "mitigate", "detect"}
    assert all(i["owner"] == "growth-ml" and i["due"] for i in items)


def skip_to(engine, step_id: str) -> None:
    """Skip every step from the flow's current one until the flow passes ``step_id``'s
    predecessors (stops at ``step_id`` or wherever the flow goes past it)."""
    order = [s.id for s in engine.steps()]
    while (
        (cur := engine.current()) is not None
        and cur.id != step_id
        and order.index(cur.id) < order.index(step_id)
    ):
        engine.run_step(cur.id, answer="skip")


def test_a_step_taken_ahead_keeps_the_flow_where_it_was(ws, athena):
    assert athena.run_step("why_1", note="early").state == "done"
    assert athena.current().id == "acknowledge"
    skip_to(athena, "why_1")
    assert athena.current().id == "why_2"  # the flow passes over the why written early


def test_skip_and_when(ws, athena):
    skip_to(athena, "tell_consumers")
    view = athena.run_step("tell_consumers", answer="skip")
    assert view.state == "skipped" and athena.current().id == "breaker"
    # the batch is paused only when a null-rate check failed: none has run yet
    view = athena.run_step("pause_batch")
    assert view.state == "skipped" and "only when results.breaker.failed" in view.summary
    # not a drill, but a simulated world: the fix can be deployed (the demo can be fixed)
    assert ws.backends.world.active_faults()
    assert athena.run_step("deploy_fix").state == "pending"  # an action: confirm first
    view = athena.run_step("deploy_fix", confirm=True)
    assert view.state == "done", view.summary
    assert not ws.backends.world.active_faults()


def test_a_check_that_hangs_fails_with_a_timeout(ws, athena, monkeypatch):
    load_registries()

    def slow(ctx, params):
        time.sleep(1.0)

    monkeypatch.setitem(CHECKS, "null_rate", replace(CHECKS["null_rate"], fn=slow))
    athena.check_timeout_s = 0.1
    view = athena.run_step("confirm_nulls")
    assert view.state == "failed" and "did not finish" in view.summary


def test_a_step_that_started_and_never_finished_reads_running(ws, athena):
    ws.store.append(
        athena.incident_id,
        "step.started",
        "crash mid-check",
        actor="tester",
        at=ws.now(),
        payload={"step": "confirm_nulls", "phase": "detect"},
    )
    assert Engine(ws, athena.incident_id).step("confirm_nulls").state == "running"


def test_the_ended_runbook_refuses_to_run(ws, athena):
    skip_to(athena, "publish_review")
    athena.run_step("publish_review")
    with pytest.raises(InvalidTransition, match="ended"):
        athena.run_step()


def test_async_run_step(ws, athena):
    view = asyncio.run(athena.arun_step())
    assert view.id == "acknowledge" and view.state == "done"


def test_repeated_firing_is_deduplicated_into_the_open_incident(ws):
    inc, rb = open_scenario(ws, "athena-null-feature")
    alert = next(
        a for a in ws.backends.metrics.active_alerts() if a.fingerprint == inc.alert_fingerprint
    )
    again, rb2, created = open_incident(ws, alert)
    assert not created and again.id == inc.id and rb2.id == rb.id
    assert inc.severity == "SEV2"  # the runbook's default severity
    assert "alert.firing" in kinds(ws, inc.id)


def test_manual_incident_gets_the_generic_runbook(ws):
    inc = open_manual(ws, "pricing", "prices look odd")
    engine = Engine(ws, inc.id)
    assert engine.runbook.id == "model-misbehaving"
    assert ws.store.get(inc.id).runbook == "model-misbehaving"
    assert engine.run_step().state == "done"  # acknowledge


def test_manual_incident_with_a_named_runbook(ws):
    inc = open_manual(ws, "churn", "nulls seen by a person", runbook="null-feature")
    assert Engine(ws, inc.id).runbook.id == "null-feature"


def test_answer_yes_confirms_an_action(ws, athena):
    assert athena.run_step("resume_batch").needs_confirmation
    view = athena.run_step("resume_batch", answer="yes")
    assert view.state == "done" and view.summary == "churn batch job already running"


def test_a_failing_fix_check_holds_the_flow_before_the_batch_resumes(ws, athena):
    # the fault is still live: the feature stays null, so the batch must not resume
    skip_to(athena, "verify_fix")
    view = athena.run_step("verify_fix")
    assert view.state == "failed"
    assert athena.current().id == "verify_fix"  # not resume_batch


def test_a_refresh_folds_only_new_step_events_and_sees_another_console(ws, athena, clock):
    from console.runbooks.state import replay
    from console.workspace import open_workspace

    first = athena.runbook.steps[0].id
    athena.run_step()  # acknowledges; the fold has seen its events
    with open_workspace("demo", clock=clock) as other:  # another console, its own store
        Engine(other, athena.incident_id).run_step()  # confirms the nulls
    reads: list[int] = []
    real = ws.store.events

    def spy(*args, **kwargs):
        if kwargs.get("kind_prefix") == "step.":
            reads.append(kwargs.get("after_seq", 0))
        return real(*args, **kwargs)

    ws.store.events = spy  # type: ignore[method-assign]
    try:
        assert athena.current().id == "blast_radius"  # the other console's step is seen
    finally:
        del ws.store.events
    assert reads and all(after > 0 for after in reads)  # only what came after the fold
    full = replay(
        ws.store.events(athena.incident_id, kind_prefix="step."), first, runbook="null-feature"
    )
    folded = athena._replay()
    assert folded.records == full.records and folded.cursor == full.cursor
    folded.records["acknowledge"].state = "pending"  # a caller's copy, not the fold
    assert athena._replay().records["acknowledge"].state == "done"
