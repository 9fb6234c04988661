"""``events(kind_prefix=)``: an exact prefix on every backend, and on SQLite served by the
(incident_id, kind) index instead of reading every event of the stream."""

from __future__ import annotations

from console.store import open_store
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


def test_a_kind_prefix_matches_exactly_and_reads_through_the_kind_index(tmp_path):
    with open_store(tmp_path / "data") as store:
        for kind in KINDS:
            store.append(None, kind, kind, actor="t")
        got = [e.kind for e in store.events(None, kind_prefix="action.finished")]
        assert got == ["action.finished", "action.finished.late"]
        # '_' and '%' are literal, not LIKE's wildcards; case counts
        assert [e.kind for e in store.events(None, kind_prefix="action_")] == ["action_finished"]
        assert [e.kind for e in store.events(None, kind_prefix="Action.")] == ["Action.finished"]
        assert [e.kind for e in store.events(None, kind_prefix="action.", after_seq=6)] == [
            "action.finished.late"
        ]
        plan = store._fetchall(
            "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE +seq > 0 AND kind >= ? AND "
            "kind < ? AND incident_id = ? ORDER BY seq",
            ("action.", "action/", "INC-0001"),
        )
        assert any("events_incident_kind" in str(row) for row in plan), plan
