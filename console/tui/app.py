"""RollbookApp: screens, the command registry, the backend bridge and the refresh loop."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.command import Hit, Hits, Provider

from console.keymap import Command, effective, for_scope, key_label
from console.tui.bridge import Bridge
from console.tui.theme import HIGH_CONTRAST

if TYPE_CHECKING:  # loaded by the worker that opens the workspace, after the first frame
    from console.clock import Clock
    from console.workspace import Workspace


class RegistryCommands(Provider):
    """The command palette lists exactly the registry's commands for the current screen."""

    async def search(self, query: str) -> Hits:
        from console.tui.screens.base import RegistryScreen, rollbook_app

        app = rollbook_app(self)
        matcher = self.matcher(query)
        # self.screen is the screen the palette was opened on (app.screen is the palette)
        target = self.screen
        scope = target.scope if isinstance(target, RegistryScreen) else "app"
        seen: set[tuple[str, str]] = set()
        for cmd in app.commands_for(scope) + (app.commands_for("app") if scope != "app" else []):
            if (cmd.action, cmd.description) in seen or cmd.id.startswith("answer_"):
                # one entry per command, under its first key; a decision's options are
                # answered with their numbers on the step, not from a list of nine
                continue
            seen.add((cmd.action, cmd.description))
            score = matcher.match(f"{cmd.description} ({key_label(cmd.key)})")
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(f"{cmd.description} ({key_label(cmd.key)})"),
                    partial(app.run_command, cmd, target),
                    help=cmd.id,
                )


