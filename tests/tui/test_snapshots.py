"""SVG snapshots of the key screens at 120×36 (and the incident at 80×24) with a fixed clock
and seed. Regenerate deliberately with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them."""

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


def loaded(app, kind):
    return isinstance(app.screen, kind) and getattr(app.screen, "view", None) is not None


def test_fleet(snap_compare, make_app, demo):
    app = make_app()

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, FleetScreen))

    assert snap_compare(app, terminal_size=WIDE, run_before=before)


@pytest.mark.parametrize("size", [WIDE, (80, 24)], ids=["120x36", "80x24"])
def test_incident(snap_compare, make_app, demo, size):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=before)


def test_rollback_modal(snap_compare, make_app, demo):
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

    assert snap_compare(app, terminal_size=WIDE, run_before=before)


def test_model(snap_compare, make_app, demo):
    app = make_app()

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, FleetScreen))
        app.open_model("churn")
        await settle(pilot, lambda: loaded(app, ModelScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=WIDE, run_before=before)


def test_drift(snap_compare, make_app, demo):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.press("d")
        await settle(pilot, lambda: loaded(app, DriftScreen), timeout=60)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=WIDE, run_before=before)


def test_review(snap_compare, make_app, demo):
    app = make_app(incident=demo.incident.id)

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, IncidentScreen))
        await pilot.press("v")
        await settle(pilot, lambda: loaded(app, ReviewScreen), timeout=60)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=WIDE, run_before=before)


def test_help(snap_compare, make_app, demo):
    app = make_app()

    async def before(pilot):
        await settle(pilot, lambda: loaded(app, FleetScreen))
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=WIDE, run_before=before)
