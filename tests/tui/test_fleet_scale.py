"""The fleet at scale: a refresh touches only the cells whose text changed, widths follow the
data without measuring cell by cell, 5,000 models still answer keys at once, the table is
capped with a line that says how many more and how to find them, and the timer's pace
follows what a read costs."""

from __future__ import annotations

import dataclasses
import time

import pytest
from textual.widgets import DataTable
from textual.widgets._data_table import ColumnKey

import console.tui.screens.fleet as fleet_screen
from console.fleet import ModelStatus
from console.fleet_table import COLUMNS, REFRESH_CPU_SHARE, ROW_CAP
from console.views import FleetRow, FleetView
from tests.tui.conftest import settle


class Touches:
    """Counts what a refresh does to the DataTable (wrapping the instance's methods)."""

    def __init__(self, table: DataTable) -> None:
        self.cells: list[tuple[str, str, bool]] = []
        self.rows_added = self.rows_removed = self.clears = 0
        update, add, remove, clear = (
            table.update_cell,
            table.add_row,
            table.remove_row,
            table.clear,
        )

        def update_cell(row, col, value, *, update_width=False):
            self.cells.append((str(row), str(col), update_width))
            return update(row, col, value, update_width=update_width)

        def add_row(*cells, **kw):
            self.rows_added += 1
            return add(*cells, **kw)

        def remove_row(key):
            self.rows_removed += 1
            return remove(key)

        def clear_(*a, **kw):
            self.clears += 1
            return clear(*a, **kw)

        table.update_cell, table.add_row = update_cell, add_row
        table.remove_row, table.clear = remove_row, clear_

    @property
    def total(self) -> int:
        return len(self.cells) + self.rows_added + self.rows_removed + self.clears


def with_status(view: FleetView, model: str, **changes) -> FleetView:
    rows = [
        FleetRow(dataclasses.replace(r.status, **changes), r.spark)
        if r.status.model == model
        else r
        for r in view.rows
    ]
    return dataclasses.replace(view, rows=rows)


async def test_a_refresh_with_unchanged_data_touches_no_cell(make_app, demo):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        await pilot.pause(0.1)
        table = fleet.query_one(DataTable)
        touches = Touches(table)
        first = fleet.view
        fleet.refresh_data()  # the clock is fixed: the world reads the same
        await settle(pilot, lambda: fleet.view is not first)
        await pilot.pause(0.1)
        assert touches.total == 0
        assert table.row_count == len(fleet.view.rows) == 5


async def test_a_changed_value_updates_that_cell_only(make_app, demo):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        await pilot.pause(0.1)
        table = fleet.query_one(DataTable)
        touches = Touches(table)
        churn = next(r.status for r in fleet.view.rows if r.status.model == "churn")
        signals = {**churn.signals, churn.key_signal: 0.123}  # another value, same width
        fleet.view = with_status(fleet.view, "churn", signals=signals)
        fleet.render_view()
        await pilot.pause(0.1)
        assert touches.cells == [("churn", "key signal", False)]
        assert touches.rows_added == touches.rows_removed == touches.clears == 0
        assert table.get_cell("churn", "key signal").plain.startswith("12.3%")


async def test_a_column_follows_its_widest_cell_both_ways(make_app, demo):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        await pilot.pause(0.1)
        table = fleet.query_one(DataTable)
        column = table.columns[ColumnKey("alerts / incidents")]
        before = column.content_width
        calm = fleet.view
        fleet.view = with_status(calm, "fraud", error="metrics: " + "x" * 40)
        fleet.render_view()
        await pilot.pause(0.1)
        grown = column.content_width
        assert grown == len("▲ metrics: " + "x" * 40) > before
        touches = Touches(table)
        fleet.view = calm
        fleet.render_view()
        await pilot.pause(0.1)
        assert column.content_width == before  # narrow again, not stuck at the widest ever
        # the cell itself, then one measuring touch of the column: never one per cell
        measured = [c for c in touches.cells if c[2]]
        assert len(measured) == 1 and measured[0][1] == "alerts / incidents"


