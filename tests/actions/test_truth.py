"""Every path that changes production leaves the same record, status words come from what
was observed, and a rollback goes to the last known-good state (CLI and core paths; the
console's are in tests/tui/test_truth.py)."""

import json

import pytest

from console import mitigation
from console.actions.killswitch import killswitch, restore
from console.actions.rollback import plan_rollback, rollback
from console.demo import start_demo
from console.enums import ActionKind, Recovery
from console.errors import ActionRefused
from console.recovery import observe, watch
from console.runbooks.engine import Engine


def milestones(ws, iid):
    inc = ws.store.get(iid)
    return inc.phase, inc.mitigation_applied_at, inc.mitigated_at


def test_kill_switches_stack_and_restore_returns_to_before_the_first(ws):
    before = ws.backends.traffic.routes("fraud")
    assert killswitch(ws, "fraud", level="manual").status == "applied"
    second = killswitch(ws, "fraud", level="previous")
    assert second.status == "applied"
    assert second.plan.restores_to == before  # not the manual queue the first one set
    assert restore(ws, "fraud").status == "applied"
    assert ws.backends.traffic.routes("fraud") == before
    try:
        restore(ws, "fraud")
    except ActionRefused as exc:
        assert "no kill switch to undo" in exc.message
    else:
        raise AssertionError("a second restore must say there is nothing to undo")


def test_cli_rollback_on_an_incident_records_it_like_the_console(ws, rollbook):
    state = start_demo(ws, "athena-null-feature")
    iid = state.incident.id
    code, out, _ = rollbook("rollback", "churn", "--dry-run", "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "dry-run"
    assert [w["code"] for w in data["warnings"]] == ["no_change_before_onset"]
    code, out, _ = rollbook("rollback", "churn", "--yes")
    assert code == 0, out
    # warnings are printed above the plan, the status word says what was read back
    assert out.index("nothing moved") < out.index("rollback churn v13 → v12")
    assert "✔ APPLIED: rolled back churn v13 → v12" in out and "VERIFIED" not in out
    assert "watching recovery: positive_rate" in out
    phase, applied, mitigated = milestones(ws, iid)
    assert phase == "mitigate" and applied is not None and mitigated is None
    assert Engine(ws, iid).step("rollback").state == "done"
    code, out, _ = rollbook("incident", "show", iid, "--json")
    inc = json.loads(out)["incident"]
    assert inc["mitigation_applied_at"] == applied.isoformat() and inc["mitigated_at"] is None


def test_incident_watch_sees_a_rollback_that_does_not_help(ws, clock):
    state = start_demo(ws, "athena-null-feature")
    res = rollback(ws, "churn")
    assert res.recovery.state is Recovery.WATCHING
    seen = []
    w = watch(ws, state.incident.id, poll_seconds=60, on_update=seen.append)
    assert w.state is Recovery.NOT_RECOVERED and w.rule.signal == "positive_rate"
    assert seen[0].state is Recovery.WATCHING and "min left" in seen[0].line()
    assert "NOT RECOVERED: positive_rate" in w.line() and "Pause the churn batch job" in w.line()
    assert ws.store.get(state.incident.id).mitigated_at is None
    kinds = [e.kind for e in ws.store.events(state.incident.id, kind_prefix="recovery.")]
    assert kinds == ["recovery.watching", "recovery.not_recovered"]
    # observing again records nothing more
    observe(ws, state.incident.id)
    assert len(ws.store.events(state.incident.id, kind_prefix="recovery.")) == 2


def test_a_second_mitigation_starts_a_new_watch_that_recovers(ws, clock):
    state = start_demo(ws, "athena-null-feature")
    iid = state.incident.id
    rollback(ws, "churn")
    assert watch(ws, iid, poll_seconds=60).state is Recovery.NOT_RECOVERED
    res = mitigation.run(ws, mitigation.Request(ActionKind.PAUSE_BATCH, "churn"))
    assert res.status == "applied" and res.recovery.state is Recovery.WATCHING
    w = watch(ws, iid, poll_seconds=60)
    assert w.state is Recovery.RECOVERED
    inc = ws.store.get(iid)
    # applied at the first mitigation; mitigated when the scores were seen back after the
    # second one
    assert inc.mitigation_applied_at < inc.mitigated_at <= ws.now()
    assert inc.status == "mitigated"
    assert Engine(ws, iid).step("pause_batch").state == "done"


def test_cli_wait_and_incident_watch_exit_codes(ws, rollbook, clock):
    state = start_demo(ws, "credit-score-shift")
    ws.backends.world.set_speed(3000.0)  # the processes below share the world's clock
    code, out, _ = rollbook("incident", "watch", state.incident.id, "--poll", "0.05")
    assert code == 1 and "nothing to watch" in out
    code, out, _ = rollbook("rollback", "credit-score", "--yes", "--wait")
    assert code == 0, out
    assert "RECOVERED: prediction_mean" in out
    code, out, _ = rollbook("incident", "watch", state.incident.id, "--json")
    assert code == 0 and json.loads(out.splitlines()[-1])["state"] == "recovered"


def test_the_canary_is_removed_not_the_champion(ws):
    start_demo(ws, "canary-latency-spike")
    plan = plan_rollback(ws, "fraud")
    assert (plan.rule, plan.routes_after, plan.pointer_after) == (
        "remove_canary",
        {"v21": 100.0},
        "v21",
    )
    assert "v22 (25%)" in plan.why and "not promoted" in plan.why
    res = mitigation.execute(ws, plan)
    assert res.status == "applied"
    assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}
    # nothing was rolled back from: v21 stays a good target, v22 was never production
    assert ws.backends.registry.production_version("fraud") == "v21"


