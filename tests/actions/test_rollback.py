import pytest

from console.actions.pending import incomplete_actions
from console.actions.rollback import plan_rollback, rollback
from console.errors import ActionRefused


def kinds(ws, incident_id=None):
    return [e.kind for e in ws.store.events(incident_id)]


def test_rollback_during_credit_score_shift_restores_previous_and_recovers(ws, world, clock):
    world.inject("credit-score-shift")
    bad_mean = ws.backends.metrics.query("prediction_mean", "credit-score")
    assert bad_mean < 600  # the shifted scores
    res = rollback(ws, "credit-score")
    assert res.status == "applied" and res.verified, res.message
    assert res.plan.pointer_before == "v5" and res.plan.pointer_after == "v4"
    assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}
    assert ws.backends.registry.production_version("credit-score") == "v4"
    clock.advance(minutes=15)
    recovered = ws.backends.metrics.query("prediction_mean", "credit-score")
    assert abs(recovered - 645) < 10
    # second run: nothing changes and it says so
    again = rollback(ws, "credit-score", to="v4")
    assert again.status == "noop" and "nothing changed" in again.message
    assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}


def test_rollback_timeline_records_every_step_with_before_and_after(ws, world):
    world.inject("credit-score-shift")
    res = rollback(ws, "credit-score")
    evs = [
        e
        for e in ws.store.events(all_incidents=True)
        if e.payload.get("action_id") == res.action_id
    ]
    assert [e.kind for e in evs] == [
        "action.requested",
        "action.confirmed",
        "action.step",
        "action.step",
        "action.step",
        "action.verified",
        "action.finished",
    ]
    steps = [e.payload["step"] for e in evs if e.kind == "action.step"]
    assert [s["name"] for s in steps] == ["traffic", "registry", "verify"]
    assert steps[0]["before"] == {"v5": 100.0} and steps[0]["after"] == {"v4": 100.0}
    assert steps[1]["before"] == "v5" and steps[1]["after"] == "v4"
    assert all(s["duration_ms"] >= 0 for s in steps)
    assert evs[-1].payload["before"]["production"] == "v5"
    assert evs[0].actor == "tester"


def test_dry_run_changes_nothing(ws, world):
    world.inject("credit-score-shift")
    n = len(ws.store.events(all_incidents=True))
    res = rollback(ws, "credit-score", dry_run=True)
    assert res.status == "dry-run" and res.plan.routes_after == {"v4": 100.0}
    assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}
    assert ws.backends.registry.production_version("credit-score") == "v5"
    assert len(ws.store.events(all_incidents=True)) == n


def test_traffic_failure_leaves_nothing_changed(ws, world):
    world.break_backend("traffic", "set_routes", mode="error", times=1)
    res = rollback(ws, "credit-score", to="v4")
    assert res.status == "failed" and "nothing changed" in res.message
    assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}
    assert ws.backends.registry.production_version("credit-score") == "v5"
    assert kinds(ws)[-1] == "action.failed"


def test_registry_failure_after_traffic_is_explicitly_partial_and_finish_works(ws, world):
    world.break_backend("registry", "set_production", mode="error", times=1)
    res = rollback(ws, "credit-score", to="v4")
    assert res.status == "partial" and res.exit_code == 6
    assert res.finish == "rollbook rollback credit-score --to v4 --yes"
    assert "rollbook pointer credit-score v5" in res.undo
    assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}
    assert ws.backends.registry.production_version("credit-score") == "v5"
    partial = [e for e in ws.store.events() if e.kind == "action.partial"]
    assert partial and partial[0].payload["finish"] == res.finish
    done = rollback(ws, "credit-score", to="v4")  # exactly what the finish command does
    assert done.status == "applied" and done.verified
    assert ws.backends.registry.production_version("credit-score") == "v4"


def test_timeout_reads_state_back(ws, world):
    world.break_backend("traffic", "set_routes", mode="timeout", times=1, delay_s=2.0)
    res = rollback(ws, "credit-score", to="v4", timeout=0.5)
    assert res.status in ("failed", "compensated")
    assert "timed out" in res.message
    assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}


def test_preflight_blocks_corrupt_artifact_unless_overridden(ws, world):
    world.corrupt_artifact("credit-score", "v4")
    res = rollback(ws, "credit-score", to="v4")
    assert res.status == "refused" and "artifact" in res.message
    assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}
    res = rollback(ws, "credit-score", to="v4", overrides=("artifact",))
    assert res.status == "applied"
    req = [e for e in ws.store.events() if e.kind == "action.requested"][-1]
    assert req.payload["overrides"] == ["artifact"]


def test_unknown_target_and_no_target(ws):
    plan = plan_rollback(ws, "credit-score", "v99")
    assert plan.blocked and plan.checks[0].name == "exists"
    with pytest.raises(ActionRefused):
        plan_rollback(ws, "credit-score", None, ("bogus",))


def test_rollback_goes_on_the_open_incident(ws, world):
    from console.demo import start_demo

    state = start_demo(ws, "pricing-zero")
    res = rollback(ws, "pricing")
    assert res.incident_id == state.incident.id
    assert "action.finished" in kinds(ws, state.incident.id)


