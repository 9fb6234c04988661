"""A hung Prometheus (SIGSTOP: it accepts connections and never answers) never freezes the
console: on the fleet and on an incident DEGRADED appears within the deadline, and R still
opens its plan — against the real Prometheus, Alertmanager, MLflow and HAProxy."""

from __future__ import annotations

import os
import signal
import time

import pytest
from textual.css.query import NoMatches

from console.incidents import open_manual
from console.tui.app import RollbookApp
from console.tui.screens.confirm import MitigationModal
from console.tui.screens.incident import IncidentScreen
from console.workspace import open_workspace
from tests.integration.realstack import MODEL
from tests.tui.conftest import settle

pytestmark = pytest.mark.integration


async def test_a_sigstopped_prometheus_degrades_within_the_deadline_and_R_opens(
    real_ws, prometheus_server
):
    inc = open_manual(real_ws, MODEL, "drill: Prometheus hangs")
    app = RollbookApp(lambda: open_workspace("local"), refresh_seconds=3600)
    pid = prometheus_server.proc.pid
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            fleet = app.screen
            await settle(pilot, lambda: getattr(fleet, "view", None) is not None, timeout=30)
            app.bridge.timeout = 3.0
            os.kill(pid, signal.SIGSTOP)
            t0 = time.monotonic()
            for _ in range(4):  # refreshes keep coming; none may restart the hung call
                fleet.refresh_data()
                await pilot.pause(0.2)
            line = fleet.query_one("#statusline")
            await settle(pilot, lambda: "DEGRADED" in str(line.render()), timeout=10)
            assert time.monotonic() - t0 < 6.0  # within the deadline (3 s) and a little
            app.open_incident(inc.id)
            await settle(pilot, lambda: isinstance(app.screen, IncidentScreen), timeout=10)
            screen = app.screen

            def shown() -> bool:  # loaded, or saying it cannot (DEGRADED)
                try:
                    line = str(screen.query_one("#statusline").render())
                except NoMatches:
                    return False  # not composed yet
                return screen.view is not None or "DEGRADED" in line

            await settle(pilot, shown, timeout=10)
            t1 = time.monotonic()
            await pilot.press("R")
            await settle(pilot, lambda: isinstance(app.screen, MitigationModal), timeout=5)
            modal = app.screen
            await settle(pilot, lambda: modal.state in ("ready", "blocked"), timeout=15)
            assert time.monotonic() - t1 < 12.0
            assert modal.plan is not None and modal.plan.pointer_after == "1"
            await pilot.press("escape")
    finally:
        os.kill(pid, signal.SIGCONT)
