"""Fleet (home): one row per model.

The table's contents are decided headless (``console.fleet_table``): the screen applies the
difference between two renders — rows gone, rows added, the cells whose text changed — and
touches a column's width only when the data's widest cell changed, so a refresh that changes
nothing costs nothing on screen and a fleet of 5,000 models answers keys at once."""

from __future__ import annotations

import dataclasses
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from console.errors import RollbookError
from console.fleet import ModelStatus
from console.fleet_table import (
    COLUMNS,
    HEALTH_COLUMN,
    ROW_CAP,
    FleetLine,
    FleetTable,
    diff_lines,
    fleet_table,
    keep_sparks,
    more_line,
    paced_interval,
    select_models,
)
from console.tui.keybar import KeyBar, KeyHint
from console.tui.screens.base import RegistryScreen
from console.views import FleetView, fleet_view
from console.workspace import Workspace

HEALTH_STYLE = {
    "healthy": "green",
    "degraded": "yellow",
    "critical": "bold red",
    "unknown": "magenta",
}
SPARK_WIDTH = 24
NARROW_SPARK_WIDTH = 12  # below WIDE_COLUMNS terminal columns
WIDE_COLUMNS = 100


def styled(line: FleetLine, column: int, text: str) -> Text:
    """A cell as the table holds it: always ``Text`` (a string cell would be read as Rich
    markup, so an error naming ``[Errno 111]`` would lose its words), the health word in
    its colour (the word says it too)."""
    if column == HEALTH_COLUMN:
        return Text(text, style=HEALTH_STYLE.get(line.health, ""))
    return Text(text)


def read_fleet(ws: Workspace, screen: FleetScreen) -> tuple[FleetView, float]:
    """The fleet view, signal history read only for the rows the screen will show (its
    filter as it is when the read starts), and the process CPU seconds the read took."""
    started = time.process_time()

    def shown(statuses: list[ModelStatus]) -> list[str]:
        return select_models(statuses, screen.filter_text, ROW_CAP).models

    view = fleet_view(ws, sparks_for=shown)
    return view, time.process_time() - started


