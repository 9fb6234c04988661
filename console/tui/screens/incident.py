"""Incident — the 3 AM screen: header with elapsed time and running cost; the six phases as a
stepper; the current step with its evidence, a chart with actions marked, and what to press;
the live timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Static

from console.actions.plan import Plan
from console.enums import Recovery
from console.errors import RollbookError
from console.formatting import format_signal
from console.reports.render import format_money
from console.store import PHASES
from console.tui.keybar import KeyBar, KeyHint
from console.tui.screens.base import MitigationKeys
from console.views import IncidentView, duration, incident_model, incident_view, sparkline

if TYPE_CHECKING:
    from console.runbooks.engine import StepView

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
    lo, hi = (min(vals), max(vals)) if vals else (None, None)
    t = Text()
    now = pts[-1][1]
    sig = view.signal or ""
    t.append(
        f"{sig} now {format_signal(sig, now)} "
        f"(min {format_signal(sig, lo)}, max {format_signal(sig, hi)})\n",
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
    t.append(icon + w.line(), style=style)
    if w.state is Recovery.WATCHING:
        t.append(
            "\nmitigation applied; the cost clock runs until the signal is back", style="italic"
        )
    t.append("\n")  # one blank line before the step
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
        self.model: str | None = None  # from the store, before the view loads

    def compose(self) -> ComposeResult:
        yield Static(f"{self.incident_id} · loading…", id="title")
        with Horizontal(id="incident-body"):
            yield VerticalScroll(Static(id="phases-text"), id="phases")
            # the step's keys (and a decision's options) are pinned under its text, so they
            # are on screen at 80x24 however long the text and the evidence are
            with Vertical(id="current"):
                yield VerticalScroll(Static(id="step-text"), Static(id="chart-text"), id="step")
                yield Static(id="step-keys")
            yield VerticalScroll(Static(id="timeline-text"), id="timeline")
        yield Static("", id="statusline")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#phases").border_title = "phases"
        self.query_one("#current").border_title = "current step"
        self.query_one("#timeline").border_title = "timeline"
        self.set_class(self.app.size.width < 110, "narrow")
        self.query_one("#step").focus()
        self.load_model()
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
                incident_view, self.incident_id, here=True, key=f"incident:{self.incident_id}"
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
            # the key that undoes it is in the key bar (from the registry, as remapped)
            + (f" · ⚑ KILL SWITCH ({v.killswitch})" if v.killswitch else "")
            + (" · READ-ONLY" if self.rb.read_only else "")
        )
        self.query_one("#title", Static).update(
            f"{inc.id} {inc.severity} {inc.model} {status} {inc.phase.upper()} "
            f"T+{duration(v.elapsed)} cost {rph}{drill}{self.team_text(v)}"
            if narrow
            else f"{inc.id} · {inc.severity} · {inc.model} · {status} · "
            f"phase {inc.phase.upper()} · "
            f"{duration(v.elapsed)} since detection · cost {rph}{drill}"
            f"{self.team_text(v)}"
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
        self.query_one("#step-keys", Static).update(self.render_keys(v))
        status = f"as of {v.now:%H:%M:%S} UTC · {v.total_events} events"
        alerting = self.still_alerting_text(v)
        self.set_status(alerting or status)
        self.update_keys()

    def team_text(self, v: IncidentView) -> str:
        """Who runs the incident and who else has it open now (presence): "IC ana · with
        ben, cleo" (the person at this console is not among the viewers)."""
        others = v.viewers
        parts = []
        if v.commander:
            parts.append(f"IC {v.commander}")
        if others:
            shown = others if len(others) <= 2 else [*others[:2], f"+{len(others) - 2}"]
            parts.append("with " + ", ".join(shown))
        return "".join(" · " + p for p in parts)

    def still_alerting_text(self, v: IncidentView) -> str:
        """After the incident is resolved, a model whose alerts still fire says so."""
        if v.incident.status not in ("resolved", "closed") or not v.alerts_firing:
            return ""
        key = self.rb.key("open_incident")
        return f"▲ {v.incident.model} is still alerting ({', '.join(v.alerts_firing)})" + (
            f" · {key} opens its incident" if key else ""
        )

    def hidden_hints(self) -> set[str]:
        v = self.view
        hidden = {"open_incident"}
        if v is not None and self.still_alerting_text(v):
            hidden.clear()
        if v is not None and v.incident.acknowledged_at is not None:
            hidden.add("acknowledge")
        s = self.focused_step()
        if s is not None and s.kind == "decision":
            hidden.add("run_step")  # a decision is answered with its numbers
        return hidden

    def extra_hints(self) -> list[KeyHint]:
        out = []
        v = self.view
        s = self.focused_step()
        if s is not None and s.kind == "decision" and s.options:
            first, last = self.rb.key("answer_1"), self.rb.key(f"answer_{len(s.options)}")
            keys = first if len(s.options) == 1 else f"{first}–{last}"
            out.append(KeyHint(keys, "choose", 1))
        if v is not None and v.killswitch:
            restore = self.rb.key("restore")
            if restore:
                out.append(KeyHint(restore, "undo kill switch", 3))
        return out

    def render_phases(self, v: IncidentView) -> Text:
        t = Text()
        current_id = v.current.id if v.current else None
        focus = self.focused_step()
        # the compact list follows the step on screen (the current one, or the one j/k
        # selects), else the incident's phase
        shown = focus.phase if focus else v.incident.phase
        if self.has_class("narrow"):  # one line of phases, then one phase's steps
            for phase in PHASES:
                here = phase == v.incident.phase
                icon = "▶" if here else phase_icon(v.steps, phase)
                t.append(
                    f"{icon}{phase} ",
                    style="bold reverse" if here else ("underline" if phase == shown else ""),
                )
            t.append("\n")
            # the shown phase's steps on one line: icons for the others, the title of the
            # step on screen (the current step's pane has the rest)
            mine = [s for s in v.steps if s.phase == shown]
            for i, s in enumerate(mine):
                mark = STATE_ICON.get(s.state, "?")
                here = s.id == (self.selected or current_id)
                t.append(
                    (" " if i else "") + (f"›{mark} {s.title}" if here else mark),
                    style="bold yellow" if here else "",
                )
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
            return Group(*parts, t)
        head = Text()
        # the last step someone (or the flow) took; steps skipped by a choice are not news
        done = [x for x in v.steps if x.finished_at and x.state != "skipped"]
        if done and self.selected is None:
            last = max(done, key=lambda x: x.finished_at or "")
            icon = STATE_ICON.get(last.state, "?")
            head.append(
                f"last: {icon} {last.title} — {last.state.upper()}"
                + (f": {last.summary}" if last.summary else ""),
                style="italic",
            )
            again = self.rerun_hint(v, last)
            if again:
                head.append(f" ({again})", style="bold")
            head.append("\n\n")
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
        return Group(*parts)

    def rerun_hint(self, v: IncidentView, last: StepView) -> str:
        """How to run a finished verification again (it failed: "not yet")."""
        from console.runbooks.engine import VERIFICATIONS

        if last.kind != "check" or last.state != "failed" or last.name not in VERIFICATIONS:
            return ""
        ids = [x.id for x in v.steps]
        here = v.current.id if v.current else None
        back = self.rb.key("prev_step")
        run = self.rb.key("run_step")
        if here in ids and last.id in ids and ids.index(here) > ids.index(last.id):
            n = ids.index(here) - ids.index(last.id)
            times = back if n == 1 else f"{back} ×{n}"
            return f"{times} selects it, {run} runs it again"
        return f"{run} runs it again"

    def render_keys(self, v: IncidentView) -> Text:
        """What to press for the step on screen, every key from the registry: a decision's
        numbered options, the key that runs (or re-runs) the step, what a note step writes."""
        t = Text()
        s = self.focused_step()
        rb = self.rb
        run = rb.key("run_step")
        if s is not None:
            # the step's title is pinned too: it is what the keys below act on
            state = s.state
            if self.running and self.running[0] == s.id:
                import time

                state = f"running for {time.monotonic() - self.running[1]:.0f} s"
            t.append(f"[{s.phase.upper()}] {s.title}", style="bold")
            t.append(f"  ({s.kind} · {state})\n")
        if s is None:
            t.append("next: ", style="bold")
            t.append(
                "no runbook step pending · "
                + " · ".join(h for h in (rb.hint("rollback"), rb.hint("killswitch"),
                                         rb.hint("note"), rb.hint("review")) if h)
            )  # fmt: skip
            return t
        if self.running and self.running[0] == s.id:
            from console.runbooks.engine import VERIFICATIONS

            t.append("wait: ", style="bold")
            t.append(
                "watching the signal until it recovers or the check's deadline passes"
                if s.name in VERIFICATIONS
                else "the step is running"
            )
            t.append(" (the screen stays live)")
            return t
        if s.kind == "decision" and s.options:
            t.append(
                f"answered {s.answer}; press a number to choose again:"
                if s.finished_at
                else "choose (press the number):",
                style="bold",
            )
            for i, o in enumerate(s.options, 1):
                t.append(f"\n {rb.key(f'answer_{i}') or '·'} ", style="bold reverse")
                t.append(f" {o.get('label') or o.get('id')}")
            return t
        t.append("next: ", style="bold")
        again = bool(s.finished_at)
        if s.kind == "check":
            t.append(f"{run} " + ("runs the check again" if again else "runs the check"))
        elif s.kind == "action":
            from console.enums import ActionKind

            yes = self.rb.key("confirm_yes")
            changes = s.name in {k.value for k in ActionKind}
            t.append(f"{run} " + ("runs the action again" if again else "runs the action"))
            if changes and yes:
                t.append(f" (shows its plan first; {yes} executes it)")
        elif s.kind == "note":
            t.append(f"{run} writes this step's note")
            if s.note:
                t.append(" again (it is recorded once more)")
        elif s.kind == "manual":
            t.append(f"{run} marks it done")
            note = rb.key("note")
            if note:
                t.append(f" · {note} adds a note to the timeline")
        else:
            t.append(f"{run} runs it")
        return t

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
            n = len(s.options or [])
            first, last = self.rb.key("answer_1"), self.rb.key(f"answer_{max(1, n)}")
            self.notify(f"press {first}–{last} to choose an option", severity="information")
            return
        if s.kind == "note":
            self.action_note(step_id=s.id)
            return
        self.run_step_worker(s.id)

    def action_answer(self, n: int) -> None:
        """The n-th option of the decision on screen (keys ``answer_1``…``answer_9``)."""
        s = self.focused_step()
        if s is None or s.kind != "decision":
            return
        options = s.options or []
        if 1 <= n <= len(options):
            o = options[n - 1]
            self.run_step_worker(s.id, answer=str(o.get("id") or o.get("label")))

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
        if confirm:  # a confirmed action on production: quitting waits for it
            self.rb.action_started()
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
            if confirm:
                self.rb.action_finished()
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

    def action_stakeholder_update(self) -> None:
        from console.tui.screens.note import NoteModal

        def done(text: str | None) -> None:
            if text:
                self.update_worker(text)

        self.app.push_screen(
            NoteModal("Stakeholder update (sent to the incident's channels)"), done
        )

    @work(group="incident-update")
    async def update_worker(self, text: str) -> None:
        from console.notify.updates import post_update

        try:
            # recorded first, whatever the channels do; the wait for them is bounded
            result = await self.rb.bridge.run(post_update, self.incident_id, text, wait=3.0)
        except RollbookError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(
            result.summary(), severity="error" if result.failed else "information", timeout=8
        )
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
        # R/K/U never wait for the view: a hung backend may keep it from loading, and the
        # model comes from the store (load_model) as soon as the screen opens
        model = self.view.incident.model if self.view else self.model
        return (model, self.incident_id) if model else None

    @work(group="incident-model")
    async def load_model(self) -> None:
        try:
            self.model = await self.rb.bridge.run(incident_model, self.incident_id, timeout=5)
        except RollbookError:
            self.model = None

    def action_open_incident(self) -> None:
        """After this incident is resolved, a model still alerting: open (or join) the
        incident its alerts raise."""
        v = self.view
        if v is None or not self.still_alerting_text(v):
            return
        self.rb.open_incident_of(v.incident.model, [], len(v.alerts_firing))

    def action_drift(self) -> None:
        from console.tui.screens.drift import DriftScreen

        if self.view:
            self.app.push_screen(DriftScreen(self.view.incident.model, self.incident_id))

    def action_review(self) -> None:
        from console.tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self.incident_id))