def big_view(n: int, *, attention_every: int = 50) -> FleetView:
    from datetime import UTC, datetime

    rows = []
    for i in range(n):
        health = "degraded" if i % attention_every == 0 else "healthy"
        st = ModelStatus(
            f"model-{i:04d}",
            "realtime",
            "v2",
            {"v2": 100.0},
            health,
            {"error_rate": 0.01 + 0.001 * (i % 7)},
            "error_rate",
        )
        rows.append(FleetRow(st, [0.01, 0.02, 0.015] * 20))
    return FleetView("big", rows, datetime(2026, 11, 22, 6, 52, tzinfo=UTC))


async def test_5000_models_answer_keys_at_once_and_the_cap_says_how_to_find_the_rest(
    make_app, demo
):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        table = fleet.query_one(DataTable)
        fleet.view = big_view(5000, attention_every=200)
        fleet.render_view()
        await pilot.pause(0.2)
        assert table.row_count == ROW_CAP
        # the 25 models needing attention first, then healthy ones in the registry's order
        keys = [k.value for k in table.rows]
        assert keys[:3] == ["model-0000", "model-0200", "model-0400"]
        assert keys[25:27] == ["model-0001", "model-0002"]
        more = fleet.query_one("#fleet-more")
        assert more.display
        assert str(more.render()) == f"{5000 - ROW_CAP:,} more models — filter with /"
        status = str(fleet.query_one("#statusline").render())
        assert "25 of 5,000 models need attention" in status

        # keys answer: the cursor moves at once, and a refresh of the same 5,000 touches
        # nothing
        t0 = time.perf_counter()
        for _ in range(5):
            await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == 5
        assert time.perf_counter() - t0 < 2.0  # was minutes: every cell re-measured its column
        touches = Touches(table)
        t0 = time.perf_counter()
        fleet.view = big_view(5000, attention_every=200)
        fleet.render_view()
        assert time.perf_counter() - t0 < 1.0
        assert touches.total == 0

        # the filter finds a model the cap hid, and the line goes away
        await pilot.press("slash", *"model-4999", "enter")
        await pilot.pause(0.1)
        assert [k.value for k in table.rows] == ["model-4999"]
        assert not more.display
        assert "filter: model-4999 · 1 of 5,000 models" in str(fleet.query_one("#title").render())
        # a filter that still matches more than the cap says to narrow it
        await pilot.press("slash", "ctrl+u", *"model-", "enter")
        await pilot.pause(0.1)
        assert table.row_count == ROW_CAP
        assert str(more.render()).endswith("narrow the filter with /")
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert table.row_count == ROW_CAP and str(more.render()).endswith("— filter with /")


async def test_a_costly_read_slows_the_timer_and_the_status_line_says_so(
    make_app, demo, monkeypatch
):
    real = fleet_screen.read_fleet

    def costly(ws, screen):
        view, _cost = real(ws, screen)
        return view, 0.3  # as if the read had taken 0.3 s of CPU

    monkeypatch.setattr(fleet_screen, "read_fleet", costly)
    app = make_app(refresh_seconds=2.0)
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        await settle(pilot, lambda: fleet.view is not None)
        assert fleet.refresh_every == pytest.approx(0.3 / REFRESH_CPU_SHARE)
        assert f"read every {0.3 / REFRESH_CPU_SHARE:.0f} s" in str(
            fleet.query_one("#statusline").render()
        )
        first = fleet.view
        fleet.tick()  # the 2-second timer fires: too early for a read that costly
        await pilot.pause(0.3)
        assert fleet.view is first
        fleet._next_refresh = 0.0  # its time has come
        fleet.tick()
        await settle(pilot, lambda: fleet.view is not first)


def test_the_columns_are_the_cores():
    assert fleet_screen.COLUMNS is COLUMNS
