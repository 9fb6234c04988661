"""Drive the console with the pilot: open the demo incident, roll back with R, kill switch
with K, and see the outcome on the timeline and in the simulated signals."""

from console.tui.screens.confirm import MitigationModal
from console.tui.screens.fleet import FleetScreen
from console.tui.screens.incident import IncidentScreen
from console.workspace import open_workspace
from tests.tui.conftest import settle


async def test_fleet_lists_every_model_and_opens_the_incident(make_app, demo):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        assert isinstance(fleet, FleetScreen)
        await settle(pilot, lambda: fleet.view is not None)
        models = {r.status.model for r in fleet.view.rows}
        assert {"churn", "recommendations", "credit-score", "fraud", "pricing"} <= models
        churn = next(r for r in fleet.view.rows if r.status.model == "churn")
        assert churn.status.open_incidents == [demo.incident.id]
        fleet.query_one("DataTable").move_cursor(
            row=[r.status.model for r in fleet.view.rows].index("churn")
        )
        await pilot.press("i")
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
        inc = app.screen
        await settle(pilot, lambda: inc.view is not None)
        assert inc.view.incident.id == demo.incident.id
        assert "avg_order_value_90d" in inc.view.incident.title


async def test_i_on_a_firing_model_opens_its_incident_from_the_alerts(make_app, clock):
    with open_workspace("demo", clock=clock) as ws:
        ws.backends.world.inject("pricing-zero")
        ws.backends.world.advance()
        assert ws.store.find_open(model="pricing", env="demo") is None
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        order = [r.status.model for r in fleet.view.rows]
        table = fleet.query_one("DataTable")
        table.move_cursor(row=order.index("fraud"))  # nothing fires for fraud
        await pilot.press("i")
        await pilot.pause(0.2)
        assert app.screen is fleet
        table.move_cursor(row=order.index("pricing"))
        await pilot.press("i")
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        view = app.screen.view
        assert view.incident.model == "pricing" and view.incident.runbook == "pricing-zero"
    with open_workspace("demo", clock=clock) as ws:
        assert ws.store.find_open(model="pricing", env="demo").id == view.incident.id
        assert ws.store.find_open(model="fraud", env="demo") is None


async def test_filter_narrows_the_fleet(make_app, demo):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        await pilot.press("slash", *"fra", "enter")
        table = fleet.query_one("DataTable")
        assert [k.value for k in table.rows] == ["fraud"]


async def test_R_rolls_back_after_confirmation_and_signals_recover(make_app, clock):
    with open_workspace("demo", clock=clock) as ws:
        from console.demo import start_demo

        state = start_demo(ws, "credit-score-shift")
        bad = ws.backends.metrics.query("prediction_mean", "credit-score")
    app = make_app(incident=state.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        await pilot.press("R")
        await settle(pilot, lambda: isinstance(app.screen, MitigationModal))
        modal = app.screen
        await settle(pilot, lambda: modal.state == "ready")
        assert modal.plan.pointer_before == "v5" and modal.plan.pointer_after == "v4"
        assert app.paused  # refresh pauses while the modal is open
        await pilot.press("y")
        await settle(pilot, lambda: modal.state == "done")
        assert modal.result.status == "applied" and modal.result.verified
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
        inc = app.screen
        await settle(
            pilot,
            lambda: any(
                e.kind == "action.finished" for e in (inc.view.timeline if inc.view else [])
            ),
        )
    clock.advance(minutes=15)
    with open_workspace("demo", clock=clock) as ws:
        assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}
        after = ws.backends.metrics.query("prediction_mean", "credit-score")
    assert bad < 600 and abs(after - 645) < 10


async def test_n_cancels_and_changes_nothing(make_app, demo, clock):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        await pilot.press("K")
        await settle(pilot, lambda: isinstance(app.screen, MitigationModal))
        await settle(pilot, lambda: app.screen.state in ("ready", "blocked"))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
    with open_workspace("demo", clock=clock) as ws:
        assert not [e for e in ws.store.events(all_incidents=True) if e.kind.startswith("action.")]


