"""Help: generated from the same registry as the bindings and the command palette."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from console.tui.commands import key_label
from console.tui.screens.base import RegistryScreen

SCOPE_NAMES = {"app": "everywhere", "fleet": "fleet", "incident": "incident", "model": "model",
               "review": "review", "drift": "drift"}


class HelpScreen(RegistryScreen):
    scope = "help"

    def compose(self) -> ComposeResult:
        yield Static("Rollbook · help — keys (remap by id in config.toml [keys])", id="title")
        yield DataTable(id="help-table", cursor_type="row")
        yield Static("esc back · ctrl+p command palette · q quit", id="statusline")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "does", "where", "id")
        for cmd in self.app.commands:  # type: ignore[attr-defined]
            where = ", ".join(SCOPE_NAMES.get(s, s) for s in cmd.scopes)
            table.add_row(key_label(cmd.key), cmd.description + (" ⚠" if cmd.dangerous else ""),
                          where, cmd.id)
