"""A hung backend never freezes the console: a refresh joins the call already in flight
instead of restarting it, DEGRADED appears within the deadline, and R never waits behind a
refresh."""

import time

from console.tui.screens.confirm import MitigationModal
from console.tui.screens.incident import IncidentScreen
from console.workspace import open_workspace
from tests.tui.conftest import settle


async def test_a_hung_alerts_call_degrades_within_the_deadline_and_R_still_opens(
    make_app, demo, clock
):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        screen = app.screen
        app.bridge.timeout = 1.0
        with open_workspace("demo", clock=clock) as ws:  # every later read of alerts hangs
            ws.backends.world.break_backend(
                "metrics", "active_alerts", mode="timeout", times=-1, delay_s=30
            )
            ws.backends.world.break_backend(
                "metrics", "query_range", mode="timeout", times=-1, delay_s=30
            )
        t0 = time.monotonic()
        for _ in range(5):  # the timer firing again and again must not restart the call
            screen.refresh_data()
            await pilot.pause(0.1)
        line = screen.query_one("#statusline")
        await settle(pilot, lambda: "DEGRADED" in str(line.render()), timeout=5)
        assert time.monotonic() - t0 < 3.0
        waited = app.bridge.busy(f"incident:{demo.incident.id}")
        assert waited is not None and waited >= 1.0  # still the first call, not a new one
        t1 = time.monotonic()
        await pilot.press("R")
        await settle(pilot, lambda: isinstance(app.screen, MitigationModal), timeout=5)
        modal = app.screen
        await settle(pilot, lambda: modal.state in ("ready", "blocked"), timeout=10)
        assert time.monotonic() - t1 < 5.0
        assert modal.plan is not None and modal.plan.pointer_after == "v12"
        await pilot.press("escape")


async def test_an_answer_that_comes_after_the_deadline_is_shown_by_the_next_refresh(
    make_app, demo, clock
):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        screen = app.screen
        app.bridge.timeout = 0.5
        with open_workspace("demo", clock=clock) as ws:  # the next read takes 1.5 s, once
            ws.backends.world.break_backend(
                "registry", "production_version", mode="timeout", times=1, delay_s=1.5
            )
        before = screen.view.now
        clock.advance(minutes=1)
        screen.refresh_data()
        line = screen.query_one("#statusline")
        await settle(pilot, lambda: "DEGRADED" in str(line.render()), timeout=5)
        await pilot.pause(1.5)  # the late answer arrives
        screen.refresh_data()
        await app.workers.wait_for_complete()
        assert screen.view.now > before  # shown, not thrown away for a new hung call
        assert "DEGRADED" not in str(line.render())
