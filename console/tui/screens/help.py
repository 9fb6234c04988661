"""Help: generated from the same registry as the bindings and the command palette."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from console.tui.commands import key_label
from console.tui.screens.base import RegistryScreen

SCOPE_NAMES = {
    "app": "everywhere",
    "fleet": "fleet",
    "incident": "incident",
    "model": "model",
    "review": "review",
    "drift": "drift",
}

# Keys the incident screen reads itself rather than through the registry (the number of an
# option of the decision step on screen); listed so that help shows every key, but they have
# no id and cannot be remapped.
UNREGISTERED = (("1–9", "Answer a decision (the option's number)", "incident, on a decision step"),)


class HelpScreen(RegistryScreen):
    scope = "help"

    def compose(self) -> ComposeResult:
        yield Static(
            escape("Rollbook · help — keys (remap by id in config.toml [keys])"), id="title"
        )
        yield DataTable(id="help-table", cursor_type="row")
        yield Static(self.unregistered_text(), id="help-extra")
        yield Static("esc back · ctrl+p command palette · q quit", id="statusline")
        yield Footer()

    @staticmethod
    def unregistered_text() -> str:
        return escape(
            "\n".join(
                f"{key}  {does} — {where} (fixed key, no id)" for key, does, where in UNREGISTERED
            )
        )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "does", "where", "id")
        for cmd in self.rb.commands:
            where = ", ".join(SCOPE_NAMES.get(s, s) for s in cmd.scopes)
            table.add_row(
                key_label(cmd.key), cmd.description + (" ⚠" if cmd.dangerous else ""), where, cmd.id
            )
