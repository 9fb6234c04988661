"""The confirmation modal for dangerous actions (rollback, kill switch).

It names the model, from → to, the traffic change and every preflight result; `y` executes,
`n`/`esc` cancels (the safe default). While it runs it shows each step as the timeline
records it, then the verified outcome. The app's refresh pauses while it is open."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.actions.results import ActionResult
from console.errors import RollbookError


def _routes(r: dict | None) -> str:
    return ", ".join(f"{k}={v:g}%" for k, v in (r or {}).items() if v) or "—"


def preview(ws, kind: str, model: str) -> ActionResult:
    if kind == "rollback":
        from console.actions.rollback import rollback

        return rollback(ws, model, dry_run=True)
    if kind == "restore":
        from console.actions.killswitch import restore

        return restore(ws, model, dry_run=True)
    from console.actions.killswitch import killswitch

    return killswitch(ws, model, dry_run=True)


def execute(ws, kind: str, model: str, target: str | None, incident_id: str | None) -> ActionResult:
    if kind == "rollback":
        from console.actions.rollback import rollback

        return rollback(ws, model, to=target, incident_id=incident_id)
    if kind == "restore":
        from console.actions.killswitch import restore

        return restore(ws, model, incident_id=incident_id)
    from console.actions.killswitch import killswitch

    return killswitch(ws, model, incident_id=incident_id)


def action_steps_since(ws, seq: int) -> list:
    return [e for e in ws.store.events(all_incidents=True, after_seq=seq, kind_prefix="action.")]


def last_seq(ws) -> int:
    return ws.store.last_seq()


class MitigationModal(ModalScreen[ActionResult | None]):
    BINDINGS = [
        Binding("y", "confirm", "Execute", id="modal_yes"),
        Binding("n", "cancel", "Cancel", id="modal_no"),
        Binding("escape", "cancel", "Cancel", show=False, id="modal_esc"),
        Binding("enter", "close_done", "Close", show=False, id="modal_close"),
    ]

    def __init__(self, kind: str, model: str, incident_id: str | None = None) -> None:
        super().__init__()
        self.kind, self.model, self.incident_id = kind, model, incident_id
        self.plan: ActionResult | None = None
        self.state = "planning"  # planning | ready | blocked | running | done
        self.result: ActionResult | None = None

    def compose(self) -> ComposeResult:
        title = {"rollback": "ROLL BACK", "restore": "RESTORE (undo the kill switch)"}.get(
            self.kind, "KILL SWITCH"
        )
        with Vertical(id="dialog"):
            yield Static(f"⚠ {title} {self.model}?", id="dialog-title")
            with VerticalScroll(id="dialog-body"):  # scrolls when the terminal is small
                yield Static(
                    "reading current state and running preflight checks…", id="dialog-plan"
                )
                yield Static("", id="dialog-progress")
            yield Static("n / esc cancel", id="dialog-hint")

    def on_mount(self) -> None:
        self.load_plan()

    @work(exclusive=True, group="modal")
    async def load_plan(self) -> None:
        try:
            self.plan = await self.app.bridge.run(preview, self.kind, self.model)  # type: ignore
        except RollbookError as exc:
            self.state = "blocked"
            self.query_one("#dialog-plan", Static).update(f"✖ cannot plan: {exc}")
            self.query_one("#dialog-hint", Static).update("esc close")
            return
        p = self.plan.plan
        lines = []
        from console.actions.history import describe_recent

        already = p.get("already_rolled_back")
        for line in describe_recent(p.get("recent") or []):
            lines.append(
                line
                + (" — this rolls back further" if self.kind == "rollback" and not already else "")
            )
        if (
            already
            or self.plan.status == "noop"
            or (
                p.get("from") is not None
                and p.get("from") == p.get("to")
                and p.get("traffic_before") == p.get("traffic_after")
            )
        ):
            # nothing to do: say so, and offer no y
            lines.append("")
            lines.append(f"✔ NOTHING TO DO: {self.plan.message.removeprefix('would do nothing: ')}")
            if already and p.get("further"):
                lines.append(
                    f"  to go further back: rollbook rollback {self.model} --to {p['further']}"
                )
            self.query_one("#dialog-plan", Static).update("\n".join(lines))
            self.state = "blocked"
            self.query_one("#dialog-hint", Static).update("enter / esc close")
            return
        if self.kind == "rollback":
            lines.append(f"version   {p.get('from')}  →  {p.get('to')}")
            lines.append(
                f"registry  production pointer {p.get('registry_before')} → "
                f"{p.get('registry_after')}"
            )
        elif self.kind == "killswitch":
            lines.append(f"fallback  {p.get('level') or 'NONE HEALTHY'} ({p.get('route')})")
        else:
            lines.append("back to the routes the kill switch replaced")
        lines.append(
            f"traffic   {_routes(p.get('traffic_before'))}  →  {_routes(p.get('traffic_after'))}"
        )
        if self.plan.checks:
            lines.append("preflight")
        for c in self.plan.checks:
            mark = "✔ PASS" if c.ok else ("⚑ OVERRIDDEN" if c.overridden else "✖ FAIL")
            lines.append(f"  {mark:<8} {c.name:<18} {c.detail}")
        blocked = self.plan.status == "refused" or any(c.blocking for c in self.plan.checks)
        self.query_one("#dialog-plan", Static).update("\n".join(lines))
        if blocked:
            self.state = "blocked"
            self.query_one("#dialog-hint", Static).update(
                "✖ preflight failed — not executable from here (use the CLI with --override). "
                "esc close"
            )
        else:
            self.state = "ready"
            self.query_one("#dialog-hint", Static).update("y EXECUTE   ·   n / esc cancel")

    def action_confirm(self) -> None:
        if self.state == "ready":
            self.state = "running"
            self.query_one("#dialog-hint", Static).update("executing… (do not close)")
            self.run_action_worker()

    @work(exclusive=True, group="modal")
    async def run_action_worker(self) -> None:
        bridge = self.app.bridge  # type: ignore[attr-defined]
        start = await bridge.run(last_seq)
        target = self.plan.plan.get("to") if self.plan else None
        task = asyncio.ensure_future(
            bridge.run(execute, self.kind, self.model, target, self.incident_id, timeout=120)
        )
        progress = self.query_one("#dialog-progress", Static)
        while not task.done():
            await asyncio.sleep(0.05)
            evs = await bridge.run(action_steps_since, start)
            progress.update(
                "\n".join(
                    f"  {e.ts:%H:%M:%S} {e.kind.removeprefix('action.')}: {e.message}" for e in evs
                )
            )
        try:
            self.result = task.result()
        except RollbookError as exc:
            self.state = "done"
            progress.update(f"✖ {exc}")
            self.query_one("#dialog-hint", Static).update("enter / esc close")
            return
        evs = await bridge.run(action_steps_since, start)
        lines = [f"  {e.ts:%H:%M:%S} {e.kind.removeprefix('action.')}: {e.message}" for e in evs]
        r = self.result
        verdict = {
            "applied": "✔ DONE" + (" — VERIFIED" if r.verified else " — NOT VERIFIED"),
            "noop": "✔ nothing to do",
            "partial": "⚠ PARTIALLY APPLIED",
            "failed": "✖ FAILED",
            "compensated": "✖ FAILED (undone)",
            "refused": "✖ REFUSED",
        }.get(r.status, r.status)
        lines.append(f"\n{verdict}: {r.message}")
        if r.status == "partial":
            lines.append(f"  finish: {r.finish}\n  undo:   {r.undo}")
        progress.update("\n".join(lines))
        self.state = "done"
        done = {
            "rollback": "ROLLED BACK",
            "killswitch": "KILL SWITCH ON",
            "restore": "RESTORED",
        }.get(self.kind, "")
        if r.status == "applied" and done:
            self.query_one("#dialog-title", Static).update(f"{done} {self.model}")
        self.query_one("#dialog-hint", Static).update("enter / esc close · ↑↓ scroll")
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