def test_target_skips_versions_rolled_back_from(ws, world, clock):
    rollback(ws, "credit-score", to="v4")
    clock.advance(minutes=1)
    # promote v5 again by hand (pointer + traffic), then roll back without --to
    from console.actions.traffic import set_pointer, set_traffic

    set_traffic(ws, "credit-score", {"v5": 100})
    set_pointer(ws, "credit-score", "v5")
    assert plan_rollback(ws, "credit-score").pointer_after == "v4"
    assert not incomplete_actions(ws)


def test_read_only_and_two_person(ws, world, monkeypatch):
    from dataclasses import replace

    ro = replace(ws.backends.env, read_only=True)
    monkeypatch.setattr(ws.backends, "env", ro)
    with pytest.raises(ActionRefused, match="read-only"):
        rollback(ws, "credit-score", to="v4")
    tp = replace(ws.backends.env, read_only=False, two_person=True)
    monkeypatch.setattr(ws.backends, "env", tp)
    with pytest.raises(ActionRefused, match="second person"):
        rollback(ws, "credit-score", to="v4")
    with pytest.raises(ActionRefused, match="different person"):
        rollback(ws, "credit-score", to="v4", confirmed_by="Tester")
    assert rollback(ws, "credit-score", to="v4", confirmed_by="alice").status == "applied"
    confirmed = [e for e in ws.store.events() if e.kind == "action.confirmed"][-1]
    assert confirmed.payload["confirmed_by"] == "alice"


def test_versions_are_tagged_with_the_incident(ws, world):
    from console.demo import start_demo

    inc = start_demo(ws, "pricing-zero").incident
    assert rollback(ws, "pricing").status == "applied"
    tags = {v.version: v.tags for v in ws.backends.registry.versions("pricing")}
    assert tags["v3"][f"rollbook.incident.{inc.id}"] == "rolled back from"
    assert tags["v2"][f"rollbook.incident.{inc.id}"] == "rolled back to"


@pytest.mark.parametrize("mode", ["error", "timeout"])
def test_artifact_check_failing_does_not_fail_preflight(ws, world, mode):
    # A registry that cannot tell the artifact's hash (it failed, or ran past the deadline)
    # proves nothing either way: the check passes as "not available", saying why.
    world.break_backend("registry", "artifact_hash", mode=mode, times=1, delay_s=1.5)
    plan = plan_rollback(ws, "credit-score", "v4", timeout=0.5)
    art = next(c for c in plan.checks if c.name == "artifact")
    assert art.ok and art.detail.startswith("artifact hash not available to compare: ")
    assert ("timed out" if mode == "timeout" else "registry") in art.detail, art.detail
    assert not plan.blocked


def test_artifact_check_names_both_hashes(ws, world):
    recorded = ws.backends.registry.version("credit-score", "v4").lineage.artifact_hash
    bad = world.corrupt_artifact("credit-score", "v4")
    art = next(c for c in plan_rollback(ws, "credit-score", "v4").checks if c.name == "artifact")
    assert not art.ok and art.detail == f"artifact hash {bad[:12]} ≠ lineage {recorded[:12]}"


def test_dry_run_of_a_refused_rollback_says_so_and_fails(ws, world):
    res = rollback(ws, "churn", to="v1", dry_run=True)
    assert res.status == "refused" and res.exit_code == 1 and res.dry_run
    assert res.message.startswith("would be REFUSED (preflight: exists): ")
    world.corrupt_artifact("credit-score", "v4")
    res = rollback(ws, "credit-score", to="v4", dry_run=True)
    assert res.status == "refused" and "(preflight: artifact)" in res.message
    assert (
        rollback(ws, "credit-score", to="v4", dry_run=True, overrides=("artifact",)).status
        == "dry-run"
    )


def test_cli_dry_run_of_a_refused_rollback_exits_1(ws, rollbook):
    code, out, _ = rollbook("rollback", "churn", "--to", "v1", "--dry-run")
    assert code == 1, out
    flat = " ".join(out.split())
    assert "✖ FAIL exists churn has no version v1" in flat
    assert "DRY-RUN: would be REFUSED (preflight: exists)" in flat and "would roll" not in flat
    code, out, _ = rollbook("rollback", "churn", "--to", "v1")  # no question, refused
    assert code == 1 and "REFUSED: preflight failed: exists" in " ".join(out.split())
    assert ws.backends.traffic.routes("churn") == {"v13": 100.0}


def test_a_version_without_gate_results_is_not_refused(ws, monkeypatch):
    """A registry set up the normal way records no gates: "not recorded", shown, not
    blocking; a recorded failed gate still blocks."""
    from console.actions.preflight import preflight
    from console.backends.types import Lineage

    reg = ws.backends.registry
    real = reg.version

    def without_gates(model, version):
        import dataclasses

        mv = real(model, version)
        return dataclasses.replace(mv, lineage=dataclasses.replace(mv.lineage, gates={}))

    monkeypatch.setattr(reg, "version", without_gates)
    gates = next(c for c in preflight(ws, "credit-score", "v4") if c.name == "gates")
    assert gates.ok and gates.detail == "gate results not recorded for this version"
    assert Lineage(gates={"auc": False}).gates_failed == ["auc"]
