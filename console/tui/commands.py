"""The command registry (``console.keymap``) as Textual bindings: the bindings, the key bar,
the command palette and the help screen all read the same entries, so they never disagree."""

from __future__ import annotations

from textual.binding import Binding

from console.keymap import (  # noqa: F401 - re-exported for the screens
    COMMANDS,
    Command,
    effective,
    for_scope,
    hint,
    key_label,
    key_of,
)


def binding(c: Command) -> Binding:
    return Binding(c.key, c.action, c.description, show=False, id=c.id, priority=False)
