"""Telling people from the console: `s` posts a stakeholder update (recorded first, then the
toast says where it went); the review screen's export is recorded as published."""

from pathlib import Path

from console.tui.screens.incident import IncidentScreen
from console.tui.screens.note import NoteModal
from console.tui.screens.review import ReviewScreen
from console.workspace import open_workspace
from tests.tui.conftest import settle


async def test_s_posts_a_stakeholder_update_and_says_where_it_went(make_app, demo, clock):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        assert "s update" in str(app.screen.query_one("KeyBar").render())
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, NoteModal))
        app.screen.query_one("Input").value = "Rolled back; error rate back to normal."
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await settle(
            pilot, lambda: any("update recorded" in str(n.message) for n in app._notifications)
        )
        [toast] = [n for n in app._notifications if "update recorded" in str(n.message)]
        # the demo environment has no channel: the toast says so rather than "sent"
        assert "no channel takes updates" in str(toast.message)
    with open_workspace("demo", clock=clock) as ws:
        [ev] = [e for e in ws.store.events(demo.incident.id) if e.payload.get("tag") == "update"]
        assert ev.kind == "note" and ev.message == "Rolled back; error rate back to normal."


async def test_the_review_export_is_recorded_as_published(make_app, demo, clock):
    app = make_app(incident=demo.incident.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("v")
        await settle(
            pilot,
            lambda: isinstance(app.screen, ReviewScreen) and app.screen.view is not None,
            timeout=60,
        )
        await pilot.press("e")
        await settle(
            pilot, lambda: any("exported to" in str(n.message) for n in app._notifications)
        )
    with open_workspace("demo", clock=clock) as ws:
        [ev] = ws.store.events(demo.incident.id, kind_prefix="postmortem.published")
        path = Path(ev.payload["path"])
        assert path.read_text(encoding="utf-8").startswith("# Post-mortem:")
        assert ev.payload["format"] == "md"