async def test_K_kill_switch_routes_to_fallback(make_app, clock):
    with open_workspace("demo", clock=clock) as ws:
        from console.demo import start_demo

        state = start_demo(ws, "pricing-zero")
    app = make_app(incident=state.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        await pilot.press("K")
        await settle(pilot, lambda: isinstance(app.screen, MitigationModal))
        modal = app.screen
        await settle(pilot, lambda: modal.state == "ready")
        await pilot.press("y")
        await settle(pilot, lambda: modal.state == "done")
        assert modal.result.status == "applied"
        await pilot.press("escape")
    with open_workspace("demo", clock=clock) as ws:
        assert ws.backends.traffic.routes("pricing") == {"v2": 100.0}
        events = ws.store.events(state.incident.id)
        assert any(
            e.kind == "action.finished" and e.payload["action"] == "killswitch" for e in events
        )


async def test_read_only_removes_dangerous_keys(make_app, demo):
    app = make_app(incident=demo.incident.id, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        await pilot.press("R")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, MitigationModal)
        assert all(not c.dangerous for c in app.commands)


async def test_help_lists_registry_commands(make_app, demo):
    from console.tui.commands import COMMANDS
    from console.tui.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen.query_one("DataTable")
        ids = [table.get_row_at(i)[3] for i in range(table.row_count)]
        # every command once, the most important first; the nine decision keys share a row
        expected = [
            "answer_1 … answer_9" if c.id == "answer_1" else c.id
            for c in sorted(COMMANDS, key=lambda c: c.rank)
            if not (c.id.startswith("answer_") and c.id != "answer_1")
        ]
        assert ids == expected


async def test_keys_are_remappable(make_app, demo):
    app = make_app(incident=demo.incident.id, keys={"rollback": "X"})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        await pilot.press("X")
        await settle(pilot, lambda: isinstance(app.screen, MitigationModal))


async def test_review_edits_an_action_item(make_app, demo, clock):
    from console.incidents import add_action_item
    from console.reports.record import action_items
    from console.tui.screens.note import NoteModal
    from console.tui.screens.review import ReviewScreen

    with open_workspace("demo", clock=clock) as ws:
        add_action_item(ws, demo.incident.id, what="schema validation", type="prevent")
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("v")
        await settle(
            pilot,
            lambda: isinstance(app.screen, ReviewScreen) and app.screen.view is not None,
            timeout=60,
        )
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, NoteModal))
        app.screen.query_one("Input").value = "schema validation; ana; 2026-12-15; prevent"
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await settle(
            pilot,
            lambda: app.screen.view.action_items and app.screen.view.action_items[0].owner == "ana",
        )
    with open_workspace("demo", clock=clock) as ws:
        [item] = action_items(ws.store.events(demo.incident.id))
        assert (item.owner, item.due) == ("ana", "2026-12-15")


async def test_space_runs_the_runbook_checks_and_confirms_actions(make_app, demo, clock):
    from console.runbooks.engine import Engine
    from console.tui.screens.step_confirm import StepConfirmModal

    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        inc_screen = app.screen
        assert inc_screen.view.current.id == "acknowledge"
        for _ in range(2):  # acknowledge, then the null-rate check
            before = inc_screen.view.current.id
            await pilot.press("space")
            await settle(pilot, lambda b=before: inc_screen.view.current.id != b, timeout=60)
        # walk on to the first action that needs a person's yes (pausing the batch job)
        for _ in range(8):
            cur = inc_screen.view.current
            if cur.kind == "action" and cur.name == "pause_batch":
                break
            if cur.kind in ("note", "decision"):
                break
            await pilot.press("space")
            await settle(
                pilot,
                lambda c=cur.id: (
                    inc_screen.view.current.id != c or isinstance(app.screen, StepConfirmModal)
                ),
                timeout=60,
            )
        assert inc_screen.view.current.name == "pause_batch"
        await pilot.press("space")
        await settle(pilot, lambda: isinstance(app.screen, StepConfirmModal), timeout=60)
        await pilot.press("y")
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, IncidentScreen)
                and inc_screen.view.current.name != "pause_batch"
            ),
            timeout=60,
        )
    with open_workspace("demo", clock=clock) as ws:
        steps = {s.id: s for s in Engine(ws, demo.incident.id).steps()}
        assert ws.backends.traffic.batch_paused("churn")
        inc = ws.store.get(demo.incident.id)
        # applied (read back), not yet mitigated: that waits for the scores to be seen back
        assert inc.acknowledged_at and inc.mitigation_applied_at and inc.mitigated_at is None
    null_check = next(s for s in steps.values() if s.name == "null_rate")
    assert null_check.state in ("failed", "passed")
    assert "avg_order_value_90d" in null_check.summary


async def test_failing_backend_marks_rows_and_keeps_the_ui_alive(make_app, demo, clock):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        with open_workspace("demo", clock=clock) as ws:
            ws.backends.world.break_backend("metrics", "active_alerts", mode="error", times=-1)
        fleet.refresh_data()
        await settle(pilot, lambda: all(r.status.health == "unknown" for r in fleet.view.rows))
        assert all(r.status.error for r in fleet.view.rows)
        # the screen still answers keys
        await pilot.press("question_mark")
        from console.tui.screens.help import HelpScreen

        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_slow_backend_shows_degraded_with_last_good_time(make_app, demo, clock):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        app.bridge.timeout = 0.5
        with open_workspace("demo", clock=clock) as ws:
            ws.backends.world.break_backend(
                "registry", "models", mode="timeout", times=1, delay_s=2.0
            )
        fleet.refresh_data()
        line = fleet.query_one("#statusline")
        await settle(pilot, lambda: "DEGRADED" in str(line.render()))
        assert "last good data 06:52:00 UTC" in str(line.render())
        await pilot.press("slash")  # the UI is responsive while the backend hangs
        assert fleet.query_one("#filter").has_class("visible")