def test_a_stale_plan_is_refused_not_applied_on_top(ws):
    plan = plan_rollback(ws, "churn")
    from console.actions.traffic import set_traffic

    set_traffic(ws, "churn", {"v13": 50, "v12": 50})  # someone else moved traffic meanwhile
    res = mitigation.execute(ws, plan)
    assert res.status == "refused" and "production changed since the plan" in res.message
    assert ws.backends.traffic.routes("churn") == {"v13": 50.0, "v12": 50.0}


def test_the_runbook_path_records_the_same_as_R(ws):
    state = start_demo(ws, "credit-score-shift")
    eng = Engine(ws, state.incident.id)
    view = eng.run_step("rollback")
    assert view.needs_confirmation and view.plan.pointer_after == "v4"
    done = eng.run_step("rollback", confirm=True, plan=view.plan)
    assert done.state == "done"
    phase, applied, mitigated = milestones(ws, state.incident.id)
    assert phase == "mitigate" and applied is not None and mitigated is None
    assert [e.kind for e in ws.store.events(state.incident.id, kind_prefix="recovery.")] == [
        "recovery.watching"
    ]
    # one requested event: the plan the person confirmed was executed, not re-planned
    requested = ws.store.events(state.incident.id, kind_prefix="action.requested")
    assert len(requested) == 1 and requested[0].payload["plan"]["to"] == "v4"


def test_the_kill_switch_alternative_names_the_key_as_the_user_bound_it(ws):
    from dataclasses import replace

    from console.actions.targets import runbook_alternatives

    iid = start_demo(ws, "athena-null-feature").incident.id
    default = runbook_alternatives(ws, iid, exclude=ActionKind.ROLLBACK)
    assert "the kill switch (K, or rollbook killswitch churn)" in default
    ws.config = replace(ws.config, keys={"killswitch": "X"})
    remapped = runbook_alternatives(ws, iid, exclude=ActionKind.ROLLBACK)
    assert "the kill switch (X, or rollbook killswitch churn)" in remapped


def test_a_rollback_cut_short_before_the_incident_recorded_it_is_caught_up(ws, monkeypatch):
    """Killed between the action's ``finished`` and the incident's milestone (the chaos
    suite found 2 in 2,400 kills): the next look at the incident records it, at the time it
    finished, and watches recovery — once, however many consoles look."""
    from console import recovery

    iid = start_demo(ws, "athena-null-feature").incident.id

    def killed(*_a, **_k):
        raise SystemExit(137)

    monkeypatch.setattr(mitigation, "record_on_incident", killed)
    with pytest.raises(SystemExit):
        rollback(ws, "churn")
    monkeypatch.undo()
    finished = ws.store.events(iid, kind_prefix="action.finished")
    assert len(finished) == 1 and ws.store.get(iid).mitigation_applied_at is None
    w = recovery.observe(ws, iid)
    inc = ws.store.get(iid)
    assert inc.phase == "mitigate" and inc.mitigation_applied_at == finished[0].ts
    assert w is not None and w.state is Recovery.WATCHING
    recovery.observe(ws, iid)  # a second console looking: nothing recorded twice
    watches = ws.store.events(iid, kind_prefix="recovery.watching")
    assert [e.payload["action_id"] for e in watches] == [finished[0].payload["action_id"]]
    assert len(ws.store.events(iid, kind_prefix="incident.mitigation_applied")) == 1


def test_a_rollback_that_removes_the_canary_is_the_route_back_step(ws):
    """The canary runbook's mitigation is "route 100% back to production" (set_traffic): R's
    rollback that removes the canary leaves exactly those routes, so it is that step, done;
    a traffic change to other weights is not."""
    from console.actions.traffic import set_traffic

    iid = start_demo(ws, "canary-latency-spike").incident.id
    res = set_traffic(ws, "fraud", {"v21": 90.0, "v22": 10.0})
    assert res.status == "applied"
    assert Engine(ws, iid).step("route_back").state == "pending"  # not the step's routes
    res = rollback(ws, "fraud")
    assert res.status == "applied" and res.plan.routes_after == {"v21": 100.0}
    step = Engine(ws, iid).step("route_back")
    assert step.state == "done" and "outside the runbook" in step.summary