class FilterInput(Input):
    """The fleet filter box: esc closes it and clears the filter."""

    BINDINGS = [Binding("escape", "cancel", "Clear filter", id="filter_cancel")]

    class Cancelled(Message):
        pass

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class FleetScreen(RegistryScreen):
    scope = "fleet"

    def __init__(self) -> None:
        super().__init__(name="fleet")
        self.view: FleetView | None = None
        self.filter_text = ""
        #: what the DataTable holds now (None: nothing yet); the next render is diffed on it
        self.shown: FleetTable | None = None
        #: process CPU seconds the last fleet read took, and the timer's pace it set
        self.read_cost = 0.0
        self.refresh_every = 0.0
        self._next_refresh = 0.0  # time.monotonic(): the timer does not refresh before it

    def compose(self) -> ComposeResult:
        yield Static("Rollbook · fleet", id="title")
        yield FilterInput(placeholder="filter models", id="filter", disabled=True)
        yield DataTable(id="fleet", cursor_type="row", zebra_stripes=False)
        yield Static("", id="fleet-empty")
        yield Static("", id="fleet-more")
        yield Static("loading…", id="statusline")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col)
        table.focus()
        self.refresh_every = self.rb.refresh_seconds
        if not self.rb.preparing:  # else the prepared world is read once it is ready
            self.refresh_data()
        self.set_interval(self.rb.refresh_seconds, self.tick)

    def tick(self) -> None:
        """The timer, paced by what a read costs (``paced_interval``): a fleet whose read
        takes 0.3 s of CPU is read every 12 s, not every 2 s, so an idle console stays idle."""
        if time.monotonic() >= self._next_refresh:
            super().tick()

    @work(exclusive=True, group="fleet-refresh")
    async def refresh_data(self) -> None:
        try:
            view, cost = await self.rb.bridge.run(read_fleet, self, key="fleet")
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        self.read_cost = cost
        self.refresh_every = paced_interval(self.rb.refresh_seconds, cost)
        self._next_refresh = time.monotonic() + self.refresh_every
        if self.view is not None:
            view = dataclasses.replace(view, rows=keep_sparks(view.rows, self.view.rows))
        self.view = view
        self.good_data(view.as_of)
        self.render_view()

    def render_view(self) -> None:
        if self.view is None:
            return
        view = self.view
        spark_width = SPARK_WIDTH if self.app.size.width >= WIDE_COLUMNS else NARROW_SPARK_WIDTH
        table = fleet_table(view.rows, self.filter_text, spark_width=spark_width, cap=ROW_CAP)
        self.apply_table(table)
        selection = table.selection
        self.show_filter_state(selection.matched, selection.total)
        more = self.query_one("#fleet-more", Static)
        more_text = more_line(selection, self.rb.key("filter"))
        more.update(Text(more_text))
        more.display = bool(more_text) and bool(table.lines)
        bad = sum(1 for r in view.rows if r.status.health != "healthy")
        watching = "; ".join(f"{m}: {line}" for m, line in view.watching.items())
        switched = [r.status for r in view.rows if r.status.killswitch]
        held = " · ".join(f"⚑ {st.model} on its kill switch ({st.killswitch})" for st in switched)
        paced = self.refresh_every > self.rb.refresh_seconds
        self.set_status(
            " · ".join(
                x
                for x in (
                    # first: at 80 columns the end of the line is what gets cut
                    f"⏳ {watching}" if watching else "",
                    held,
                    f"env {view.env}",
                    f"{bad:,} of {len(view.rows):,} models need attention",
                    f"as of {view.as_of:%H:%M:%S} UTC",
                    f"read every {self.refresh_every:.0f} s" if paced else "",
                )
                if x
            )
        )
        self.update_keys()

    def apply_table(self, new: FleetTable) -> None:
        """Bring the DataTable from ``self.shown`` to ``new``, touching only what differs:
        removed rows, changed cells (never re-measured one by one), appended rows; a new
        order clears and refills the table (at most ``ROW_CAP`` rows). A column whose
        widest cell changed is re-measured once, through that one cell."""
        old = self.shown
        diff = diff_lines(old.lines if old else [], new.lines)
        # the table's columns are as wide as the last table's widest cells (see below; a
        # clear() keeps them), so only a column whose width moved needs measuring
        resized = [i for i, w in enumerate(new.widths) if old is None or old.widths[i] != w]
        self.shown = new
        if diff.empty and not resized:
            return
        table = self.query_one(DataTable)
        line_of = {line.key: line for line in new.lines}
        with self.app.batch_update():
            if diff.rebuild:
                selected = self.selected_model() or ""
                table.clear()
                for line in new.lines:
                    table.add_row(
                        *(styled(line, i, t) for i, t in enumerate(line.cells)), key=line.key
                    )
                if selected in line_of:
                    table.move_cursor(row=list(line_of).index(selected), animate=False)
            else:
                for key in diff.removed:
                    table.remove_row(key)
                for key, i, text in diff.changed:
                    table.update_cell(key, COLUMNS[i], styled(line_of[key], i, text))
                for line in diff.added:
                    table.add_row(
                        *(styled(line, i, t) for i, t in enumerate(line.cells)), key=line.key
                    )
            for i in resized:
                # a grown cell widens its column at once (O(1)); a column whose widest cell
                # shrank or left is measured again once (O(rows)), never per cell
                at = new.widest[i] or (new.lines[0].key if new.lines else None)
                if at is not None:
                    cell = styled(line_of[at], i, line_of[at].cells[i])
                    table.update_cell(at, COLUMNS[i], cell, update_width=True)

    def show_filter_state(self, shown: int, total: int) -> None:
        """The active filter is always visible; a filter that matches nothing says so
        instead of showing an empty table."""
        title = "Rollbook · fleet"
        if self.filter_text:
            title += f" · filter: {self.filter_text} · {shown:,} of {total:,} models"
        self.query_one("#title", Static).update(Text(title))
        empty = self.query_one("#fleet-empty", Static)
        none = bool(self.filter_text) and shown == 0
        if none:
            empty.update(
                Text(
                    f"no model matches “{self.filter_text}” — {self.rb.key('filter')} to "
                    f"change the filter, {self.rb.key('back')} to clear it"
                )
            )
        empty.display = none
        self.query_one(DataTable).display = not none

    def selected_model(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def step_back(self) -> bool:
        """esc on the fleet clears an applied filter."""
        if not self.filter_text:
            return False
        self.close_filter("")
        return True

    def extra_hints(self) -> list[KeyHint]:
        if self.filter_text:
            return [KeyHint(self.rb.key("back"), "clear filter", 15)]
        return []

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.disabled = False
        box.value = self.filter_text
        box.add_class("visible")
        box.focus()

    def close_filter(self, text: str) -> None:
        self.filter_text = text
        box = self.query_one("#filter", Input)
        box.remove_class("visible")
        box.disabled = True
        self.render_view()
        self.query_one(DataTable).focus()
        if self.view is not None and self.shown is not None:
            # rows the last read did not show have no sparkline yet: read them now
            unread = {r.status.model for r in self.view.rows if r.spark is None}
            if any(line.key in unread for line in self.shown.lines):
                self.call_after_refresh(self.refresh_data)  # the filtered table paints first

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.close_filter(event.value.strip())

    def on_filter_input_cancelled(self, _event: FilterInput.Cancelled) -> None:
        self.query_one("#filter", Input).value = ""
        self.close_filter("")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_model()

    def action_open_model(self) -> None:
        model = self.selected_model()
        if model:
            self.rb.open_model(model)

    def action_open_incident(self) -> None:
        model = self.selected_model()
        if self.view is None or model is None:
            return
        row = next((r for r in self.view.rows if r.status.model == model), None)
        if row is not None:
            self.rb.open_incident_of(model, row.status.open_incidents, len(row.status.alerts))
