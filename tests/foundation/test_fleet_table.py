"""The fleet table as plain data: selection and cap, cell words, widths measured once from
the data, and the diff that lets a refresh touch only what changed."""

from __future__ import annotations

from console.fleet import ModelStatus
from console.fleet_table import (
    COLUMNS,
    diff_lines,
    fleet_table,
    more_line,
    paced_interval,
    select_models,
)
from console.views import FleetRow


def status(name: str, health: str = "healthy", err: float = 0.01, **kw) -> ModelStatus:
    return ModelStatus(
        name,
        "realtime",
        kw.pop("prod", "v2"),
        kw.pop("routes", {"v2": 100.0}),
        health,
        {"error_rate": err},
        "error_rate",
        **kw,
    )


def rows(*statuses: ModelStatus) -> list[FleetRow]:
    return [FleetRow(s, [0.01, 0.02, None, 0.03]) for s in statuses]


def test_a_fleet_within_the_cap_keeps_the_registry_order():
    fleet = [status("a"), status("b", "critical"), status("c")]
    sel = select_models(fleet, cap=3)
    assert sel.models == ["a", "b", "c"] and sel.hidden == 0


def test_over_the_cap_the_models_needing_attention_come_first_and_the_rest_is_counted():
    fleet = [status(f"m{i}", "degraded" if i in (7, 3, 9) else "healthy") for i in range(10)]
    sel = select_models(fleet, cap=4)
    assert sel.models == ["m3", "m7", "m9", "m0"]
    assert (sel.matched, sel.total, sel.hidden, sel.hidden_attention) == (10, 10, 6, 0)
    crowded = select_models(fleet, cap=2)
    assert crowded.models == ["m3", "m7"] and crowded.hidden_attention == 1
    assert more_line(crowded, "/") == "8 more models (1 need attention) — filter with /"
    assert more_line(sel, "/") == "6 more models — filter with /"
    assert more_line(select_models(fleet, cap=10), "/") == ""


def test_the_filter_is_a_case_insensitive_substring_and_the_line_says_narrow_it():
    fleet = [status(f"Model-{i:04d}") for i in range(300)]
    sel = select_models(fleet, "model-01", cap=50)
    assert sel.matched == 100 and sel.models[0] == "Model-0100" and len(sel.models) == 50
    assert more_line(sel, "/") == "50 more models — narrow the filter with /"
    assert select_models(fleet, "nothing").models == []


def test_cells_say_everything_in_words_and_the_widths_are_the_widest_cells():
    table = fleet_table(
        rows(
            status("churn", "critical", 0.5, alerts=[object(), object()], open_incidents=["INC-1"]),
            status("fraud", killswitch="rules", routes={"fallback:rules": 100.0}),
        ),
        spark_width=3,
    )
    churn, fraud = table.lines
    assert churn.cells[:6] == (
        "churn",
        "✖ CRITICAL",
        "50.0% error_rate",
        "2 alerts · INC-1",
        "v2",
        "v2:100%",
    )
    assert churn.cells[6] == "▁ █"  # the last 3 minutes: low, a gap, high
    assert fraud.cells[1].endswith("⚑") and fraud.cells[5] == "⚑ rules:100%"
    assert churn.health == "critical"
    for i, name in enumerate(COLUMNS):
        assert table.widths[i] == max(len(name), *(len(line.cells[i]) for line in table.lines))
    assert table.widest[COLUMNS.index("key signal")] == "churn"  # 50.0% is wider than 1.0%
    assert table.widest[COLUMNS.index("model")] is None  # the header is wider than both names


def test_a_row_whose_history_was_not_read_has_an_empty_sparkline():
    table = fleet_table([FleetRow(status("a"), None)], spark_width=8)
    assert table.lines[0].cells[-1] == ""


def test_the_same_data_is_no_change_and_one_new_value_is_one_cell():
    before = fleet_table(rows(status("a"), status("b"), status("c")), spark_width=4).lines
    again = fleet_table(rows(status("a"), status("b"), status("c")), spark_width=4).lines
    assert diff_lines(before, again).empty
    after = fleet_table(rows(status("a"), status("b", err=0.2), status("c")), spark_width=4).lines
    diff = diff_lines(before, after)
    assert not diff.rebuild and not diff.removed and not diff.added
    assert diff.changed == [("b", COLUMNS.index("key signal"), "20.0% error_rate")]


def test_rows_leaving_and_arriving_at_the_end_are_removed_and_appended():
    old = fleet_table(rows(status("a"), status("b"), status("c")), spark_width=4).lines
    new = fleet_table(rows(status("a"), status("c"), status("d")), spark_width=4).lines
    diff = diff_lines(old, new)
    assert not diff.rebuild
    assert diff.removed == ["b"] and [line.key for line in diff.added] == ["d"]
    assert diff.changed == []


def test_a_new_order_is_a_rebuild_with_every_line():
    old = fleet_table(rows(status("a"), status("b")), spark_width=4).lines
    swapped = fleet_table(rows(status("b"), status("a")), spark_width=4).lines
    diff = diff_lines(old, swapped)
    assert diff.rebuild and [line.key for line in diff.added] == ["b", "a"]
    inserted = fleet_table(rows(status("a"), status("x"), status("b")), spark_width=4).lines
    assert diff_lines(old, inserted).rebuild
    assert not diff_lines([], old).rebuild  # an empty table is filled by appending


def test_the_refresh_is_paced_by_what_a_read_costs():
    assert paced_interval(2.0, 0.01) == 2.0
    assert paced_interval(2.0, 0.3, share=0.03) == 10.0
    assert paced_interval(2.0, float("nan")) == 2.0
    assert paced_interval(2.0, -1.0) == 2.0


def test_a_filter_that_leaves_one_row_of_many_rebuilds_instead_of_removing_the_rest():
    many = fleet_table(rows(*(status(f"m{i:03d}") for i in range(100))), spark_width=4).lines
    one = [line for line in many if line.key == "m050"]
    diff = diff_lines(many, one)
    assert diff.rebuild and [line.key for line in diff.added] == ["m050"]
    few_gone = [line for line in many if line.key not in ("m010", "m020")]
    assert diff_lines(many, few_gone).removed == ["m010", "m020"]


def test_rows_not_read_this_time_keep_their_last_history():
    from console.fleet_table import keep_sparks

    before = [FleetRow(status("a"), [1.0]), FleetRow(status("b"), [2.0])]
    now = [FleetRow(status("a"), None), FleetRow(status("b"), [3.0]), FleetRow(status("c"), None)]
    kept = keep_sparks(now, before)
    assert [r.spark for r in kept] == [[1.0], [3.0], None]
