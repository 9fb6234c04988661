"""The incident screen as a tired operator uses it: the palette, running steps, read-only."""

from console.tui.screens.confirm import MitigationModal
from console.tui.screens.incident import IncidentScreen
from tests.tui.conftest import settle


async def mitigate(pilot, app, key: str):
    """Press a mitigation key, wait for the plan, confirm with y, wait for the outcome."""
    await pilot.press(key)
    await settle(
        pilot, lambda: isinstance(app.screen, MitigationModal) and app.screen.state == "ready"
    )
    await pilot.press("y")
    modal = app.screen
    await settle(pilot, lambda: modal.state == "done")
    return modal


async def _incident(pilot, app):
    await settle(
        pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
    )
    return app.screen


async def test_palette_offers_the_screens_commands_once_and_runs_them(make_app, demo):
    from console.tui.app import RegistryCommands

    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _incident(pilot, app)
        hits = [
            h.text.plain if hasattr(h.text, "plain") else str(h.text)
            async for h in RegistryCommands(screen).search("o")
        ]
        assert len(hits) == len(set(hits)), hits
        assert any("Rollback" in h for h in hits) and any("Note" in h for h in hits)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"rollback")
        await pilot.pause(0.5)
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, MitigationModal))
        assert app.screen.model == "churn"


async def test_a_second_space_while_a_step_runs_does_not_run_it_twice(
    make_app, demo, clock, monkeypatch
):
    import time

    import console.tui.intents as intents
    from console.workspace import open_workspace

    slow = intents.run_step

    def run_step(ws, *a, **kw):
        time.sleep(0.8)  # a check that takes a while (a recovery check watches its signal)
        return slow(ws, *a, **kw)

    monkeypatch.setattr(intents, "run_step", run_step)
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _incident(pilot, app)
        await pilot.press("j")  # off the acknowledge action, onto the null-rate check
        step = screen.focused_step()
        assert step.kind == "check"
        await pilot.press("space")
        await pilot.pause(0.1)
        assert screen.running and screen.running[0] == step.id
        assert "running for" in str(screen.render_keys(screen.view))
        await pilot.press("space")
        await settle(pilot, lambda: screen.running is None)
        await pilot.pause(0.3)
    with open_workspace("demo", clock=clock) as ws:
        started = [
            e
            for e in ws.store.events(demo.incident.id)
            if e.kind == "step.started" and e.payload["step"] == step.id
        ]
    assert len(started) == 1


async def test_a_note_written_ahead_keeps_the_phase_and_phases_tick_by_their_steps(make_app, demo):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _incident(pilot, app)
        ids = [s.id for s in screen.view.steps]
        await pilot.press(*["j"] * ids.index("why_1"))
        assert screen.focused_step().id == "why_1"
        phases = screen.render_phases(screen.view).plain
        assert "why" in phases.lower()  # the compact list follows the selection
        await pilot.press("space")
        await pilot.pause(0.3)
        await pilot.press(*"scored nulls", "enter")
        await settle(
            pilot,
            lambda: (
                screen.view
                and any(s.id == "why_1" and s.state == "done" for s in screen.view.steps)
            ),
        )
        assert screen.view.incident.phase == "detect"
        first_line = screen.render_phases(screen.view).plain.splitlines()[0]
        assert first_line.startswith("▶detect") and "✔" not in first_line


async def test_read_only_says_so_and_offers_no_action(make_app, demo):
    app = make_app(incident=demo.incident.id, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _incident(pilot, app)
        assert "READ-ONLY" in str(screen.query_one("#title").render())
        status = str(screen.query_one("#statusline").render())
        assert status.startswith("READ-ONLY") and "rollback" not in status
        await pilot.press("R")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, MitigationModal)
        assert any("read-only" in n.message for n in app._notifications)
        # the runbook's action step is not offered for a y either
        await pilot.press("space")  # acknowledge: not a production change, it runs
        await settle(
            pilot, lambda: screen.running is None and screen.view.current.id != "acknowledge"
        )
        ids = [s.id for s in screen.view.steps]
        await pilot.press(*["j"] * (ids.index("rollback") - ids.index(screen.view.current.id)))
        assert screen.focused_step().id == "rollback"
        await pilot.press("space")
        await pilot.pause(1.0)
        assert app.screen is screen
        assert any("not offered here" in n.message for n in app._notifications)


async def test_rollback_at_80x24_shows_the_verdict_and_a_second_R_names_the_first(make_app, demo):
    from textual.containers import VerticalScroll

    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await _incident(pilot, app)
        modal = await mitigate(pilot, app, "R")
        await pilot.pause(0.3)
        body = modal.query_one("#dialog-body", VerticalScroll)
        # the verdict is scrolled into view and the hint below it stays on screen
        assert body.scroll_y == body.max_scroll_y
        hint = modal.query_one("#dialog-hint")
        assert hint.region.bottom <= 24 and "close" in str(hint.render())
        assert "ROLLED BACK churn" in str(modal.query_one("#dialog-title").render())
        await pilot.press("enter")
        await pilot.press("R")
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, MitigationModal) and app.screen.state in ("ready", "blocked")
            ),
        )
        plan = str(app.screen.query_one("#dialog-plan").render())
        # a second R is a no-op that says so and offers no y
        assert "rolled back v13 → v12" in plan and "further" not in plan.split("NOTHING")[0]
        assert "NOTHING TO DO: churn was already rolled back v13 → v12" in plan
        assert "--to v11" in plan and app.screen.state == "blocked"
        assert "EXECUTE" not in str(app.screen.query_one("#dialog-hint").render())
        await pilot.press("y")
        await pilot.pause(0.2)
        assert app.screen.state == "blocked"


async def test_kill_switch_is_named_on_screen_and_U_undoes_it(make_app, demo, clock):
    from console.workspace import open_workspace

    with open_workspace("demo", clock=clock) as ws:
        before = ws.backends.traffic.routes("churn")
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _incident(pilot, app)
        modal = await mitigate(pilot, app, "K")
        assert modal.result.status == "applied"
        await pilot.press("enter")
        await settle(pilot, lambda: screen.view is not None and screen.view.killswitch)
        assert "KILL SWITCH" in str(screen.query_one("#title").render())
        modal = await mitigate(pilot, app, "U")
        assert modal.result.status == "applied" and modal.kind == "restore"
        await pilot.press("enter")
        await settle(pilot, lambda: screen.view is not None and not screen.view.killswitch)
    with open_workspace("demo", clock=clock) as ws:
        assert ws.backends.traffic.routes("churn") == before
