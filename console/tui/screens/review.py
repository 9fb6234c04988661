"""Review: the post-mortem draft rendered from the incident record, blameless warnings,
action items editable (owner, due date), `e` exports."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer, Markdown, Static

from console.errors import RollbookError
from console.tui.screens.base import RegistryScreen
from console.views import ReviewView, review_view


def export_postmortem(ws, incident_id: str) -> str:
    from console.reports.postmortem import render_postmortem

    inc = ws.store.get(incident_id)
    text = render_postmortem(inc, ws.store.events(inc.id), now=ws.now(), fmt="md",
                             user_dir=ws.config.template_dir, currency=ws.config.currency,
                             revenue_per_hour=ws.env.revenue_per_hour.get(inc.model))
    out = ws.config.data_dir / "exports" / f"{inc.id}-postmortem.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return str(out)


class ReviewScreen(RegistryScreen):
    scope = "review"

    def __init__(self, incident_id: str) -> None:
        super().__init__(name="review")
        self.incident_id = incident_id
        self.view: ReviewView | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Rollbook · review · {self.incident_id}", id="title")
        yield Static("", id="blame")
        yield Markdown("rendering the post-mortem draft…", id="review-md")
        yield Static("", id="statusline")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="review")
    async def load(self) -> None:
        try:
            self.view = await self.app.bridge.run(review_view, self.incident_id)  # type: ignore
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        await self.query_one(Markdown).update(self.view.markdown)
        f = self.view.findings
        self.query_one("#blame", Static).update(
            "✔ blameless check: no blame-oriented wording" if not f else
            f"▲ blameless check: {len(f)} finding(s) — " + "; ".join(
                f"line {x.line}: “{x.match}” → {x.suggestion[:60]}" for x in f[:2]))
        self.set_status(f"{len(self.view.action_items)} action items · e export · esc back")

    def action_export(self) -> None:
        self.export_worker()

    @work(group="review-export")
    async def export_worker(self) -> None:
        try:
            path = await self.app.bridge.run(export_postmortem, self.incident_id)  # type: ignore
            self.notify(f"exported to {path}", timeout=8)
        except RollbookError as exc:
            self.notify(str(exc), severity="error")
