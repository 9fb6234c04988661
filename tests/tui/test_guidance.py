"""Guidance on every screen: the demo's help lists its scenarios, a fault that has not fired
says what it watches, a resolved incident whose model still alerts says so and offers i."""

from click.testing import CliRunner

from console.cli.world import SCENARIO_LINES, demo
from console.demo import start_demo
from console.lifecycle import mark
from console.tui.screens.fleet import FleetScreen
from console.tui.screens.incident import IncidentScreen
from console.views import fleet_view
from console.workspace import open_workspace
from tests.tui.conftest import settle


def test_demo_help_lists_every_scenario_of_the_world_once(rollbook_home, clock):
    out = CliRunner().invoke(demo, ["--help"])
    assert out.exit_code == 0
    with open_workspace("demo", clock=clock) as ws:
        known = set(ws.backends.world.scenarios())
    assert {name for name, _ in SCENARIO_LINES} == known
    for name, line in SCENARIO_LINES:
        assert name in out.output and line in out.output
    assert "Scenarios (--scenario):" in out.output


def test_a_fault_that_has_not_fired_says_what_it_watches(rollbook_home, clock):
    with open_workspace("demo", clock=clock) as ws:
        state = start_demo(ws, "canary-error-creep")
        assert state.incident is None  # under the guardrail: no alert, no incident
        view = fleet_view(ws)
    line = view.watching["fraud"]
    assert line.startswith("canary-error-creep injected, no alert yet · watching ")
    assert "error_rate" in line and "(alert above 5.0%)" in line
    assert "None" not in line and "{" not in line


async def test_the_fleet_status_line_names_the_watched_fault(make_app, clock):
    with open_workspace("demo", clock=clock) as ws:
        start_demo(ws, "canary-error-creep")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fleet = app.screen
        assert isinstance(fleet, FleetScreen)
        await settle(pilot, lambda: fleet.view is not None)
        status = str(fleet.query_one("#statusline").render())
        assert "⏳ fraud: canary-error-creep injected, no alert yet" in status


async def test_resolved_but_still_alerting_offers_i(make_app, demo, clock):
    with open_workspace("demo", clock=clock) as ws:
        mark(ws.store, demo.incident.id, "resolved", actor="tester", at=ws.now())
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        screen = app.screen
        assert screen.view.alerts_firing  # the null feature is still null
        status = str(screen.query_one("#statusline").render())
        assert "churn is still alerting" in status and "i opens its incident" in status
        assert "i incident" in " ".join(
            f"{h.key} {h.word}" for h in screen.query_one("KeyBar").shown()
        )
        await pilot.press("i")
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, IncidentScreen)
                and app.screen is not screen
                and app.screen.view is not None
            ),
        )
        assert app.screen.view.incident.id != demo.incident.id
        assert app.screen.view.incident.model == "churn"


async def test_esc_clears_the_fleet_filter(make_app, demo):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        await pilot.press("slash", *"fra", "enter")
        table = fleet.query_one("DataTable")
        assert [k.value for k in table.rows] == ["fraud"]
        assert "esc clear filter" in " ".join(
            f"{h.key} {h.word}" for h in fleet.query_one("KeyBar").shown()
        )
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert fleet.filter_text == "" and len(table.rows) == 5
        assert app.screen is fleet


def test_the_readme_examples_ship_and_give_the_worked_values(rollbook_home):
    from pathlib import Path

    from console.cli.main import cli

    root = Path(__file__).resolve().parents[2]
    runner = CliRunner()
    tco = runner.invoke(cli, ["report", "tco", str(root / "examples" / "costs.toml")])
    assert tco.exit_code == 0, tco.output
    assert "$10,400" in tco.output and "$124,800" in tco.output and "16.8:1" in tco.output
    roi = runner.invoke(cli, ["report", "roi", str(root / "examples" / "models.csv")])
    assert roi.exit_code == 0, roi.output
    for model in ("churn", "recommendations", "credit-score", "fraud", "pricing"):
        assert model in roi.output


async def test_model_serving_marks_follow_the_kill_switch(make_app, demo):
    from console.tui.screens.confirm import MitigationModal
    from console.tui.screens.model import ModelScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen) and app.screen.view)
        app.open_model("churn")
        await settle(pilot, lambda: isinstance(app.screen, ModelScreen) and app.screen.view)
        model = app.screen

        def serving() -> dict[str, str]:
            table = model.query_one("#versions")
            return {k.value: str(table.get_cell(k, "serving")) for k in table.rows}

        assert serving()["v13"].startswith("◆ serving")
        await pilot.press("K")
        await settle(
            pilot, lambda: isinstance(app.screen, MitigationModal) and app.screen.state == "ready"
        )
        await pilot.press("y")
        modal = app.screen
        await settle(pilot, lambda: modal.state == "done")
        result = str(modal.query_one("#dialog-progress").render())
        assert "U" in result and "undoes" in result  # the kill switch's result names U
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen is model and model.view.status.killswitch)
        await settle(pilot, lambda: "pointer" in serving()["v13"])
        marks = serving()
        assert marks["v13"] == "◇ pointer · ⚑ previous serves"
        assert "◆" not in " ".join(marks.values())
        summary = str(model.query_one("#model-summary").render())
        assert "⚑ KILL SWITCH (previous), U undoes it" in summary
        bar = " ".join(f"{h.key} {h.word}" for h in model.query_one("KeyBar").shown())
        assert "U undo kill switch" in bar
