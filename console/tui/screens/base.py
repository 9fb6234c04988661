"""Shared screen behaviour: bindings from the registry, a title bar, a status line that
shows degraded backends with the error and the time of the last good data."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from textual.screen import Screen
from textual.widgets import Static

from console.tui.keybar import KeyBar, KeyHint

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
        for c in self.rb.commands_for(self.scope):
            self._bindings.bind(c.key, c.action, c.description, show=False, priority=False)
        self.refresh_bindings()
        self.update_keys()

    # ---- the key bar --------------------------------------------------------------------
    def extra_hints(self) -> list[KeyHint]:
        """Hints only the screen knows (a decision's numbers, U while a kill switch holds)."""
        return []

    def hidden_hints(self) -> set[str]:
        """Command ids not worth offering right now (``a`` once acknowledged)."""
        return set()

    def key_hints(self) -> list[KeyHint]:
        """Every hint of this screen, from the registry (remaps and read-only included)."""
        seen: set[str] = set()
        hints: list[KeyHint] = []
        hidden = self.hidden_hints()
        for c in [*self.rb.commands_for(self.scope), *self.rb.commands_for("app")]:
            if not c.show or c.id in hidden or c.action in seen:
                continue
            seen.add(c.action)
            word = (c.short or c.description).lower()
            if c.id == "quit":
                word = "quit" if self.scope == "fleet" else "back"
            hints.append(KeyHint(c.label, word, c.rank))
        return hints + self.extra_hints()

    def update_keys(self) -> None:
        try:
            bar = self.query_one(KeyBar)
        except Exception:  # noqa: BLE001 - a screen without a key bar (none today)
            return
        bar.show(self.key_hints())

    def step_back(self) -> bool:
        """esc: undo the screen's own state first (a filter); True when it did."""
        return False

    def tick(self) -> None:
        """Timer refresh: only the visible screen refreshes, and never under a modal (the
        operator is deciding; the numbers must not move under them)."""
        if self.app.screen is self and not self.rb.paused and not self.rb.preparing:
            self.refresh_data()

    def on_screen_resume(self) -> None:
        """Back on this screen (q or esc from the one above): show fresh data now, not at the
        next tick."""
        if not self.rb.preparing and self.is_mounted:
            self.refresh_data()

    def refresh_data(self) -> object:  # overridden by screens that poll (a worker)
        return None

    def set_status(self, text: str, *, degraded: bool = False) -> None:
        line = self.query_one("#statusline", Static)
        if self.rb.read_only:
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


def bind_confirm_keys(screen: Any) -> None:
    """A confirmation dialog's keys from the registry (scope ``confirm``), plus the back key
    (esc) as cancel: y executes, n / esc cancel, enter closes once it is done."""
    app = rollbook_app(screen)
    for c in app.commands_for("confirm"):
        screen._bindings.bind(c.key, c.action, c.description, show=False, priority=True)
    back = next((c for c in app.commands if c.id == "back"), None)
    if back is not None:
        screen._bindings.bind(back.key, "cancel", "Cancel", show=False, priority=True)
    screen.refresh_bindings()


def confirm_hint(screen: Any, *, warned: bool = False) -> str:
    """``y EXECUTE   ·   n / esc cancel`` with the keys as configured."""
    k = rollbook_app(screen).key
    read = " (read the warning above)" if warned else ""
    return f"{k('confirm_yes')} EXECUTE{read}   ·   {k('confirm_no')} / {k('back')} cancel"


def close_hint(screen: Any, *, scroll: bool = False) -> str:
    k = rollbook_app(screen).key
    return f"{k('confirm_close')} / {k('back')} close" + (" · ↑↓ scroll" if scroll else "")
