"""SVG snapshots of every screen at 120×36 and at 80×24, and of the incident at 80×24 on each
kind of step (action, check, manual, decision, note), with a fixed clock and seed.
Regenerate deliberately with `pytest tests/tui/test_snapshots.py --snapshot-update` and look
at the SVGs before committing them."""

import pytest

from console.tui.screens.confirm import MitigationModal
from console.tui.screens.drift import DriftScreen
from console.tui.screens.fleet import FleetScreen
from console.tui.screens.help import HelpScreen
from console.tui.screens.incident import IncidentScreen
from console.tui.screens.model import ModelScreen
from console.tui.screens.review import ReviewScreen
from tests.tui.conftest import settle

WIDE = (120, 36)
SMALL = (80, 24)
SIZES = pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x36", "80x24"])


def loaded(app, kind):
    return isinstance(app.screen, kind) and getattr(app.screen, "view", None) is not None


@SIZES
def test_fleet(snap_compare, make_app, demo, size):
    app = make_app()

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, FleetScreen))

    assert snap_compare(app, terminal_size=size, run_before=before)


@SIZES
def test_incident(snap_compare, make_app, demo, size):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=before)


# j presses from the first step (acknowledge, an action) of the null-feature runbook to a
# step of each kind
STEP_KINDS = {"check": 1, "manual": 3, "decision": 10, "note": 18}


@pytest.mark.parametrize("kind", list(STEP_KINDS))
def test_incident_step_kinds_at_80x24(snap_compare, make_app, demo, kind):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.press(*["j"] * STEP_KINDS[kind])
        assert app.screen.focused_step().kind == kind
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SMALL, run_before=before)


@SIZES
def test_rollback_modal(snap_compare, make_app, demo, size):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.press("R")
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, MitigationModal) and app.screen.state in ("ready", "blocked")
            ),
        )

    assert snap_compare(app, terminal_size=size, run_before=before)


@SIZES
def test_model(snap_compare, make_app, demo, size):
    app = make_app()

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, FleetScreen))
        app.open_model("churn")
        await settle(pilot, lambda: loaded(app, ModelScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=before)


@SIZES
def test_drift(snap_compare, make_app, demo, size):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.press("d")
        await settle(pilot, lambda: loaded(app, DriftScreen), timeout=60)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=before)


@SIZES
def test_review(snap_compare, make_app, demo, size):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.press("v")
        await settle(pilot, lambda: loaded(app, ReviewScreen), timeout=60)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=before)


@SIZES
def test_help(snap_compare, make_app, demo, size):
    app = make_app()

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, FleetScreen))
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=size, run_before=before)
