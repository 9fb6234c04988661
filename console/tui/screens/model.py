"""Model: versions with stage and lineage, "what moved" between any version and
production, traffic and recent signals."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from console.errors import RollbookError
from console.fleet import HEALTH_WORDS, format_signal
from console.tui.screens.base import RegistryScreen
from console.views import ModelView, model_view


def what_moved(older, newer) -> Text:
    from console.diagnostics.lineage import lineage_diff

    diff = lineage_diff(older.lineage.to_dict(), newer.lineage.to_dict())
    t = Text()
    t.append(f"what moved {older.version} → {newer.version}: ", style="bold")
    t.append((", ".join(diff.moved) or "nothing") + "\n")
    for c in diff.changes:
        t.append(f"  {'!' if c.material else ' '} {c.group:<11} {c.field}: ",
                 style="bold red" if c.material else "")
        t.append(f"{c.before} → {c.after}\n")
    if diff.material:
        t.append("! = material: " + "; ".join(r for r in
                                                [c.reason for c in diff.changes if c.material]),
                 style="bold")
    return t


class ModelScreen(RegistryScreen):
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
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("version", "stage", "created", "code", "data",
                                              "features", "gates")
        self.query_one("#lineage").border_title = "lineage diff (l: selected vs production)"
        self.refresh_data()
        self.set_interval(self.app.refresh_seconds * 2, self.tick)  # type: ignore

    @work(exclusive=True, group="model-refresh")
    async def refresh_data(self) -> None:
        try:
            view = await self.app.bridge.run(model_view, self.model)  # type: ignore
        except RollbookError as exc:
            self.degraded(exc.message)
            return
        first = self.view is None
        self.view = view
        self.good_data(view.status.as_of)
        self.render_view(first)

    def render_view(self, first: bool) -> None:
        v = self.view
        s = v.status
        word = HEALTH_WORDS.get(s.health, s.health)
        sig = " · ".join(f"{k} {format_signal(k, val)}" for k, val in s.signals.items()
                         if val is not None)
        self.query_one("#model-summary", Static).update(
            f"{s.model} ({s.serving_pattern}) · production {s.production_version} · traffic "
            f"{s.routes} · {word}\n{sig}\nincidents: "
            + (", ".join(f"{i.id} {i.status}" for i in v.incidents[-4:]) or "none"))
        table = self.query_one(DataTable)
        if first:
            for mv in v.versions:
                lin = mv.lineage
                gates = "✔ all" if lin.gates_passed else ("✖ " + ",".join(
                    g for g, ok in lin.gates.items() if not ok) if lin.gates else "—")
                table.add_row(mv.version, mv.stage + (" ◆prod" if mv.version ==
                                                      s.production_version else ""),
                              f"{mv.created_at:%Y-%m-%d}", lin.code_commit[:8],
                              lin.data_snapshot_hash[:8], lin.feature_version, gates,
                              key=mv.version)
            self.action_diff()
        self.set_status(f"as of {s.as_of:%H:%M:%S} UTC · l lineage diff · R rollback · "
                        "K kill switch · d drift · esc back")

    def action_diff(self) -> None:
        v = self.view
        if v is None or not v.versions:
            return
        table = self.query_one(DataTable)
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        chosen = next((x for x in v.versions if x.version == key), v.versions[-1])
        prod = next((x for x in v.versions if x.version == v.status.production_version),
                    v.versions[-1])
        if chosen.version == prod.version:
            idx = v.versions.index(prod)
            if idx == 0:
                self.query_one("#lineage-text", Static).update("only one version")
                return
            chosen, prod = v.versions[idx - 1], prod
        older, newer = sorted((chosen, prod), key=lambda m: m.created_at)
        self.query_one("#lineage-text", Static).update(what_moved(older, newer))

    def on_data_table_row_highlighted(self, _event) -> None:
        if self.view is not None:
            self.action_diff()

    def action_open_incident(self) -> None:
        if self.view:
            st = self.view.status
            self.app.open_incident_of(  # type: ignore[attr-defined]
                self.model, st.open_incidents, len(st.alerts))

    def _mitigate(self, kind: str) -> None:
        from console.tui.screens.confirm import MitigationModal

        open_ = self.view.status.open_incidents if self.view else []
        self.app.push_screen(MitigationModal(kind, self.model, open_[-1] if open_ else None),
                             lambda _r: self.refresh_data())

    def action_rollback(self) -> None:
        self._mitigate("rollback")

    def action_killswitch(self) -> None:
        self._mitigate("killswitch")

    def action_drift(self) -> None:
        from console.tui.screens.drift import DriftScreen

        self.app.push_screen(DriftScreen(self.model, None))
