"""One command registry feeds the key bindings, the command palette and the help screen,
so the three never disagree. Every command has an id (used to remap keys in config
``[keys]``), a description, and the screens it applies to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from textual.binding import Binding


@dataclass(frozen=True)
class Command:
    id: str
    key: str
    description: str
    action: str  # Textual action name on the screen or app
    scopes: tuple[str, ...]  # screen names, or ("app",)
    dangerous: bool = False  # removed in read-only mode; goes through a confirmation modal
    show: bool = True  # in the footer

    def binding(self) -> Binding:
        return Binding(
            self.key, self.action, self.description, show=self.show, id=self.id, priority=False
        )


COMMANDS: tuple[Command, ...] = (
    Command("quit", "q", "Quit", "app.quit", ("app",)),
    Command("help", "question_mark", "Help", "app.help", ("app",)),
    Command("back", "escape", "Back", "app.back", ("app",), show=False),
    Command("fleet", "f", "Fleet", "app.fleet", ("app",), show=False),
    Command("filter", "slash", "Filter", "filter", ("fleet",)),
    Command("open_model", "enter", "Open model", "open_model", ("fleet",)),
    Command("open_incident", "i", "Incident", "open_incident", ("fleet", "model")),
    Command("run_step", "space", "Run step", "run_step", ("incident",)),
    Command("run_step_enter", "enter", "Run step", "run_step", ("incident",), show=False),
    Command("next_step", "j", "Next step", "move(1)", ("incident",), show=False),
    Command("prev_step", "k", "Previous step", "move(-1)", ("incident",), show=False),
    Command("note", "n", "Note", "note", ("incident",)),
    Command("acknowledge", "a", "Ack", "acknowledge", ("incident",)),
    Command("drift", "d", "Drift", "drift", ("incident", "model")),
    Command("review", "v", "Review", "review", ("incident",)),
    Command("rollback", "R", "Rollback", "rollback", ("incident", "model"), dangerous=True),
    Command("killswitch", "K", "Kill switch", "killswitch", ("incident", "model"), dangerous=True),
    Command(
        "restore",
        "U",
        "Undo kill switch",
        "restore",
        ("incident", "model"),
        dangerous=True,
        show=False,
    ),  # the title says "U undoes" while one is active
    Command("diff", "l", "Lineage diff", "diff", ("model",)),
    Command("export", "e", "Export", "export", ("review",)),
    Command("edit_item", "enter", "Edit item", "edit_item", ("review",)),
    Command("add_item", "plus", "Add item", "add_item", ("review",)),
    Command("refresh", "ctrl+r", "Refresh", "app.refresh_now", ("app",), show=False),
)


def effective(
    keys: Mapping[str, str] | None = None, *, read_only: bool = False
) -> tuple[Command, ...]:
    """Commands with config key overrides applied; dangerous ones dropped in read-only."""
    keys = keys or {}
    out = []
    for c in COMMANDS:
        if read_only and c.dangerous:
            continue
        out.append(replace(c, key=keys[c.id]) if c.id in keys else c)
    return tuple(out)


def for_scope(commands: tuple[Command, ...], scope: str) -> list[Command]:
    return [c for c in commands if scope in c.scopes]


def key_label(key: str) -> str:
    return {
        "question_mark": "?",
        "slash": "/",
        "space": "space",
        "escape": "esc",
        "enter": "enter",
        "plus": "+",
    }.get(key, key)
