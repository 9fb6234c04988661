"""Fleet (home): one row per model."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from console.errors import RollbookError
from console.formatting import HEALTH_WORDS, format_routes, format_signal
from console.tui.keybar import KeyBar, KeyHint
from console.tui.screens.base import RegistryScreen
from console.views import FleetRow, FleetView, fleet_view, sparkline

HEALTH_STYLE = {
    "healthy": "green",
    "degraded": "yellow",
    "critical": "bold red",
    "unknown": "magenta",
}
# What the operator needs first comes first, so that at 80 columns model, health, the key
# signal's value and alerts/incidents are on screen without scrolling sideways.
COLUMNS = ("model", "health", "key signal", "alerts / incidents", "prod", "traffic", "last 60 min")
SPARK_WIDTH = 24
NARROW_SPARK_WIDTH = 12  # below WIDE_COLUMNS terminal columns
WIDE_COLUMNS = 100


def fleet_cells(row: FleetRow, spark_width: int) -> tuple:
    """One table row, in COLUMNS order; every status is a word and an icon, never colour
    alone."""
    s = row.status
    word = HEALTH_WORDS.get(s.health, s.health)
    health = Text(
        word + (" ⏸ paused" if s.batch_paused else "") + (" ⚑" if s.killswitch else ""),
        style=HEALTH_STYLE.get(s.health, ""),
    )
    value = s.signals.get(s.key_signal)
    # the value first: at 80 columns a long signal name is what gets cut, not the number
    key_val = f"{format_signal(s.key_signal, value)} {s.key_signal}"
    # a kill switch is said once, where it acts: in the traffic column ("⚑ rules:100%"),
    # so the row is no wider than without one
    n = len(s.alerts)
    alerts = f"{n} alert{'s' if n != 1 else ''}" if n else "—"
    if s.open_incidents:
        alerts = (alerts + " · " if n else "") + ", ".join(s.open_incidents)
    if s.error:
        alerts = f"▲ {s.error}"
    traffic = ("⚑ " if s.killswitch else "") + format_routes(s.routes)
    return (
        s.model,
        health,
        key_val,
        alerts,
        s.production_version or "—",
        traffic,
        sparkline(row.spark, spark_width),
    )


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

    def compose(self) -> ComposeResult:
        yield Static("Rollbook · fleet", id="title")
        yield FilterInput(placeholder="filter models", id="filter", disabled=True)
        yield DataTable(id="fleet", cursor_type="row", zebra_stripes=False)
        yield Static("", id="fleet-empty")
        yield Static("loading…", id="statusline")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col)
        table.focus()
        if not self.rb.preparing:  # else the prepared world is read once it is ready
            self.refresh_data()
        self.set_interval(self.rb.refresh_seconds, self.tick)

    @work(exclusive=True, group="fleet-refresh")
    async def refresh_data(self) -> None:
        try:
            view = await self.rb.bridge.run(fleet_view, key="fleet")
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        self.view = view
        self.good_data(view.as_of)
        self.render_view()

    def render_view(self) -> None:
        if self.view is None:
            return
        view = self.view
        table = self.query_one(DataTable)
        needle = self.filter_text.lower()
        rows = [r for r in view.rows if needle in r.status.model.lower()]
        wanted = [r.status.model for r in rows]
        spark_width = SPARK_WIDTH if self.app.size.width >= WIDE_COLUMNS else NARROW_SPARK_WIDTH
        with self.app.batch_update():
            for key in [k.value for k in list(table.rows) if k.value is not None]:
                if key not in wanted:
                    table.remove_row(key)
            present = {k.value for k in table.rows}
            for r in rows:
                cells = fleet_cells(r, spark_width)
                if r.status.model in present:
                    # update_width: a cell that grows ("✔ ok" → "✖ CRITICAL") widens its
                    # column instead of being cut to the width of the first render
                    for col, value in zip(COLUMNS, cells, strict=True):
                        table.update_cell(r.status.model, col, value, update_width=True)
                else:
                    table.add_row(*cells, key=r.status.model)
        self.show_filter_state(len(rows), len(view.rows))
        bad = sum(1 for r in view.rows if r.status.health != "healthy")
        watching = "; ".join(f"{m}: {line}" for m, line in view.watching.items())
        switched = [r.status for r in view.rows if r.status.killswitch]
        held = " · ".join(f"⚑ {st.model} on its kill switch ({st.killswitch})" for st in switched)
        self.set_status(
            " · ".join(
                x
                for x in (
                    # first: at 80 columns the end of the line is what gets cut
                    f"⏳ {watching}" if watching else "",
                    held,
                    f"env {view.env}",
                    f"{bad} of {len(view.rows)} models need attention",
                    f"as of {view.as_of:%H:%M:%S} UTC",
                )
                if x
            )
        )
        self.update_keys()

    def show_filter_state(self, shown: int, total: int) -> None:
        """The active filter is always visible; a filter that matches nothing says so
        instead of showing an empty table."""
        title = "Rollbook · fleet"
        if self.filter_text:
            title += f" · filter: {self.filter_text} · {shown} of {total} models"
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
