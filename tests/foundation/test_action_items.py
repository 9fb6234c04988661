import pytest

from console.errors import InvalidInput
from console.incidents import add_action_item, open_manual, parse_item
from console.reports.record import action_items
from console.workspace import open_workspace


@pytest.fixture
def ws(clock):
    with open_workspace("demo", clock=clock) as w:
        yield w


def test_edits_supersede_in_place(ws, clock):
    inc = open_manual(ws, "churn", "null feature")
    a = add_action_item(ws, inc.id, what="schema validation", type="prevent")
    b = add_action_item(ws, inc.id, what="circuit breaker at 5% nulls", type="mitigate")
    clock.advance(minutes=1)
    a2 = add_action_item(
        ws,
        inc.id,
        what="schema validation on ingest",
        owner="data-platform",
        due="2026-12-15",
        type="prevent",
        supersedes=a.seq,
    )
    add_action_item(
        ws,
        inc.id,
        what="schema validation on ingest",
        owner="ana",
        due="2026-12-15",
        type="prevent",
        supersedes=a2.seq,
    )
    items = action_items(ws.store.events(inc.id))
    assert [(i.what, i.owner) for i in items] == [
        ("schema validation on ingest", "ana"),
        ("circuit breaker at 5% nulls", ""),
    ]
    assert items[1].seq == b.seq
    # nothing was rewritten: every version is still on the timeline
    assert sum(e.kind == "action_item" for e in ws.store.events(inc.id)) == 4


def test_bad_items_are_refused(ws):
    inc = open_manual(ws, "churn", "x")
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        add_action_item(ws, inc.id, what="x", due="next week")
    with pytest.raises(InvalidInput, match="prevent"):
        add_action_item(ws, inc.id, what="x", type="blame")
    with pytest.raises(InvalidInput, match="not an action item"):
        add_action_item(ws, inc.id, what="x", supersedes=1)


def test_parse_item():
    assert parse_item("add contract; ana; 2026-12-01; prevent") == {
        "what": "add contract",
        "owner": "ana",
        "due": "2026-12-01",
        "type": "prevent",
    }
    assert parse_item("just this") == {"what": "just this"}


def test_open_manual_checks_the_runbook(ws):
    from console.errors import NotFound

    with pytest.raises(NotFound):
        open_manual(ws, "churn", "odd scores", runbook="no-such-runbook")
    inc = open_manual(ws, "churn", "odd scores", runbook="model-misbehaving")
    assert inc.runbook == "model-misbehaving"
    with pytest.raises(NotFound, match="no model"):
        open_manual(ws, "nope", "x")
