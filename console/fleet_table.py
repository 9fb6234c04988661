"""The fleet screen's table as plain data, so the screen touches only what changed.

The fleet's rows become keyed lines of cell texts (``fleet_table``): which models are shown
(the filter, and over ``ROW_CAP`` the models that need attention first), every cell's words,
and each column's width measured once from the data. ``diff_lines`` says what the screen
must change between two renders — rows gone, rows added, and the cells whose text changed —
so a refresh that changes nothing touches nothing, and a refresh never measures a column
cell by cell (Textual's ``update_cell(..., update_width=True)`` on every cell re-measured the
whole column per cell: O(rows² × columns), a frozen console from a few hundred models).
Headless: no Textual; the screen styles the health cell and sends intents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len

from console.fleet import ModelStatus
from console.formatting import HEALTH_WORDS, format_routes, format_signal
from console.views import FleetRow, sparkline

# What the operator needs first comes first, so that at 80 columns model, health, the key
# signal's value and alerts/incidents are on screen without scrolling sideways.
COLUMNS = ("model", "health", "key signal", "alerts / incidents", "prod", "traffic", "last 60 min")
HEALTH_COLUMN = COLUMNS.index("health")
#: At most this many rows in the table; the rest is one line that says how many and names
#: the filter key. A screen shows 18–31 rows; past a few pages a fleet is searched, not
#: scrolled, and every row the table holds costs when the table is rebuilt (a filter set
#: or cleared: Textual adds and measures each row, ~0.7 ms of CPU per row on a loaded
#: 2-core machine, so 100 rows keep that under ~0.1 s).
ROW_CAP = 100


def needs_attention(status: ModelStatus) -> bool:
    """Anything but healthy — the count the fleet's status line gives."""
    return status.health != "healthy"


@dataclass(frozen=True)
class Selection:
    """Which models the table shows, in order, and what the cap left out."""

    models: list[str]
    matched: int  # models whose name contains the filter (all of them without one)
    total: int
    hidden: int  # matched, but past the cap
    hidden_attention: int  # of the hidden, how many need attention
    needle: str = ""  # the filter it was chosen with


def select_models(
    statuses: Sequence[ModelStatus], needle: str = "", cap: int = ROW_CAP
) -> Selection:
    """The models to show: names containing ``needle`` (case-insensitive; empty: all), in
    the registry's order. Over ``cap`` the models that need attention come first (each group
    in the registry's order), so the cap hides healthy models before any other; a fleet
    within the cap keeps the registry's order, rows never jump. ``cap`` below 1 counts as 1."""
    cap = max(1, cap)
    low = needle.lower()
    matched = [s for s in statuses if low in s.model.lower()] if low else list(statuses)
    if len(matched) > cap:
        matched = [s for s in matched if needs_attention(s)] + [
            s for s in matched if not needs_attention(s)
        ]
    shown, rest = matched[:cap], matched[cap:]
    return Selection(
        [s.model for s in shown],
        len(matched),
        len(statuses),
        len(rest),
        sum(1 for s in rest if needs_attention(s)),
        needle,
    )


@dataclass(frozen=True)
class FleetLine:
    """One table row: its key (the model), its cells in ``COLUMNS`` order, and its health
    (the screen colours the health cell by it; the word already says it)."""

    key: str
    cells: tuple[str, ...]
    health: str


def fleet_cells(
    status: ModelStatus, spark: Sequence[float | None] | None, spark_width: int
) -> tuple[str, ...]:
    """One row's texts, in ``COLUMNS`` order; every status is a word and an icon, never colour
    alone. ``spark`` None (not read for this row yet) draws no sparkline."""
    s = status
    word = HEALTH_WORDS.get(s.health, s.health)
    health = word + (" ⏸ paused" if s.batch_paused else "") + (" ⚑" if s.killswitch else "")
    value = s.signals.get(s.key_signal)
    # the value first: at 80 columns a long signal name is what gets cut, not the number
    key_val = f"{format_signal(s.key_signal, value)} {s.key_signal}"
    n = len(s.alerts)
    alerts = f"{n} alert{'s' if n != 1 else ''}" if n else "—"
    if s.open_incidents:
        alerts = (alerts + " · " if n else "") + ", ".join(s.open_incidents)
    if s.error:
        alerts = f"▲ {s.error}"
    # a kill switch is said once, where it acts: in the traffic column ("⚑ rules:100%"),
    # so the row is no wider than without one
    traffic = ("⚑ " if s.killswitch else "") + format_routes(s.routes)
    spark_text = sparkline(list(spark), spark_width) if spark is not None else ""
    return (s.model, health, key_val, alerts, s.production_version or "—", traffic, spark_text)


@dataclass(frozen=True)
class FleetTable:
    """What the fleet table shows: its lines, each column's width (the widest cell or the
    header, in terminal cells) and which line holds that widest cell (None: the header)."""

    lines: list[FleetLine]
    widths: tuple[int, ...]
    widest: tuple[str | None, ...]
    selection: Selection


