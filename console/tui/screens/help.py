"""Help: generated from the same registry as the bindings, the key bar and the palette."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from console.keymap import Command
from console.tui.keybar import KeyBar
from console.tui.screens.base import RegistryScreen

SCOPE_NAMES = {
    "app": "everywhere",
    "fleet": "fleet",
    "incident": "incident",
    "model": "model",
    "review": "review",
    "drift": "drift",
    "confirm": "confirmation",
}


def help_rows(commands: tuple[Command, ...]) -> list[tuple[str, str, str, str]]:
    """(key, what it does, where, id) per command, the most important first (the key bar's
    rank: at 80x24 the run-step key and the mitigations are on the first screen); the nine
    decision keys are one row when they are the default 1–9."""
    rows = []
    answers = [c for c in commands if c.id.startswith("answer_")]
    collapsed = [c.key for c in answers] == [str(n) for n in range(1, 10)]
    for c in sorted(commands, key=lambda c: c.rank):
        if c.id.startswith("answer_") and collapsed:
            if c.id == "answer_1":
                rows.append(
                    ("1–9", "Choose a decision's option", "incident", "answer_1 … answer_9")
                )
            continue
        where = ", ".join(SCOPE_NAMES.get(s, s) for s in c.scopes)
        rows.append((c.label, c.description + (" ⚠" if c.dangerous else ""), where, c.id))
    return rows


class HelpScreen(RegistryScreen):
    scope = "help"

    def compose(self) -> ComposeResult:
        yield Static(
            escape("Rollbook · help — keys (remap by id in config.toml [keys])"), id="title"
        )
        yield DataTable(id="help-table", cursor_type="row")
        yield Static(self.conventions(), id="help-extra")
        yield Static("", id="statusline")
        yield KeyBar()

    def conventions(self) -> str:
        k = self.rb.key
        return escape(
            f"{k('quit')} goes back from a sub-screen and quits on the fleet, without asking "
            f"(everything is on disk); {k('interrupt')} quits from anywhere. An action on "
            "production that is running always finishes and records its outcome first. "
            f"{k('back')} closes a dialog or goes back (on the fleet it clears the filter); "
            f"{k('focus_next')} / {k('focus_previous')} move between panes (the focused one "
            "is drawn heavy); arrows scroll it."
        )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "does", "where", "id")
        for row in help_rows(self.rb.commands):
            table.add_row(*row)
