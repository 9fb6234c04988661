"""The console says what it observed (issue: the record tells the truth): R on a data fault
warns that a rollback cannot help and leaves the incident MITIGATING, not mitigated; R on a
model fault is RECOVERED only once the signal is seen back; the canary is removed, not the
champion."""

from console.enums import Recovery
from console.tui.screens.confirm import MitigationModal
from console.tui.screens.incident import IncidentScreen
from console.workspace import open_workspace
from tests.tui.conftest import settle


async def open_incident(pilot, app):
    await settle(
        pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
    )
    return app.screen


async def press_R_y(pilot, app):
    await pilot.press("R")
    await settle(pilot, lambda: isinstance(app.screen, MitigationModal))
    modal = app.screen
    await settle(pilot, lambda: modal.state in ("ready", "blocked"))
    return modal


async def test_R_on_the_null_feature_demo_warns_and_stays_mitigating(make_app, demo, clock):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_incident(pilot, app)
        modal = await press_R_y(pilot, app)
        assert modal.state == "ready"
        [warning] = [w for w in modal.plan.warnings if w.code == "no_change_before_onset"]
        assert "a rollback may not help" in warning.message
        assert "Pause the churn batch job" in warning.message  # the runbook's alternative
        shown = str(modal.query_one("#dialog-plan").render())
        assert shown.index("nothing moved") < shown.index("rollback churn v13 → v12")
        await pilot.press("y")
        await settle(pilot, lambda: modal.state == "done")
        assert modal.result.status == "applied"
        assert modal.result.recovery.state is Recovery.WATCHING
        progress = str(modal.query_one("#dialog-progress").render())
        assert "✔ APPLIED" in progress and "VERIFIED" not in progress
        assert "watching recovery: positive_rate" in progress and "needs ≤" in progress
        await pilot.press("enter")
        screen = await open_incident(pilot, app)
        screen.refresh_data()
        await app.workers.wait_for_complete()
        assert screen.view.recovery.state is Recovery.WATCHING
    with open_workspace("demo", clock=clock) as ws:
        inc = ws.store.get(demo.incident.id)
        assert inc.phase == "mitigate" and inc.status == "mitigating"
        assert inc.mitigation_applied_at is not None and inc.mitigated_at is None
        # the runbook's rollback step is settled by the R, whichever path ran it
        from console.runbooks.engine import Engine

        assert Engine(ws, inc.id).step("rollback").state == "done"
        clock.advance(minutes=20)  # past the watch's deadline: the signal never came back
        from console.recovery import observe

        w = observe(ws, inc.id)
        assert w.state is Recovery.NOT_RECOVERED
        assert any("Pause the churn batch job" in o for o in w.next_options)
        inc = ws.store.get(inc.id)
        assert inc.mitigated_at is None  # the cost clock still runs


async def test_R_on_credit_score_shift_is_mitigated_when_the_signal_is_seen_back(make_app, clock):
    with open_workspace("demo", clock=clock) as ws:
        from console.demo import start_demo

        state = start_demo(ws, "credit-score-shift")
    app = make_app(incident=state.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_incident(pilot, app)
        modal = await press_R_y(pilot, app)
        # v5 has served for 9 days: the plan warns (its bad feed is data, not a deploy), but
        # the warning does not block, and here the previous version reads the old feed
        assert [w.code for w in modal.plan.warnings] == ["no_change_before_onset"]
        await pilot.press("y")
        await settle(pilot, lambda: modal.state == "done")
        applied_at = None
        await pilot.press("enter")
        screen = await open_incident(pilot, app)
        for _ in range(30):  # the simulated signal comes back over the next minutes
            clock.advance(minutes=1)
            screen.refresh_data()
            await app.workers.wait_for_complete()
            if screen.view.recovery and screen.view.recovery.state is Recovery.RECOVERED:
                break
        assert screen.view.recovery.state is Recovery.RECOVERED
        assert "RECOVERED: prediction_mean" in screen.view.recovery.line()
    with open_workspace("demo", clock=clock) as ws:
        inc = ws.store.get(state.incident.id)
        applied_at = inc.mitigation_applied_at
        assert applied_at is not None and inc.mitigated_at is not None
        assert applied_at < inc.mitigated_at  # seen back some minutes after the rollback
        assert inc.status == "mitigated"
        [ev] = [e for e in ws.store.events(inc.id) if e.kind == "incident.mitigated"]
        assert ev.payload["observed_at"] == inc.mitigated_at.isoformat()


async def test_R_in_the_canary_scenario_removes_the_canary(make_app, clock):
    with open_workspace("demo", clock=clock) as ws:
        from console.demo import start_demo

        state = start_demo(ws, "canary-latency-spike")
        before = ws.backends.traffic.routes("fraud")
    assert before == {"v21": 75.0, "v22": 25.0}
    app = make_app(incident=state.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_incident(pilot, app)
        modal = await press_R_y(pilot, app)
        assert modal.plan.rule == "remove_canary"
        assert modal.plan.routes_after == {"v21": 100.0}
        assert modal.plan.pointer_before == modal.plan.pointer_after == "v21"
        shown = str(modal.query_one("#dialog-plan").render())
        assert "v22 (25%)" in shown and "not promoted" in shown
        await pilot.press("y")
        await settle(pilot, lambda: modal.state == "done")
        assert modal.result.status == "applied"
    with open_workspace("demo", clock=clock) as ws:
        assert ws.backends.traffic.routes("fraud") == {"v21": 100.0}
        assert ws.backends.registry.production_version("fraud") == "v21"