def fleet_table(
    rows: Sequence[FleetRow], needle: str = "", *, spark_width: int, cap: int = ROW_CAP
) -> FleetTable:
    """The table for ``rows`` under filter ``needle``: only the shown rows are formatted
    (O(shown) formatting and O(rows) selection), and each column is measured once here."""
    by_model = {r.status.model: r for r in rows}
    selection = select_models([r.status for r in rows], needle, cap)
    lines = []
    for model in selection.models:
        r = by_model[model]
        lines.append(FleetLine(model, fleet_cells(r.status, r.spark, spark_width), r.status.health))
    widths = [cell_len(c) for c in COLUMNS]
    widest: list[str | None] = [None] * len(COLUMNS)
    for line in lines:
        for i, text in enumerate(line.cells):
            w = cell_len(text)
            if w > widths[i]:
                widths[i], widest[i] = w, line.key
    return FleetTable(lines, tuple(widths), tuple(widest), selection)


def more_line(selection: Selection, filter_key: str) -> str:
    """The line under a capped table (``""`` when nothing is hidden): how many models the cap
    left out, how many of those need attention, and the key that narrows the list."""
    if not selection.hidden:
        return ""
    text = f"{selection.hidden:,} more model{'s' if selection.hidden != 1 else ''}"
    if selection.hidden_attention:
        text += f" ({selection.hidden_attention:,} need attention)"
    verb = "narrow the filter" if selection.needle else "filter"
    return f"{text} — {verb} with {filter_key}"


#: Removing one row costs about O(rows) (Textual renumbers every row after it); adding one
#: costs a fixed ~250 such steps (its cells formatted and measured). So when removing
#: ``removed`` rows from ``old`` would cost more than adding the ``new`` ones, the table is
#: rebuilt: a filter that leaves 1 of 200 rows adds 1 row instead of removing 199.
REMOVE_VS_ADD = 250


@dataclass(frozen=True)
class TableDiff:
    """The least the screen must do to go from one table to the next. ``rebuild``: the kept
    rows changed order (or a new row is not at the end), so the table is cleared and every
    line added again; otherwise remove ``removed``, update ``changed`` cells (key, column
    index, text), then append ``added`` in order."""

    rebuild: bool
    removed: list[str]
    changed: list[tuple[str, int, str]]
    added: list[FleetLine]

    @property
    def empty(self) -> bool:
        return not (self.rebuild or self.removed or self.changed or self.added)


def diff_lines(old: Sequence[FleetLine], new: Sequence[FleetLine]) -> TableDiff:
    """What changed from ``old`` to ``new`` (both in display order, keys unique). O(rows ×
    columns) string comparisons; a line whose cells are all equal costs nothing on screen.
    A rebuild when the kept rows' order changed, a new row is not at the end, or removing
    rows would cost more than adding the new ones again (``REMOVE_VS_ADD``)."""
    new_keys = {line.key for line in new}
    before = {line.key: line for line in old}
    removed = [line.key for line in old if line.key not in new_keys]
    kept = [line.key for line in old if line.key in new_keys]
    added = [line for line in new if line.key not in before]
    if [line.key for line in new] != kept + [line.key for line in added] or (
        len(removed) * len(old) > REMOVE_VS_ADD * len(new)
    ):
        return TableDiff(True, [], [], list(new))
    changed: list[tuple[str, int, str]] = []
    for line in new:
        prev = before.get(line.key)
        if prev is None or prev.cells == line.cells:
            continue
        changed.extend(
            (line.key, i, text)
            for i, (a, text) in enumerate(zip(prev.cells, line.cells, strict=True))
            if a != text
        )
    return TableDiff(False, removed, changed, added)


#: The share of one core the fleet's timer refresh may use: a read that costs more CPU than
#: this share of the interval stretches the interval, so an idle console stays idle however
#: large the fleet. Half the goal of ≤ 5% of a core; the other half is for drawing what
#: changed and Textual's own timers.
REFRESH_CPU_SHARE = 0.025


def paced_interval(base_s: float, read_cpu_s: float, share: float = REFRESH_CPU_SHARE) -> float:
    """Seconds until the next timer refresh: ``base_s``, or ``read_cpu_s / share`` when the
    last read cost more than ``share`` of ``base_s`` (0.3 s of CPU at 2.5% → 12 s). A negative
    or NaN cost (a clock that went back) counts as free."""
    if not read_cpu_s > 0:
        return base_s
    return max(base_s, read_cpu_s / share)


def keep_sparks(rows: Sequence[FleetRow], previous: Sequence[FleetRow]) -> list[FleetRow]:
    """``rows``, each signal history that was not read this time (``spark`` None: the model
    was not shown) taken from ``previous`` where it was: a row the filter brings back shows
    its last sparkline until the next read, not a blank one."""
    before = {r.status.model: r.spark for r in previous if r.spark is not None}
    return [
        FleetRow(r.status, before[r.status.model])
        if r.spark is None and r.status.model in before
        else r
        for r in rows
    ]
