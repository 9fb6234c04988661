"""Model: versions with stage and lineage, "what moved" between any version and
production, traffic and recent signals."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from console.errors import RollbookError
from console.formatting import HEALTH_WORDS, format_routes, format_signal
from console.tui.keybar import KeyBar, KeyHint
from console.tui.screens.base import MitigationKeys
from console.views import ModelView, model_view


def what_moved(older, newer) -> Text:
    from console.diagnostics.lineage import lineage_diff

    diff = lineage_diff(older.lineage.to_dict(), newer.lineage.to_dict())
    t = Text()
    t.append(f"what moved {older.version} → {newer.version}: ", style="bold")
    t.append((", ".join(diff.moved) or "nothing") + "\n")
    for c in diff.changes:
        t.append(
            f"  {'!' if c.material else ' '} {c.group:<11} {c.field}: ",
            style="bold red" if c.material else "",
        )
        t.append(f"{c.before} → {c.after}\n")
    if diff.material:
        t.append(
            "! = material: " + "; ".join(r for r in [c.reason for c in diff.changes if c.material]),
            style="bold",
        )
    return t


VERSION_COLUMNS = ("version", "stage", "serving", "created", "code", "data", "features", "gates")


def serving_cell(mv, view: ModelView) -> str:
    """Which version serves production, said plainly. The registry stage and the production
    pointer can differ on purpose: an emergency rollback moves the pointer (and traffic),
    not the stages, so a rolled-back-to version can be "Archived" while it serves."""
    s = view.status
    share = s.routes.get(mv.version, 0.0)
    if s.killswitch and not share:
        # a kill switch took the traffic: the pointer still names a version, nothing of it
        # serves (the fallback does; U undoes it)
        if mv.version == s.production_version:
            return f"◇ pointer · ⚑ {s.killswitch} serves"
        return "—"
    if mv.version == s.production_version:
        text = "◆ serving" + (f" {share:g}%" if share else "")
        if mv.stage != "Production":
            text += " (rollback)" if view.rolled_back_from else " (pointer)"
        return text
    if mv.version in view.rolled_back_from:
        return "rolled back from" + (f" · {share:g}%" if share else "")
    if share:
        return f"{share:g}% traffic"
    return "not serving" if mv.stage == "Production" else "—"


def version_cells(mv, view: ModelView) -> tuple:
    lin = mv.lineage
    gates = (
        "✔ all"
        if lin.gates_passed
        else ("✖ " + ",".join(g for g, ok in lin.gates.items() if not ok) if lin.gates else "—")
    )
    return (
        mv.version,
        mv.stage,
        serving_cell(mv, view),
        f"{mv.created_at:%Y-%m-%d}",
        lin.code_commit[:8],
        lin.data_snapshot_hash[:8],
        lin.feature_version,
        gates,
    )


class ModelScreen(MitigationKeys):
    scope = "model"

    def __init__(self, model: str) -> None:
        super().__init__(name="model")
        self.model = model
        self.view: ModelView | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Rollbook · model {self.model}", id="title")
        yield Static("loading…", id="model-summary")
        yield DataTable(id="versions", cursor_type="row")
        yield VerticalScroll(Static(id="lineage-text"), id="lineage")
        yield Static("", id="statusline")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in VERSION_COLUMNS:
            table.add_column(col, key=col)
        self.query_one(
            "#lineage"
        ).border_title = f"lineage diff ({self.rb.key('diff')}: selected vs production)"
        self.refresh_data()
        self.set_interval(self.rb.refresh_seconds * 2, self.tick)

    @work(exclusive=True, group="model-refresh")
    async def refresh_data(self) -> None:
        try:
            view = await self.rb.bridge.run(model_view, self.model, key=f"model:{self.model}")
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        first = self.view is None
        self.view = view
        self.good_data(view.status.as_of or datetime.now(UTC))
        self.render_view(view, first)

    def render_view(self, v: ModelView, first: bool) -> None:
        """Draw the whole view, the versions table included, every time it changes (after
        a rollback the serving version moves)."""
        s = v.status
        word = HEALTH_WORDS.get(s.health, s.health)
        sig = " · ".join(
            f"{k} {format_signal(k, val)}" for k, val in s.signals.items() if val is not None
        )
        held = ""
        if s.killswitch:
            undo = self.rb.key("restore")
            held = f" · ⚑ KILL SWITCH ({s.killswitch})" + (f", {undo} undoes it" if undo else "")
        self.query_one("#model-summary", Static).update(
            Text(
                f"{s.model} ({s.serving_pattern}) · production {s.production_version} · traffic "
                f"{format_routes(s.routes)} · {word}{held}\n{sig}\nincidents: "
                + (", ".join(f"{i.id} {i.status}" for i in v.incidents[-4:]) or "none")
            )
        )
        table = self.query_one(DataTable)
        wanted = [mv.version for mv in v.versions]
        with self.app.batch_update():
            for key in [k.value for k in list(table.rows) if k.value is not None]:
                if key not in wanted:
                    table.remove_row(key)
            present = {k.value for k in table.rows}
            for mv in v.versions:
                cells = version_cells(mv, v)
                if mv.version in present:
                    for col, value in zip(VERSION_COLUMNS, cells, strict=True):
                        table.update_cell(mv.version, col, value, update_width=True)
                else:
                    table.add_row(*cells, key=mv.version)
        if first and v.default_diff and v.default_diff[0] in wanted:
            # start on the older side of the default diff (see ModelView.default_diff)
            table.move_cursor(row=wanted.index(v.default_diff[0]))
        self.show_diff(default=first)
        self.set_status(f"as of {s.as_of:%H:%M:%S} UTC")
        self.update_keys()

    def extra_hints(self) -> list[KeyHint]:
        if self.view is not None and self.view.status.killswitch and self.rb.key("restore"):
            return [KeyHint(self.rb.key("restore"), "undo kill switch", 3)]
        return []

    def action_diff(self) -> None:
        self.show_diff()

    def show_diff(self, *, default: bool = False) -> None:
        """The selected version against production; on the first draw (and when the
        selected version is production itself) the view's default pair."""
        v = self.view
        if v is None or not v.versions:
            return
        table = self.query_one(DataTable)
        by_name = {x.version: x for x in v.versions}
        key = (
            table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if table.row_count
            else None
        )
        prod = by_name.get(v.status.production_version or "", v.versions[-1])
        chosen = by_name.get(key or "", v.versions[-1])
        if (default or chosen.version == prod.version) and v.default_diff:
            chosen, prod = (by_name[x] for x in v.default_diff)
        elif chosen.version == prod.version:
            idx = v.versions.index(prod)
            if idx == 0:
                self.query_one("#lineage-text", Static).update("only one version")
                return
            chosen = v.versions[idx - 1]
        older, newer = sorted((chosen, prod), key=lambda m: m.created_at)
        self.query_one("#lineage-text", Static).update(what_moved(older, newer))

    def on_data_table_row_highlighted(self, _event) -> None:
        if self.view is not None:
            self.show_diff()

    def action_open_incident(self) -> None:
        if self.view:
            st = self.view.status
            self.rb.open_incident_of(self.model, st.open_incidents, len(st.alerts))

    def mitigation_target(self) -> tuple[str, str | None] | None:
        open_ = self.view.status.open_incidents if self.view else []
        return self.model, (open_[-1] if open_ else None)

    def action_drift(self) -> None:
        from console.tui.screens.drift import DriftScreen

        self.app.push_screen(DriftScreen(self.model, None))
