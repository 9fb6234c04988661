"""The confirmation modal for R (rollback), K (kill switch) and U (undo the kill switch).

It shows the plan the core made (``console.mitigation.plan``, once) with the same lines the
CLI prints — warnings first, then what changes and why, then every preflight check. ``y``
executes exactly that plan; ``n``/``esc`` cancels (the safe default). While it runs it shows
each step as the timeline records it, then what was observed: APPLIED only when production
was read back, and, on an incident, the recovery watch (RECOVERED / NOT RECOVERED comes
later, from the signal). The app's refresh pauses while it is open."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.actions.plan import Plan
from console.actions.results import ActionResult
from console.enums import ActionKind, ActionStatus
from console.errors import RollbookError
from console.store import TimelineEvent
from console.tui.screens.base import bind_confirm_keys, close_hint, confirm_hint, rollbook_app
from console.workspace import Workspace

KINDS = {
    "rollback": ActionKind.ROLLBACK,
    "killswitch": ActionKind.KILLSWITCH,
    "restore": ActionKind.RESTORE,
}
TITLES = {
    "rollback": "ROLL BACK",
    "killswitch": "KILL SWITCH",
    "restore": "RESTORE (undo the kill switch)",
}
DONE_TITLES = {"rollback": "ROLLED BACK", "killswitch": "KILL SWITCH ON", "restore": "RESTORED"}


def make_plan(ws: Workspace, kind: str, model: str, incident_id: str | None) -> Plan:
    from console import mitigation

    return mitigation.plan(ws, mitigation.Request(KINDS[kind], model), incident_id=incident_id)


def execute(ws: Workspace, plan: Plan, incident_id: str | None) -> ActionResult:
    from console import mitigation

    return mitigation.execute(ws, plan, incident_id=incident_id)


def action_events_since(ws: Workspace, seq: int) -> list[TimelineEvent]:
    return ws.store.events(all_incidents=True, after_seq=seq, kind_prefix="action.")


def last_seq(ws: Workspace) -> int:
    return ws.store.last_seq()


LINE_STYLES = {"⚠": "bold yellow", "✖": "bold red", "✔ NOTHING": "bold green"}


def styled(lines: list[str]) -> Text:
    """The renderer's lines, with warnings and refusals standing out (the words and icons
    carry the meaning; colour only helps)."""
    t = Text()
    for line in lines:
        style = next((v for k, v in LINE_STYLES.items() if line.startswith(k)), "")
        t.append(line + "\n", style=style)
    return t


def _event_line(e: TimelineEvent) -> str:
    return f"  {e.ts:%H:%M:%S} {e.kind.removeprefix('action.')}: {e.message}"


class MitigationModal(ModalScreen[ActionResult | None]):
    """Keys from the registry (scope ``confirm``): y executes, n / esc cancel, enter closes."""

    def __init__(self, kind: str, model: str, incident_id: str | None = None) -> None:
        super().__init__()
        self.kind, self.model, self.incident_id = kind, model, incident_id
        self.plan: Plan | None = None
        self.state = "planning"  # planning | ready | blocked | running | done
        self.result: ActionResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"⚠ {TITLES.get(self.kind, self.kind)} {self.model}?", id="dialog-title")
            with VerticalScroll(id="dialog-body"):  # scrolls when the terminal is small
                yield Static(
                    "reading current state and running preflight checks…", id="dialog-plan"
                )
                yield Static("", id="dialog-progress")
            yield Static("", id="dialog-hint")

    def on_mount(self) -> None:
        bind_confirm_keys(self)
        k = rollbook_app(self).key
        self._hint(f"{k('confirm_no')} / {k('back')} cancel")
        self.load_plan()

    def _hint(self, text: str) -> None:
        self.query_one("#dialog-hint", Static).update(text)

    @work(exclusive=True, group="modal")
    async def load_plan(self) -> None:
        from console.plans import plan_lines

        bridge = rollbook_app(self).bridge
        try:
            self.plan = await bridge.run(make_plan, self.kind, self.model, self.incident_id)
        except RollbookError as exc:
            self.state = "blocked"
            self.query_one("#dialog-plan", Static).update(f"✖ cannot plan: {exc}")
            self._hint(close_hint(self))
            return
        plan = self.plan
        self.query_one("#dialog-plan", Static).update(styled(plan_lines(plan)))
        if plan.noop:
            self.state = "blocked"  # nothing to do: say so, and offer no y
            self._hint(close_hint(self))
        elif plan.blocked:
            self.state = "blocked"
            self._hint(
                "✖ refused — not executable from here (the CLI takes --override). "
                + close_hint(self)
            )
        else:
            self.state = "ready"
            self._hint(confirm_hint(self, warned=bool(plan.warnings)))

    def action_confirm(self) -> None:
        if self.state == "ready":
            self.state = "running"
            self._hint("executing… (it finishes and records its outcome, even if you quit)")
            rollbook_app(self).action_started()
            self.run_action_worker()

    @work(exclusive=True, group="modal")
    async def run_action_worker(self) -> None:
        app = rollbook_app(self)
        try:
            await self._execute()
        finally:
            app.action_finished()

    async def _execute(self) -> None:
        from console.plans import result_lines

        bridge = rollbook_app(self).bridge
        start = await bridge.run(last_seq)
        task = asyncio.ensure_future(bridge.run(execute, self.plan, self.incident_id, timeout=120))
        progress = self.query_one("#dialog-progress", Static)
        while not task.done():
            await asyncio.sleep(0.05)
            evs = await bridge.run(action_events_since, start)
            progress.update("\n".join(_event_line(e) for e in evs))
        try:
            self.result = task.result()
        except RollbookError as exc:
            self.state = "done"
            progress.update(f"✖ {exc}")
            self._hint(close_hint(self))
            return
        evs = await bridge.run(action_events_since, start)
        r = self.result
        lines = [_event_line(e) for e in evs]
        lines += ["", *result_lines(r)]
        if r.recovery is not None and not r.recovery.done:
            lines.append("  (the incident screen keeps watching; closing this changes nothing)")
        undo = rollbook_app(self).key("restore")
        if (
            self.kind == "killswitch"
            and r.status is ActionStatus.APPLIED
            and undo
            and f"{undo} (or" not in r.message  # the result names the key already
        ):
            lines.append(
                f"⚑ the kill switch holds: {undo} undoes it (back to the routes from before "
                "the first kill switch)"
            )
        progress.update("\n".join(lines))
        self.state = "done"
        if r.status is ActionStatus.APPLIED:
            self.query_one("#dialog-title", Static).update(
                f"{DONE_TITLES.get(self.kind, self.kind.upper())} {self.model} — APPLIED"
            )
        self._hint(close_hint(self, scroll=True))
        self.query_one("#dialog-body", VerticalScroll).scroll_end(animate=False)

    def action_cancel(self) -> None:
        if self.state == "running":
            self.notify(
                "the action is running; it cannot be cancelled half-way", severity="warning"
            )
            return
        self.dismiss(self.result)

    def action_close_done(self) -> None:
        if self.state in ("done", "blocked"):
            self.dismiss(self.result)
