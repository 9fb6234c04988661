"""Conventions people know: q goes back and quits on the fleet, ctrl+c quits, a running action
on production is never abandoned, the key bar ranks hints instead of cutting them."""

from console.tui.keybar import KeyHint, fit
from console.tui.screens.fleet import FleetScreen
from console.tui.screens.incident import IncidentScreen
from tests.tui.conftest import settle


def test_the_key_bar_keeps_the_most_important_hints_whole():
    hints = [
        KeyHint("space", "run step", 1),
        KeyHint("q", "back", 2),
        KeyHint("?", "help", 2),
        KeyHint("R", "rollback", 3),
        KeyHint("ctrl+p", "commands", 90),
        KeyHint("d", "drift", 40),
    ]
    # "space run step  q back  ? help  R rollback" is 42 columns
    assert [h.key for h in fit(hints, 42)] == ["space", "q", "?", "R"]
    # one column less: R is dropped whole, and the shorter, less important d still fits
    assert [h.key for h in fit(hints, 41)] == ["space", "q", "?", "d"]
    assert fit(hints, 3) == []


def record_exit(app, monkeypatch) -> list[bool]:
    calls: list[bool] = []
    monkeypatch.setattr(app, "exit", lambda *a, **k: calls.append(True))
    return calls


async def test_q_goes_back_then_quits_on_the_fleet(make_app, demo, monkeypatch):
    app = make_app(incident=demo.incident.id)
    exits = record_exit(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("q")
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen))
        assert not exits
        await pilot.press("q")
        await pilot.pause(0.1)
        assert exits == [True]


async def test_ctrl_c_quits_from_a_sub_screen_and_from_the_filter_box(make_app, demo, monkeypatch):
    app = make_app(incident=demo.incident.id)
    exits = record_exit(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("ctrl+c")
        await pilot.pause(0.1)
        assert exits == [True]
        app.pop_screen()
        await pilot.press("slash")  # the text box has the focus
        await pilot.press("ctrl+c")
        await pilot.pause(0.1)
        assert exits == [True, True]


async def test_quitting_waits_for_a_running_action(make_app, demo, monkeypatch):
    app = make_app()
    exits = record_exit(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen))
        app.action_started()  # as the confirmation dialog does when y is pressed
        await pilot.press("ctrl+c")
        await pilot.press("q")
        await pilot.pause(0.1)
        assert not exits and app.quit_pending
        app.action_finished()  # the action recorded its outcome
        assert exits == [True]