def table_text(table) -> str:
    """What the DataTable draws right now (through its render caches)."""
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def test_fleet_columns_widen_when_a_cell_grows_on_refresh(make_app, clock):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        assert "CRITICAL" not in table_text(fleet.query_one("DataTable"))
        with open_workspace("demo", clock=clock) as ws:
            ws.backends.world.inject("constant-recommendations")
            ws.backends.world.advance()
            from console.intake import intake_alerts

            intake_alerts(ws, model="recommendations")
        fleet.refresh_data()
        await settle(pilot, lambda: any(r.status.health == "critical" for r in fleet.view.rows))
        await pilot.pause(0.2)
        row = next(r for r in fleet.view.rows if r.status.model == "recommendations")
        [inc] = row.status.open_incidents
        text = table_text(fleet.query_one("DataTable"))
        assert "✖ CRITICAL" in text
        assert f"alert · {inc}" in text or f"alerts · {inc}" in text


async def test_fleet_at_80_columns_shows_health_prod_and_alerts(make_app, demo):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        await pilot.pause(0.2)
        table = fleet.query_one("DataTable")
        header = table_text(table).splitlines()[0]
        for col in ("model", "health", "prod", "alerts / incidents"):
            assert col in header
        assert demo.incident.id in table_text(table)


async def test_fleet_filter_shows_itself_says_no_match_and_esc_clears_it(make_app, demo):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        table = fleet.query_one("DataTable")
        title = fleet.query_one("#title")
        await pilot.press("slash", *"pri", "enter")
        assert [k.value for k in table.rows] == ["pricing"]
        assert "filter: pri · 1 of 5 models" in str(title.render())
        await pilot.press("slash", "ctrl+u", *"zzz", "enter")
        await pilot.pause(0.1)
        assert not table.display
        empty = fleet.query_one("#fleet-empty")
        assert empty.display and "no model matches" in str(empty.render())
        await pilot.press("slash", "escape")
        await pilot.pause(0.1)
        box = fleet.query_one("#filter")
        assert not box.has_class("visible") and box.value == ""
        assert fleet.filter_text == "" and table.display and table.row_count == 5
        assert "filter" not in str(title.render())
        assert app.focused is table


async def open_review(app, pilot):
    from console.tui.screens.review import ReviewScreen

    await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
    await pilot.press("v")
    await settle(
        pilot,
        lambda: isinstance(app.screen, ReviewScreen) and app.screen.view is not None,
        timeout=60,
    )
    await pilot.pause(0.2)
    return app.screen


async def test_review_draft_scrolls_with_the_keyboard(make_app, demo):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(80, 24)) as pilot:
        review = await open_review(app, pilot)
        draft = review.query_one("#review-md")
        assert draft.max_scroll_y > 0
        await pilot.press("tab")
        assert app.focused is draft
        await pilot.press("pagedown")
        await settle(pilot, lambda: draft.scroll_y > 0)
        await pilot.press("end")
        await settle(pilot, lambda: draft.scroll_y == draft.max_scroll_y)
        await pilot.press("home")
        await settle(pilot, lambda: draft.scroll_y == 0)


async def test_review_items_are_sized_to_their_content(make_app, demo):
    from console.tui.screens.note import NoteModal

    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await open_review(app, pilot)
        await pilot.press("plus")
        await settle(pilot, lambda: isinstance(app.screen, NoteModal))
        app.screen.query_one("Input").value = "schema validation; ana; 2026-12-15; prevent"
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen is review and review.view.action_items)
        await pilot.pause(0.2)
        text = table_text(review.query_one("#items"))
        assert "schema validation" in text and "2026-12-15" in text and "prevent" in text


async def test_review_blameless_warning_is_whole(make_app, demo, clock):
    from console.incidents import add_note

    with open_workspace("demo", clock=clock) as ws:
        add_note(ws, demo.incident.id, "the on-call forgot to check the schema")
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(80, 24)) as pilot:
        review = await open_review(app, pilot)
        finding = review.view.findings[0]
        assert finding.suggestion in str(review.query_one("#blame").render())


