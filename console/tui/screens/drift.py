"""Drift: per-feature table sorted by severity with a reference-vs-current histogram of the
selected feature."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from console.errors import RollbookError
from console.tui.keybar import KeyBar
from console.tui.screens.base import RegistryScreen
from console.views import DriftView, drift_view

SEV = {"significant": "✖ SIGNIFICANT", "moderate": "▲ moderate", "stable": "✔ stable"}
KIND = {"numeric": "num", "categorical": "cat"}
# severity right after the feature, and short kinds, so that no severity word is cut at 80
# columns
DRIFT_COLUMNS = ("feature", "severity", "PSI", "KS", "null ref", "null now", "kind")


def _num(v, fmt: str) -> str:
    return format(v, fmt) if isinstance(v, int | float) else "—"


def histogram(
    name: str, bins: list[str], ref: list[float], cur: list[float], width: int = 28
) -> Text:
    t = Text()
    t.append(f"{name}: reference ░ vs current █ (share per reference decile bin)\n", style="bold")
    top = max([*ref, *cur, 1e-9])
    for label, r, c in zip(bins, ref, cur, strict=True):
        t.append(f"{label:>9} ")
        t.append("░" * int(r / top * width) + f" {r * 100:4.1f}%\n")
        t.append(" " * 10)
        t.append("█" * int(c / top * width), style="bold")
        t.append(f" {c * 100:4.1f}%\n")
    return t


class DriftScreen(RegistryScreen):
    scope = "drift"

    def __init__(self, model: str, incident_id: str | None) -> None:
        super().__init__(name="drift")
        self.model, self.incident_id = model, incident_id
        self.view: DriftView | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="title")
        yield DataTable(id="drift-table", cursor_type="row")
        yield VerticalScroll(Static(id="histogram-text"), id="histogram")
        yield Static("computing drift…", id="statusline")
        yield KeyBar()

    def title_text(self) -> Text:
        """The window is in the title: the model's drift (the last hour) and an incident's
        (since its onset) differ, and must not look like the same numbers."""
        title = f"Rollbook · drift · {self.model} · "
        if self.incident_id is None:
            title += "last 60 min"
        else:
            title += f"{self.incident_id} window"
            if self.view is not None:
                title += f" {self.view.windows['current']}"
        return Text(title)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*DRIFT_COLUMNS)
        self.load()

    @work(exclusive=True, group="drift")
    async def load(self) -> None:
        try:
            self.view = await self.rb.bridge.run(
                drift_view,
                self.model,
                self.incident_id,
                timeout=60,
            )
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        rep = self.view.report
        table = self.query_one(DataTable)
        for f in rep.features:

            def pct(v):
                return f"{v * 100:.1f}%" if isinstance(v, int | float) else "—"

            table.add_row(
                f.name,
                SEV.get(f.severity, str(f.severity)),
                _num(f.psi, ".3f"),
                _num(f.ks_statistic, ".3f"),
                pct(f.null_rate_reference),
                pct(f.null_rate_current),
                KIND.get(f.kind, f.kind),
                key=f.name,
            )
        self.query_one("#title", Static).update(self.title_text())
        small = "⚠ few rows: PSI is noisy · " if rep.sample_note else ""
        self.set_status(
            f"{small}status {rep.status.upper()} · reference "
            f"{self.view.windows['reference']} · current "
            f"{self.view.windows['current']} · rows "
            f"{rep.rows_reference}/{rep.rows_current}"
        )
        self.show_histogram()

    def on_data_table_row_highlighted(self, _event) -> None:
        self.show_histogram()

    def show_histogram(self) -> None:
        if self.view is None:
            return
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        h = self.view.histograms.get(name)
        self.query_one("#histogram-text", Static).update(
            histogram(name, *h)
            if h
            else Text(f"{name}: no histogram (categorical, or no reference values)")
        )
