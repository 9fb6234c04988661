"""Incident — the 3 AM screen: header with elapsed time and running cost; the six phases as a
stepper; the current step with its evidence, a chart with actions marked, and what to press;
the live timeline."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Footer, Static

from console.actions.plan import Plan
from console.enums import Recovery
from console.errors import RollbookError
from console.reports.render import format_money
from console.store import PHASES
from console.tui.screens.base import MitigationKeys
from console.views import IncidentView, duration, incident_view, sparkline

STATE_ICON = {
    "pending": "○",
    "running": "◔",
    "passed": "✔",
    "failed": "✖",
    "inconclusive": "?",
    "skipped": "–",
    "done": "✔",
}
TIMELINE_LINES = 200


def phase_icon(steps, phase: str) -> str:
    """✔ every step of the phase settled, ◐ some, ○ none (a phase is never ticked because
    the incident moved past it)."""
    mine = [s for s in steps if s.phase == phase]
    settled = sum(1 for s in mine if s.settled)
    if mine and settled == len(mine):
        return "✔"
    return "◐" if settled else "○"


def chart(view: IncidentView, width: int = 56) -> Text:
    """The key signal across the incident window, actions marked ▲ under the moment."""
    if not view.series:
        return Text("(no signal history)")
    pts = view.series[-width:]
    line = sparkline([v for _, v in pts])
    marks = [" "] * len(pts)
    for at, _name in view.action_marks:
        idx = min(range(len(pts)), key=lambda i: abs((pts[i][0] - at).total_seconds()))
        if abs((pts[idx][0] - at).total_seconds()) <= 120:
            marks[idx] = "▲"
    vals = [v for _, v in pts if v is not None]
    lo, hi = (min(vals), max(vals)) if vals else (0, 0)
    t = Text()
    now = pts[-1][1]
    t.append(
        f"{view.signal} now {'—' if now is None else format(now, '.3g')} "
        f"(min {lo:.3g}, max {hi:.3g})\n",
        style="bold",
    )
    t.append(line + "\n")
    t.append("".join(marks), style="bold yellow")
    t.append(f"\n{pts[0][0]:%H:%M}" + " " * max(1, len(pts) - 10) + f"{pts[-1][0]:%H:%M}")
    if view.action_marks:
        t.append("\n▲ = " + ", ".join(f"{n} {at:%H:%M}" for at, n in view.action_marks[-3:]))
    return t


RECOVERY_STYLE = {
    Recovery.WATCHING: ("⏳ ", "bold yellow"),
    Recovery.RECOVERED: ("✔ ", "bold green"),
    Recovery.NOT_RECOVERED: ("✖ ", "bold red"),
    Recovery.UNKNOWN: ("? ", "bold"),
}


def recovery_text(v: IncidentView) -> Text | None:
    """The recovery watch in one or two lines, above the current step: what is watched,
    against what, and how long is left — or what was seen (RECOVERED / NOT RECOVERED)."""
    w = v.recovery
    if w is None:
        return None
    icon, style = RECOVERY_STYLE[w.state]
    t = Text()
    t.append(icon + w.line() + "\n", style=style)
    if w.state is Recovery.WATCHING:
        t.append(
            "mitigation applied; the cost clock runs until the signal is back\n", style="italic"
        )
    t.append("\n")
    return t


def evidence_table(evidence: dict) -> Table | Text | None:
    feats = evidence.get("features") if isinstance(evidence, dict) else None
    if feats:
        t = Table(box=None, pad_edge=False, header_style="bold")
        for col in ("feature", "PSI", "null ref", "null now", "severity"):
            t.add_column(col)
        for f in feats[:6]:

            def pct(v):
                return f"{v * 100:.1f}%" if isinstance(v, int | float) else "—"

            psi = f.get("psi")
            t.add_row(
                f.get("name", "?"),
                f"{psi:.3f}" if isinstance(psi, int | float) else "—",
                pct(f.get("null_rate_reference")),
                pct(f.get("null_rate_current")),
                str(f.get("severity", "")).upper(),
            )
        return t
    if isinstance(evidence, dict) and evidence:
        from console.plans import plain

        lines = []
        for k, v in list(evidence.items())[:10]:
            if isinstance(v, list) and len(v) > 3:
                v = [*v[:3], f"… {len(v) - 3} more"]
            lines.append(f"{k.replace('_', ' ')}: {plain(v)}")
        return Text("\n".join(lines))
    return None


class IncidentScreen(MitigationKeys):
    scope = "incident"

    def __init__(self, incident_id: str) -> None:
        super().__init__(name="incident")
        self.incident_id = incident_id
        self.view: IncidentView | None = None
        self.selected: str | None = None  # step id chosen with j/k; None = current
        self.running: tuple[str, float] | None = None  # (step id, monotonic start) in flight

    def compose(self) -> ComposeResult:
        yield Static(f"{self.incident_id} · loading…", id="title")
        with Horizontal(id="incident-body"):
            yield VerticalScroll(Static(id="phases-text"), id="phases")
            yield VerticalScroll(Static(id="step-text"), Static(id="chart-text"), id="current")
            yield VerticalScroll(Static(id="timeline-text"), id="timeline")
        yield Static("", id="statusline")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#phases").border_title = "phases"
        self.query_one("#current").border_title = "current step"
        self.query_one("#timeline").border_title = "timeline"
        self.set_class(self.app.size.width < 110, "narrow")
        self.refresh_data()
        self.set_interval(self.rb.refresh_seconds, self.tick)

    def on_resize(self, event) -> None:
        narrow = event.size.width < 110
        if narrow != self.has_class("narrow"):
            self.set_class(narrow, "narrow")
            self.render_view()  # the layout changed: re-render in the matching format

    @work(exclusive=True, group="incident-refresh")
    async def refresh_data(self) -> None:
        try:
            view = await self.rb.bridge.run(
                incident_view, self.incident_id, key=f"incident:{self.incident_id}"
            )
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        self.view = view
        self.good_data(view.now)
        try:
            self.render_view()
        except NoMatches:
            return  # the screen was closed (or the app is quitting) while the data loaded

    # ---- rendering ----------------------------------------------------------------------
    def render_view(self) -> None:
        v = self.view
        if v is None:
            return
        inc = v.incident
        status = inc.status.upper()
        rph = format_money(v.cost, v.currency)
        narrow = self.has_class("narrow")
        drill = (
            (" · DRILL" if inc.drill else "")
            + (f" · ⚑ KILL SWITCH ({v.killswitch}) · U undoes" if v.killswitch else "")
            + (" · READ-ONLY" if self.rb.read_only else "")
        )
        self.query_one("#title", Static).update(
            f"{inc.id} {inc.severity} {inc.model} {status} {inc.phase.upper()} "
            f"T+{duration(v.elapsed)} cost {rph}{drill}"
            if narrow
            else f"{inc.id} · {inc.severity} · {inc.model} · {status} · "
            f"phase {inc.phase.upper()} · "
            f"{duration(v.elapsed)} since detection · cost so far {rph}{drill}"
        )
        self.query_one("#phases-text", Static).update(self.render_phases(v))
        self.query_one("#step-text", Static).update(self.render_step(v))
        # from the terminal size, not the widget's (not laid out yet on the first render)
        width = self.app.size.width - (6 if narrow else 30 + 44 + 6)
        width = max(20, width)
        self.query_one("#chart-text", Static).update(chart(v, width))
        tl = Text()
        for e in v.timeline[-TIMELINE_LINES:]:
            tl.append(f"{e.ts:%H:%M:%S} ", style="bold")
            tl.append(f"{e.actor} ", style="cyan")
            tl.append(f"{e.kind}\n", style="yellow")
            tl.append(f"  {e.message}\n")
        self.query_one("#timeline-text", Static).update(tl)
        self.query_one("#timeline", VerticalScroll).scroll_end(animate=False)
        from console.tui.screens.base import key_hints

        self.set_status(
            f"as of {v.now:%H:%M:%S} UTC · {v.total_events} events · "
            + key_hints(self.app, "incident")
        )

    def render_phases(self, v: IncidentView) -> Text:
        t = Text()
        current_id = v.current.id if v.current else None
        focus = self.focused_step()
        # the compact list follows the step j/k selects, else the incident's phase
        shown = focus.phase if self.selected and focus else v.incident.phase
        if self.has_class("narrow"):  # one line of phases, then one phase's steps
            for phase in PHASES:
                here = phase == v.incident.phase
                icon = "▶" if here else phase_icon(v.steps, phase)
                t.append(
                    f"{icon}{phase} ",
                    style="bold reverse" if here else ("underline" if phase == shown else ""),
                )
            t.append("\n")
            for s in [s for s in v.steps if s.phase == shown]:
                mark = STATE_ICON.get(s.state, "?")
                pointer = "›" if s.id == (self.selected or current_id) else " "
                t.append(f"{pointer}{mark} {s.title}\n")
            t.no_wrap, t.overflow = True, "ellipsis"
            return t
        for phase in PHASES:
            here = phase == v.incident.phase
            icon = "▶" if here else phase_icon(v.steps, phase)
            t.append(f"{icon} {phase.upper()}\n", style="bold reverse" if here else "bold")
            for s in [s for s in v.steps if s.phase == phase]:
                mark = STATE_ICON.get(s.state, "?")
                pointer = "›" if s.id == (self.selected or current_id) else " "
                t.append(
                    f" {pointer}{mark} {s.title}\n",
                    style="bold yellow" if pointer == "›" else "",
                )
        if not v.steps:
            t.append("\n(no runbook attached)\n")
        t.no_wrap, t.overflow = True, "ellipsis"
        return t

    def focused_step(self):
        v = self.view
        if v is None:
            return None
        if self.selected:
            return next((s for s in v.steps if s.id == self.selected), v.current)
        return v.current

    def render_step(self, v: IncidentView):
        from rich.console import Group

        s = self.focused_step()
        parts: list = []
        watch = recovery_text(v)
        if watch is not None:
            parts.append(watch)
        if s is None:
            t = Text()
            t.append(v.incident.title + "\n", style="bold")
            for ev in v.incident.data.get("evidence", []):
                t.append(f"evidence: {ev.get('summary')}\n")
            t.append("\nNo runbook step pending. R rollback · K kill switch · n note")
            return Group(*parts, t)
        head = Text()
        done = [x for x in v.steps if x.finished_at]
        if done and self.selected is None:
            last = max(done, key=lambda x: x.finished_at or "")
            icon = STATE_ICON.get(last.state, "?")
            head.append(
                f"last: {icon} {last.title} — {last.state.upper()}"
                + (f": {last.summary}" if last.summary else "")
                + "\n\n",
                style="italic",
            )
        head.append(f"[{s.phase.upper()}] {s.title}", style="bold")
        state = s.state
        if self.running and self.running[0] == s.id:
            import time

            state = f"running for {time.monotonic() - self.running[1]:.0f} s"
        head.append(f"  ({s.kind} · {state})\n")
        text = s.text or ""
        if text:
            head.append(text.strip() + "\n")
        summary = s.summary
        if summary:
            head.append("\n" + summary + "\n", style="bold")
        parts.append(head)
        ev = evidence_table(s.evidence or {})
        if ev is not None:
            parts.append(ev)
        options = s.options or []
        nxt = Text("\nnext: ", style="bold")
        kind = s.kind
        if kind == "decision" and options and not (self.running and self.running[0] == s.id):
            for i, o in enumerate(options, 1):
                label = o.get("label") if isinstance(o, dict) else str(o)
                nxt.append(f"\n  {i}  {label}")
        if self.running and self.running[0] == s.id:
            from console.runbooks.engine import VERIFICATIONS

            nxt.append(
                "wait: watching the signal until it recovers or the check's deadline passes"
                if s.name in VERIFICATIONS
                else "wait: the step is running"
            )
            nxt.append(" (the screen stays live)")
        elif kind == "decision" and options:
            pass
        elif kind == "check":
            nxt.append(
                "space run the check" if s.state == "pending" else "space run the check again"
            )
        elif kind == "action":
            nxt.append("space run the action (one that changes production asks y first)")
        elif kind in ("manual", "note"):
            nxt.append("space mark done · n write the note")
        parts.append(nxt)
        return Group(*parts)

    # ---- intents ------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if not self.view or not self.view.steps:
            return
        ids = [s.id for s in self.view.steps]
        cur = self.selected or (self.view.current.id if self.view.current else ids[0])
        idx = max(0, min(len(ids) - 1, ids.index(cur) + delta)) if cur in ids else 0
        self.selected = ids[idx]
        self.render_view()

    def action_run_step(self) -> None:
        s = self.focused_step()
        if s is None:
            return
        if self.running:
            title = (
                next((x.title for x in self.view.steps if x.id == self.running[0]), self.running[0])
                if self.view
                else self.running[0]
            )
            self.notify(f"still running: {title}", severity="warning", timeout=4)
            return
        if s.kind == "decision":
            self.notify("press 1–9 to choose an option", severity="information")
            return
        if s.kind == "note":
            self.action_note(step_id=s.id)
            return
        self.run_step_worker(s.id)

    def on_key(self, event) -> None:
        s = self.focused_step()
        if s is not None and s.kind == "decision" and event.key.isdigit():
            options = s.options or []
            i = int(event.key) - 1
            if 0 <= i < len(options):
                o = options[i]
                self.run_step_worker(
                    s.id, answer=o.get("id") or o.get("label") if isinstance(o, dict) else str(o)
                )
                event.stop()

    @work(group="incident-step")  # not exclusive: a second press must not cancel the first
    async def run_step_worker(
        self,
        step_id: str,
        *,
        answer: str | None = None,
        note: str | None = None,
        confirm: bool = False,
        plan: Plan | None = None,
    ) -> None:
        import time

        from console.tui.intents import run_step

        if self.running:
            return  # one step at a time: a second press must not start a second run
        self.running = (step_id, time.monotonic())
        self.render_view()
        try:
            view = await self.rb.bridge.run(
                run_step,
                self.incident_id,
                step_id,
                answer=answer,
                note=note,
                confirm=confirm,
                plan=plan,
                timeout=120,
            )
        except RollbookError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            view = None
        finally:
            self.running = None
        if view is not None and view.needs_confirmation and not confirm:
            from console.tui.screens.step_confirm import StepConfirmModal

            if self.rb.read_only:
                self.notify(
                    f"read-only environment: “{view.title}” changes production and is "
                    "not offered here; run it from a writable environment",
                    severity="warning",
                    timeout=8,
                )
                self.refresh_data()
                return

            confirmed = view.plan

            def decided(yes: bool | None) -> None:
                if yes:  # execute exactly the plan the person read
                    self.run_step_worker(step_id, confirm=True, plan=confirmed)
                else:
                    self.refresh_data()

            self.app.push_screen(StepConfirmModal(view.title, view.plan), decided)
            return
        if view is not None and view.needs == "note":
            self.action_note(step_id=step_id)
        self.selected = None
        self.refresh_data()

    def action_note(self, step_id: str | None = None) -> None:
        from console.tui.screens.note import NoteModal

        def done(text: str | None) -> None:
            if text:
                if step_id:
                    self.run_step_worker(step_id, note=text)
                else:
                    self.add_note_worker(text)

        title = (
            next((x.title for x in self.view.steps if x.id == step_id), step_id)
            if (step_id and self.view)
            else step_id
        )
        self.app.push_screen(
            NoteModal("Note for the timeline" if not step_id else f"Note for: {title}"), done
        )

    @work(group="incident-note")
    async def add_note_worker(self, text: str) -> None:
        from console.incidents import add_note

        await self.rb.bridge.run(add_note, self.incident_id, text)
        self.refresh_data()

    def action_acknowledge(self) -> None:
        self.ack_worker()

    @work(group="incident-ack")
    async def ack_worker(self) -> None:
        from console.tui.intents import acknowledge

        try:
            await self.rb.bridge.run(acknowledge, self.incident_id)
            self.notify("acknowledged")
        except RollbookError as exc:
            self.notify(str(exc), severity="error")
        self.refresh_data()

    def mitigation_target(self) -> tuple[str, str | None] | None:
        return (self.view.incident.model, self.incident_id) if self.view else None

    def action_drift(self) -> None:
        from console.tui.screens.drift import DriftScreen

        if self.view:
            self.app.push_screen(DriftScreen(self.view.incident.model, self.incident_id))

    def action_review(self) -> None:
        from console.tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self.incident_id))
