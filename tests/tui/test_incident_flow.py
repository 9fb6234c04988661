"""The incident screen as a tired operator uses it: the palette, running steps, read-only."""

from console.tui.screens.confirm import MitigationModal
from console.tui.screens.incident import IncidentScreen
from tests.tui.conftest import settle


async def _incident(pilot, app):
    await settle(pilot, lambda: isinstance(app.screen, IncidentScreen)
                 and app.screen.view is not None)
    return app.screen


async def test_palette_offers_the_screens_commands_once_and_runs_them(make_app, demo):
    from console.tui.app import RegistryCommands

    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _incident(pilot, app)
        hits = [h.text.plain if hasattr(h.text, "plain") else str(h.text)
                async for h in RegistryCommands(screen).search("o")]
        assert len(hits) == len(set(hits)), hits
        assert any("Rollback" in h for h in hits) and any("Note" in h for h in hits)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"rollback")
        await pilot.pause(0.5)
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, MitigationModal))
        assert app.screen.model == "churn"