async def test_review_refused_edit_keeps_the_text_and_shows_why(make_app, demo, clock):
    from console.incidents import add_action_item
    from console.tui.screens.note import NoteModal

    with open_workspace("demo", clock=clock) as ws:
        add_action_item(ws, demo.incident.id, what="schema validation", type="prevent")
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await open_review(app, pilot)
        typed = "schema validation; ana; next week; prevent"
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, NoteModal))
        app.screen.query_one("Input").value = typed
        await pilot.press("enter")
        await settle(
            pilot, lambda: isinstance(app.screen, NoteModal) and "next week" in app.screen.prompt
        )
        assert app.screen.query_one("Input").value == typed
        assert "not YYYY-MM-DD" in app.screen.prompt
        app.screen.query_one("Input").value = typed.replace("next week", "2026-12-20")
        await pilot.press("enter")
        await settle(
            pilot,
            lambda: (
                app.screen is review
                and review.view.action_items
                and review.view.action_items[0].due == "2026-12-20"
            ),
        )


async def test_help_title_names_the_keys_table_and_lists_the_decision_keys(make_app, demo):
    from console.tui.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "config.toml [keys])" in str(app.screen.query_one("#title").render())
        table = app.screen.query_one("DataTable")
        rows = [tuple(table.get_row_at(i)) for i in range(table.row_count)]
        assert ("1–9", "Choose a decision's option", "incident", "answer_1 … answer_9") in rows
        extra = str(app.screen.query_one("#help-extra").render())
        assert "quits on the fleet" in extra and "tab" in extra and "shift+tab" in extra


async def open_model_screen(app, pilot, model: str):
    from console.tui.screens.model import ModelScreen

    await settle(pilot, lambda: isinstance(app.screen, FleetScreen) and app.screen.view is not None)
    app.open_model(model)
    await settle(pilot, lambda: isinstance(app.screen, ModelScreen) and app.screen.view is not None)
    await pilot.pause(0.2)
    return app.screen


def serving_of(screen) -> dict[str, str]:
    table = screen.query_one("#versions")
    return {k.value: str(table.get_cell(k, "serving")) for k in table.rows}


async def test_model_header_diff_and_space_at_80x24(make_app, demo):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        model = await open_model_screen(app, pilot, "churn")
        summary = str(model.query_one("#model-summary").render())
        assert "traffic v13:100%" in summary and "{" not in summary
        # the default diff: the rollback target (previous production) → production
        assert model.view.rollback_target == "v12"
        assert str(model.query_one("#lineage-text").render()).startswith("what moved v12 → v13")
        assert serving_of(model)["v13"].startswith("◆ serving")
        table = model.query_one("#versions")
        # the versions table takes its rows, the lineage diff takes the rest
        assert table.size.height <= table.row_count + 2
        assert model.query_one("#lineage").size.height >= 10


async def test_model_versions_follow_a_rollback(make_app, demo):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        model = await open_model_screen(app, pilot, "churn")
        await pilot.press("R")
        await settle(
            pilot, lambda: isinstance(app.screen, MitigationModal) and app.screen.state == "ready"
        )
        modal = app.screen
        await pilot.press("y")
        await settle(pilot, lambda: modal.state == "done", timeout=60)
        await pilot.press("enter")
        await settle(
            pilot, lambda: app.screen is model and model.view.status.production_version == "v12"
        )
        await pilot.pause(0.2)
        serving = serving_of(model)
        assert serving["v12"].startswith("◆ serving") and "rollback" in serving["v12"]
        assert not serving["v13"].startswith("◆") and "rolled back from" in serving["v13"]
        assert "production v12" in str(model.query_one("#model-summary").render())
        assert str(model.query_one("#lineage-text").render()).startswith("what moved v12 → v13")


async def test_drift_severity_fits_at_80x24_and_the_title_names_the_window(make_app, demo):
    from console.tui.screens.drift import SEV, DriftScreen

    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        await pilot.press("d")
        await settle(
            pilot,
            lambda: isinstance(app.screen, DriftScreen) and app.screen.view is not None,
            timeout=60,
        )
        await pilot.pause(0.2)
        drift = app.screen
        text = table_text(drift.query_one("DataTable"))
        for f in drift.view.report.features[:5]:
            line = next(x for x in text.splitlines() if f.name in x)
            assert SEV[f.severity] in line
        title = str(drift.query_one("#title").render())
        assert f"{demo.incident.id} window" in title
        assert drift.view.windows["current"] in title
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_model_screen(app, pilot, "churn")
        await pilot.press("d")
        await settle(
            pilot,
            lambda: isinstance(app.screen, DriftScreen) and app.screen.view is not None,
            timeout=60,
        )
        assert "last 60 min" in str(app.screen.query_one("#title").render())