class RollbookApp(App):
    CSS_PATH = "rollbook.tcss"
    TITLE = "Rollbook"
    COMMANDS = {RegistryCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        open_workspace: Callable[[], Workspace],
        *,
        env_name: str = "demo",
        incident: str | None = None,
        keys: dict[str, str] | None = None,
        read_only: bool = False,
        refresh_seconds: float = 2.0,
        clock: Clock | None = None,
        prepare: Callable[[Workspace], str | None] | None = None,
        live: bool = True,
    ) -> None:
        from console.keymap import validate

        # the config loader has checked [keys] already; a caller passing keys directly
        # (tests, embedding) gets the same checks
        self.commands = effective(validate(keys or {}), read_only=read_only)
        super().__init__()
        for c in for_scope(self.commands, "app"):
            self._bindings.bind(
                c.key,
                c.action.removeprefix("app."),
                c.description,
                show=False,
                # ctrl+c must quit even where a text box has the focus
                priority=c.id == "interrupt",
            )
        if read_only:  # the mitigation keys are gone; pressing one says why instead of nothing
            for c in effective(keys):
                if c.dangerous:
                    self._bindings.bind(
                        c.key, f"read_only_notice('{c.description}')", c.description, show=False
                    )
        self.prepared = False  # the demo's prepare step has run (see ``preparing``)
        self.actions_running = 0  # actions on production in flight (they always finish)
        self.quit_pending = False
        self.bridge = Bridge(open_workspace)
        self.env_name = env_name
        self.start_incident = incident
        self.read_only = read_only
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self.prepare = prepare  # slow setup (seeding the demo) run after the first frame
        self.live = live  # another person's event refreshes the screen within a second

    def commands_for(self, scope: str) -> list[Command]:
        return for_scope(self.commands, scope)

    def hint(self, command_id: str) -> str:
        """``"R rollback"`` with the key as configured (empty if the command is off here)."""
        from console.keymap import hint

        return hint(self.commands, command_id)

    def key(self, command_id: str) -> str:
        """The key bound to a command id, as shown (``"?"``, ``"R"``)."""
        from console.keymap import key_of

        return key_of(self.commands, command_id)

    @property
    def paused(self) -> bool:
        """Refresh pauses while a modal is open (the operator is deciding)."""
        from textual.screen import ModalScreen

        return isinstance(self.screen, ModalScreen)

    def on_mount(self) -> None:
        from console.tui.screens.fleet import FleetScreen

        self.register_theme(HIGH_CONTRAST)
        self.theme = HIGH_CONTRAST.name
        self.push_screen(FleetScreen())
        if self.prepare is not None:
            # paint first: the slow setup (importing and seeding the simulated world) starts
            # once the first frame is on screen, not while Textual is drawing it
            self.call_after_refresh(self.run_prepare)
        else:
            if self.start_incident:
                self.open_incident(self.start_incident)
            if self.live:
                self.watch_store()

    @property
    def preparing(self) -> bool:
        """The demo's world is being prepared: screens wait for it instead of racing it."""
        return self.prepare is not None and not self.prepared

    @work(exclusive=True, group="prepare")
    async def run_prepare(self) -> None:
        from console.errors import RollbookError
        from console.tui.screens.base import RegistryScreen

        prepare = self.prepare
        if prepare is None:
            return
        if isinstance(self.screen, RegistryScreen):
            self.screen.set_status("preparing the simulated world…")
        try:
            incident = await self.bridge.run(prepare, timeout=300)
        except RollbookError as exc:
            self.prepared = True
            self.notify(str(exc), severity="error", timeout=15)
            return
        self.prepared = True
        if self.live:
            self.watch_store()
        home = self.screen
        if incident:
            self.open_incident(incident)
        if isinstance(home, RegistryScreen):
            # the fleet underneath loads once the incident has had its turn, so that going
            # back shows it filled
            home.set_timer(1.0 if incident else 0.0, home.refresh_data)

    @work(thread=True, exclusive=True, group="live")
    def watch_store(self) -> None:
        """Live: when another console (or `rollbook`, or `rollbook serve`) writes an event,
        the visible screen refreshes now instead of at its next tick (``console.live``:
        LISTEN/NOTIFY on PostgreSQL, a cheap poll on SQLite)."""
        from textual.worker import get_current_worker

        from console.errors import RollbookError
        from console.live import watch
        from console.store import open_store

        worker = get_current_worker()
        try:
            config = self.bridge.workspace().config
        except RollbookError:
            return  # the screens say why the workspace does not open

        def post(fn: Callable[..., None], *args: object) -> None:
            if not worker.is_cancelled:
                with contextlib.suppress(RuntimeError):  # the app is closing
                    self.call_from_thread(fn, *args)

        watch(
            lambda: open_store(config),
            on_change=lambda: post(self.store_changed),
            on_status=lambda message: post(self.store_status, message),
            stop=lambda: worker.is_cancelled,
            every=0.5,
        )

    def store_changed(self) -> None:
        from console.tui.screens.base import RegistryScreen

        screen = self.screen
        if isinstance(screen, RegistryScreen) and not self.paused and not self.preparing:
            screen.refresh_data()

    def store_status(self, message: str | None) -> None:
        from console.tui.screens.base import RegistryScreen

        if message and isinstance(self.screen, RegistryScreen):
            self.screen.degraded(message)

    def open_incident(self, incident_id: str) -> None:
        from console.tui.screens.incident import IncidentScreen

        self.push_screen(IncidentScreen(incident_id))

    def open_incident_of(self, model: str, open_incidents: list[str], firing: int) -> None:
        """`i` on a model: its open incident; else, when its alerts fire, the incident the
        intake opens for them (with its runbook); else say there is none."""
        if open_incidents:
            self.open_incident(open_incidents[-1])
        elif firing:
            self.intake_and_open(model)
        else:
            self.notify(f"{model}: no open incident and no alert firing", timeout=4)

    @work(exclusive=True, group="intake")
    async def intake_and_open(self, model: str) -> None:
        from console.errors import RollbookError
        from console.intake import intake_alerts

        try:
            rows = await self.bridge.run(intake_alerts, model=model)
        except RollbookError as exc:
            self.notify(
                f"could not open an incident for {model}: {exc.message}",
                severity="error",
                timeout=10,
            )
            return
        first = next((r for r in rows if r.incident is not None), None)
        if first is None or first.incident is None:
            self.notify(f"{model}: its alerts stopped firing; no incident opened", timeout=6)
            return
        verb = "opened" if any(r.created for r in rows) else "joined"
        self.notify(f"{verb} {first.incident.id} from {first.alert.name}", timeout=6)
        self.open_incident(first.incident.id)

    def open_model(self, model: str) -> None:
        from console.tui.screens.model import ModelScreen

        self.push_screen(ModelScreen(model))

    def run_command(self, cmd: Command, screen=None) -> None:
        action = cmd.action
        # run_action is a coroutine: call_later awaits it (calling it bare did nothing)
        if action.startswith("app."):
            self.call_later(self.run_action, action.removeprefix("app."))
        else:
            self.call_later((screen or self.screen).run_action, action)

    # app-wide actions
    def action_help(self) -> None:
        from console.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_quit_or_back(self) -> None:
        """``q``: closes a dialog, goes back from a sub-screen, and quits on the fleet (like
        htop: no question; nothing is lost, the record is on disk)."""
        from textual.screen import ModalScreen

        if isinstance(self.screen, ModalScreen):
            self.call_later(self.screen.run_action, "cancel")
        elif len(self.screen_stack) > 2:
            self.pop_screen()
        else:
            self.action_interrupt()

    def action_interrupt(self) -> None:
        """ctrl+c (and ``q`` on the fleet): quit. An action on production that is running is
        never abandoned: Rollbook says so and quits the moment it has finished and recorded
        its outcome."""
        if self.actions_running:
            self.quit_pending = True
            self.notify(
                "an action on production is running: Rollbook quits as soon as it has "
                "finished and recorded its outcome",
                severity="warning",
                timeout=10,
            )
            return
        self.exit()

    def action_started(self) -> None:
        self.actions_running += 1

    def action_finished(self) -> None:
        self.actions_running = max(0, self.actions_running - 1)
        if self.quit_pending and not self.actions_running:
            self.exit()

    def action_read_only_notice(self, what: str) -> None:
        self.notify(
            f"{what} is disabled: environment {self.env_name!r} is read-only",
            severity="warning",
            timeout=5,
        )

    async def action_back(self) -> None:
        """esc: a screen's own step back first (the fleet clears its filter), else back."""
        from console.tui.screens.base import RegistryScreen

        if isinstance(self.screen, RegistryScreen) and self.screen.step_back():
            return
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def action_fleet(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_refresh_now(self) -> None:
        from console.tui.screens.base import RegistryScreen

        if isinstance(self.screen, RegistryScreen):
            self.screen.refresh_data()

    async def on_unmount(self) -> None:
        self.bridge.close()


def follow_the_terminal(environ=None, stdout=None) -> list[str]:
    """Drop inherited COLUMNS/LINES when stdout is a real terminal.

    Textual sizes itself with `shutil.get_terminal_size()`, which prefers those variables to
    the terminal's own size, also on every resize: a shell or CI job that exports them pins
    the console at that size (an 80x24 console in a 200-column terminal, deaf to resizing).
    Returns the names it removed.
    """
    import os
    import sys

    environ = os.environ if environ is None else environ
    stdout = sys.__stdout__ if stdout is None else stdout
    try:
        tty = stdout is not None and stdout.isatty()
    except (ValueError, OSError):
        tty = False
    if not tty:
        return []
    removed = [name for name in ("COLUMNS", "LINES") if name in environ]
    for name in removed:
        del environ[name]
    return removed


def run(
    env: str | None,
    incident: str | None = None,
    prepare: Callable[[Workspace], str | None] | None = None,
) -> None:
    from console.config import load
    from console.workspace import open_workspace

    cfg = load()
    envc = cfg.env(env)
    app = RollbookApp(
        lambda: open_workspace(envc.name, config=cfg),
        env_name=envc.name,
        incident=incident,
        keys=dict(cfg.keys),
        read_only=envc.read_only,
        prepare=prepare,
    )
    follow_the_terminal()
    app.run()
