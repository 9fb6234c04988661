"""Review: the post-mortem draft rendered from the incident record, blameless warnings,
action items editable (owner, due date), `e` exports."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Markdown, Static

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
        yield DataTable(id="items", cursor_type="row")
        yield Static("", id="statusline")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#items", DataTable).add_columns("action item", "owner", "due", "type")
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
        table = self.query_one("#items", DataTable)
        table.clear()
        for item in self.view.action_items:
            table.add_row(item.what, item.owner or "—", item.due or "—", item.type or "—",
                          key=str(item.seq))
        table.focus()
        self.set_status(f"{len(self.view.action_items)} action items · enter edit · + add · "
                        "e export · esc back")

    def selected_item(self):
        table = self.query_one("#items", DataTable)
        if self.view is None or table.row_count == 0:
            return None
        seq = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return next((i for i in self.view.action_items if i.seq == seq), None)

    def action_edit_item(self) -> None:
        from console.tui.screens.note import NoteModal

        item = self.selected_item()
        if item is None:
            return self.action_add_item()
        value = "; ".join([item.what, item.owner, item.due, item.type])
        self.app.push_screen(NoteModal("Edit: what; owner; due (YYYY-MM-DD); "
                                       "type (prevent|detect|mitigate)", value),
                             lambda text: text and self.save_item(text, item.seq))

    def on_data_table_row_selected(self, _event) -> None:
        self.action_edit_item()

    def action_add_item(self) -> None:
        from console.tui.screens.note import NoteModal

        self.app.push_screen(NoteModal("New action item: what; owner; due (YYYY-MM-DD); "
                                       "type (prevent|detect|mitigate)"),
                             lambda text: text and self.save_item(text, None))

    @work(group="review-item")
    async def save_item(self, text: str, supersedes: int | None) -> None:
        from console.incidents import add_action_item, parse_item

        try:
            await self.app.bridge.run(add_action_item, self.incident_id,  # type: ignore
                                      supersedes=supersedes, **parse_item(text))
        except RollbookError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.load()

    def action_export(self) -> None:
        self.export_worker()

    @work(group="review-export")
    async def export_worker(self) -> None:
        try:
            path = await self.app.bridge.run(export_postmortem, self.incident_id)  # type: ignore
            self.notify(f"exported to {path}", timeout=8)
        except RollbookError as exc:
            self.notify(str(exc), severity="error")
