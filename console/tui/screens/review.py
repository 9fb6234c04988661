"""Review: the post-mortem draft rendered from the incident record, blameless warnings,
action items editable (owner, due date), `e` exports."""

from __future__ import annotations

from rich.cells import cell_len
from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Markdown, Static

from console.errors import RollbookError
from console.tui.keybar import KeyBar
from console.tui.screens.base import RegistryScreen
from console.views import ReviewView, export_postmortem, review_view

ITEM_COLUMNS = ("action item", "owner", "due", "type")
MAX_WHAT = 60  # the "what" column; longer items are cut in the table, whole in the editor
ITEM_PROMPT = "what; owner; due (YYYY-MM-DD); type (prevent|detect|mitigate)"


def blame_text(findings) -> Text:
    """The blameless-check banner: the first finding in full (the widget wraps it) and how
    many more there are; all of them are in the draft."""
    if not findings:
        return Text("✔ blameless check: no blame-oriented wording")
    f = findings[0]
    t = Text(
        f"▲ blameless check: {len(findings)} finding(s) · line {f.line}: “{f.match}” → ",
        style="bold",
    )
    t.append(f.suggestion)
    if len(findings) > 1:
        t.append(f" (+{len(findings) - 1} more in the draft)")
    return t


class ReviewScreen(RegistryScreen):
    scope = "review"

    def __init__(self, incident_id: str) -> None:
        super().__init__(name="review")
        self.incident_id = incident_id
        self.view: ReviewView | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Rollbook · review · {self.incident_id}", id="title")
        yield Static("", id="blame")
        # a focusable scroll container, so the draft scrolls with the keyboard
        # (tab to it, then up/down/pgup/pgdn/home/end)
        with VerticalScroll(id="review-md"):
            yield Markdown("rendering the post-mortem draft…", id="review-doc")
        yield DataTable(id="items", cursor_type="row")
        yield Static("", id="statusline")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#items", DataTable).add_columns(*ITEM_COLUMNS)
        self.query_one(
            "#review-md"
        ).border_title = f"post-mortem draft ({self.rb.key('focus_next')} here to scroll)"
        self.load()

    @work(exclusive=True, group="review")
    async def load(self) -> None:
        first = self.view is None
        try:
            self.view = await self.rb.bridge.run(
                review_view, self.incident_id, key=f"review:{self.incident_id}"
            )
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        await self.query_one(Markdown).update(self.view.markdown)
        self.query_one("#blame", Static).update(blame_text(self.view.findings))
        self.fill_items()
        if first:  # the items first (enter edits); tab goes to the draft
            self.query_one("#items", DataTable).focus()
        self.set_status(f"{len(self.view.action_items)} action items")

    def fill_items(self) -> None:
        """The action items, with every column sized to its content. The widths are set
        here, not left to the table's own measuring on idle, which can draw the first rows
        at header width ("due" → "202")."""
        table = self.query_one("#items", DataTable)
        items = self.view.action_items if self.view else []
        rows = [
            (item.what, item.owner or "—", item.due or "—", item.type or "—", str(item.seq))
            for item in items
        ]
        cursor = table.cursor_row
        table.clear(columns=True)
        for i, label in enumerate(ITEM_COLUMNS):
            width = max([cell_len(label), *(cell_len(r[i]) for r in rows)])
            table.add_column(label, width=min(width, MAX_WHAT) if i == 0 else width)
        for r in rows:
            table.add_row(*r[:4], key=str(r[4]))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def selected_item(self):
        table = self.query_one("#items", DataTable)
        if self.view is None or table.row_count == 0:
            return None
        seq = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return next((i for i in self.view.action_items if i.seq == seq), None)

    def action_edit_item(self) -> None:
        item = self.selected_item()
        if item is None:
            return self.action_add_item()
        value = "; ".join([item.what, item.owner, item.due, item.type])
        self.ask_item(item.seq, value)

    def on_data_table_row_selected(self, _event) -> None:
        self.action_edit_item()

    def action_add_item(self) -> None:
        self.ask_item(None)

    def ask_item(self, supersedes: int | None, value: str = "", error: str = "") -> None:
        """The item editor; after a refused edit it comes back with what was typed and
        the reason, so nothing typed is lost."""
        from console.tui.screens.note import NoteModal

        prompt = ("Edit: " if supersedes is not None else "New action item: ") + ITEM_PROMPT
        if error:
            prompt += f"\n✖ {escape(error)}"

        def saved(text: str | None) -> None:
            if text:
                self.save_item(text, supersedes)

        self.app.push_screen(NoteModal(prompt, value), saved)

    @work(group="review-item")
    async def save_item(self, text: str, supersedes: int | None) -> None:
        from console.incidents import add_action_item, parse_item

        try:
            fields = parse_item(text)
            await self.rb.bridge.run(
                add_action_item,
                self.incident_id,
                supersedes=supersedes,
                what=fields.get("what", ""),
                owner=fields.get("owner", ""),
                due=fields.get("due", ""),
                type=fields.get("type", ""),
            )
        except RollbookError as exc:
            self.ask_item(supersedes, text, exc.message)
            return
        self.load()

    def action_export(self) -> None:
        self.export_worker()

    @work(group="review-export")
    async def export_worker(self) -> None:
        try:
            path = await self.rb.bridge.run(export_postmortem, self.incident_id)
            self.notify(f"exported to {path}", timeout=8)
        except RollbookError as exc:
            self.notify(str(exc), severity="error")
