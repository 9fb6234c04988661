"""A one-line text prompt for notes (enter saves; the back key, esc by default, cancels)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.tui.screens.base import rollbook_app


class NoteModal(ModalScreen[str | None]):
    def __init__(self, prompt: str, value: str = "") -> None:
        super().__init__()
        self.prompt, self.value = prompt, value

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog"):
            yield Static(self.prompt, classes="bold")
            yield Input(value=self.value, id="note-input")
            yield Static("", id="note-hint")

    def on_mount(self) -> None:
        app = rollbook_app(self)
        back = app.key("back")  # the registry's back key cancels, as everywhere
        back_cmd = next((c for c in app.commands if c.id == "back"), None)
        if back_cmd is not None:
            self._bindings.bind(back_cmd.key, "cancel", "Cancel", show=False, priority=True)
        # enter is the text box's own submit key, not a command
        self.query_one("#note-hint", Static).update(f"enter saves · {back} cancels")
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
