"""Shared screen behaviour: bindings from the registry, a title bar, a status line that
shows degraded backends with the error and the time of the last good data."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from textual.screen import Screen
from textual.widgets import Static

if TYPE_CHECKING:
    from console.tui.app import RollbookApp


def rollbook_app(screen: Any) -> RollbookApp:
    """The running app, typed (Textual types ``screen.app`` as any App)."""
    return cast("RollbookApp", screen.app)


class RegistryScreen(Screen):
    scope = "app"

    @property
    def rb(self) -> RollbookApp:
        return rollbook_app(self)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._last_good: datetime | None = None

    def on_mount(self) -> None:
        for b in self.rb.bindings_for(self.scope):
            self._bindings.bind(b.key, b.action, b.description, show=b.show, priority=False)
        self.refresh_bindings()

    def tick(self) -> None:
        """Timer refresh: only the visible screen refreshes, and never under a modal (the
        operator is deciding; the numbers must not move under them)."""
        if self.app.screen is self and not self.rb.paused:
            self.refresh_data()

    def refresh_data(self) -> object:  # overridden by screens that poll (a worker)
        return None

    def set_status(self, text: str, *, degraded: bool = False) -> None:
        line = self.query_one("#statusline", Static)
        if getattr(self.app, "read_only", False):
            text = "READ-ONLY (no actions) · " + text
        line.update(text)
        line.set_class(degraded, "degraded")

    def good_data(self, as_of: datetime) -> None:
        self._last_good = as_of

    def degraded(self, error: object) -> None:
        last = (
            f"last good data {self._last_good:%H:%M:%S} UTC" if self._last_good else "no data yet"
        )
        self.set_status(f"▲ DEGRADED: {error} — {last}", degraded=True)


class MitigationKeys(RegistryScreen):
    """R, K and U on a screen that names a model: each opens the confirmation modal; the
    screen says which model (and incident) through ``mitigation_target``."""

    def mitigation_target(self) -> tuple[str, str | None] | None:
        raise NotImplementedError

    def _mitigate(self, kind: str) -> None:
        from console.tui.screens.confirm import MitigationModal

        target = self.mitigation_target()
        if target is None:
            return

        def closed(_result: object) -> None:
            self.refresh_data()

        self.app.push_screen(MitigationModal(kind, *target), closed)

    def action_rollback(self) -> None:
        self._mitigate("rollback")

    def action_killswitch(self) -> None:
        self._mitigate("killswitch")

    def action_restore(self) -> None:
        self._mitigate("restore")


def key_hints(app, scope: str, *, limit: int = 7) -> str:
    """'space run step · n note · …' from the command registry: what the footer shows, in
    the order registered, so remapped keys and read-only mode are reflected."""
    from console.tui.commands import key_label

    seen: list[str] = []
    commands = app.commands_for(scope)
    # the mitigations first: at 3 AM they are what the line is read for
    for c in sorted(commands, key=lambda c: not c.dangerous):
        hint = f"{key_label(c.key)} {c.description.lower()}"
        if c.show and hint not in seen:
            seen.append(hint)
    return " · ".join(seen[:limit])
