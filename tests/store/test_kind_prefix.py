"""``events(kind_prefix=)``: an exact prefix on both backends, served by the (incident_id,
kind) index instead of reading every event of the stream."""

from __future__ import annotations

from console.store.base import _prefix_upper

KINDS = [
    "action.finished",
    "action.finishing",
    "action_finished",
    "actionXfinished",
    "Action.finished",
    "action.",
    "recovery.watching",
    "action.finished.late",
]


def test_the_upper_bound_is_the_next_string_after_every_match():
    assert _prefix_upper("action.") == "action/"
    assert _prefix_upper("a\U0010ffff") is None
    for kind in KINDS:
        for prefix in ("action.", "action.finished", "action_"):
            matches = kind.startswith(prefix)
            upper = _prefix_upper(prefix)
            assert upper is not None
            assert matches == (prefix <= kind < upper), (kind, prefix)


def test_a_kind_prefix_matches_exactly_and_reads_through_the_kind_index(store):
    for kind in KINDS:
        store.append(None, kind, kind, actor="t")
    got = [e.kind for e in store.events(None, kind_prefix="action.finished")]
    assert got == ["action.finished", "action.finished.late"]
    # '_' and '%' are literal, not LIKE's wildcards; case counts
    assert [e.kind for e in store.events(None, kind_prefix="action_")] == ["action_finished"]
    assert [e.kind for e in store.events(None, kind_prefix="Action.")] == ["Action.finished"]
    first = store.events(None)[0].seq
    assert [e.kind for e in store.events(None, kind_prefix="action.", after_seq=first + 5)] == [
        "action.finished.late"
    ]
    low, high = store.kind_ops
    query = (
        f"SELECT seq FROM events WHERE {store.seq_unindexed} > 0 AND kind {low} ? AND "
        f"kind {high} ? AND incident_id = ? ORDER BY seq"
    )
    if store.backend == "sqlite":  # its planner is rule-based: the plan is the same at any size
        plan = store._fetchall("EXPLAIN QUERY PLAN " + query, ("action.", "action/", "INC-0"))
        assert any("events_incident_kind" in str(row) for row in plan), plan
    else:  # a cost-based planner picks by size; the index its operators need is there
        (definition,) = store._fetchall(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'events_incident_kind'"
        )[0]
        assert "(incident_id, kind text_pattern_ops, seq)" in definition, definition
        store._fetchall(query, ("action.", "action/", "INC-0"))  # the operators exist
