"""Fleet (home): one row per model."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Input, Static

from console.errors import RollbookError
from console.fleet import HEALTH_WORDS, format_routes, format_signal
from console.tui.screens.base import RegistryScreen
from console.views import FleetView, fleet_view, sparkline

HEALTH_STYLE = {"healthy": "green", "degraded": "yellow", "critical": "bold red",
                "unknown": "magenta"}
COLUMNS = ("model", "prod", "traffic", "health", "key signal", "last 60 min", "alerts / incidents")


class FleetScreen(RegistryScreen):
    scope = "fleet"

    def __init__(self) -> None:
        super().__init__(name="fleet")
        self.view: FleetView | None = None
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield Static("Rollbook · fleet", id="title")
        yield Input(placeholder="filter models (enter to apply)", id="filter", disabled=True)
        yield DataTable(id="fleet", cursor_type="row", zebra_stripes=False)
        yield Static("loading…", id="statusline")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col)
        table.focus()
        self.refresh_data()
        self.set_interval(self.app.refresh_seconds, self.tick)  # type: ignore

    @work(exclusive=True, group="fleet-refresh")
    async def refresh_data(self) -> None:
        try:
            view = await self.app.bridge.run(fleet_view)  # type: ignore[attr-defined]
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
        rows = [r for r in view.rows if self.filter_text.lower() in r.status.model.lower()]
        wanted = [r.status.model for r in rows]
        with self.app.batch_update():
            for key in [k.value for k in list(table.rows)]:
                if key not in wanted:
                    table.remove_row(key)
            for r in rows:
                s = r.status
                word = HEALTH_WORDS.get(s.health, s.health)
                style = HEALTH_STYLE.get(s.health, "")
                health = Text(word + (" ⏸" if s.batch_paused else ""), style=style)
                traffic = format_routes(s.routes)
                value = s.signals.get(s.key_signal)
                key_val = f"{s.key_signal} {format_signal(s.key_signal, value)}"
                alerts = f"{len(s.alerts)} alert{'s' if len(s.alerts) != 1 else ''}" if s.alerts \
                    else "—"
                if s.open_incidents:
                    alerts += " · " + ", ".join(s.open_incidents)
                if s.error:
                    alerts = f"▲ {s.error}"
                cells = (s.model, s.production_version or "—", traffic, health, key_val,
                         sparkline(r.spark, 24), alerts)
                if s.model in [k.value for k in table.rows]:
                    for col, value in zip(COLUMNS, cells, strict=True):
                        table.update_cell(s.model, col, value)
                else:
                    table.add_row(*cells, key=s.model)
        bad = sum(1 for r in view.rows if r.status.health != "healthy")
        self.set_status(f"env {view.env} · {len(view.rows)} models · {bad} need attention · "
                        f"as of {view.as_of:%H:%M:%S} UTC · ? help · ctrl+p commands")

    def selected_model(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.disabled = False
        box.add_class("visible")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.filter_text = event.value.strip()
        event.input.remove_class("visible")
        event.input.disabled = True
        self.query_one(DataTable).focus()
        self.render_view()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_model()

    def action_open_model(self) -> None:
        model = self.selected_model()
        if model:
            self.app.open_model(model)  # type: ignore[attr-defined]

    def action_open_incident(self) -> None:
        model = self.selected_model()
        if self.view is None or model is None:
            return
        row = next((r for r in self.view.rows if r.status.model == model), None)
        if row is not None:
            self.app.open_incident_of(  # type: ignore[attr-defined]
                model, row.status.open_incidents, len(row.status.alerts))
