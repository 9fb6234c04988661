"""Reading a timeline page by page (console.store.paging): every event once, in seq order,
whatever the page size, the filters or the other incidents writing in between."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.store import IncidentStore
from console.store.paging import PagedTimeline, iter_events, kind_prefixes
from tests.conftest import T0

KINDS = ("note", "action.requested", "action.finished", "incident.updated", "alert.firing")


@pytest.fixture
def store(tmp_path):
    with IncidentStore(tmp_path / "incidents.db") as s:
        yield s


def make(store, model="churn"):
    return store.create_incident(
        title="null rate", model=model, severity="SEV2", env="demo", actor="alerting", at=T0
    )


@pytest.fixture
def two(store):
    """Two incidents whose events interleave: 40 on the first, 20 on the second."""
    a, b = make(store), make(store, "fraud")
    for i in range(40):
        at = T0 + timedelta(seconds=i)
        store.append(a.id, KINDS[i % len(KINDS)], f"a{i}", actor="x", at=at)
        if i % 2:
            store.append(b.id, "note", f"b{i}", actor="y", at=at)
    return a.id, b.id


@pytest.mark.parametrize("page", [1, 3, 7, 41, 2000])
def test_every_event_once_in_order_whatever_the_page(store, two, page):
    a, _ = two
    got = [e.seq for e in iter_events(store, a, page=page)]
    assert got == [e.seq for e in store.events(a)]
    assert len(got) == 41  # the opening event and 40 more


def test_since_limit_and_until(store, two):
    a, _ = two
    whole = store.events(a)
    mid = whole[10].seq
    assert [e.seq for e in iter_events(store, a, after_seq=mid, page=4)] == [
        e.seq for e in whole[11:]
    ]
    assert [e.seq for e in iter_events(store, a, limit=5, page=2)] == [e.seq for e in whole[:5]]
    assert list(iter_events(store, a, limit=0)) == []
    until = whole[20].seq
    assert [e.seq for e in iter_events(store, a, until_seq=until, page=3)] == [
        e.seq for e in whole[:21]
    ]


def test_pages_chained_by_their_last_seq_cover_the_timeline(store, two):
    a, _ = two
    seen, after = [], 0
    while True:
        page = list(iter_events(store, a, after_seq=after, limit=6))
        if not page:
            break
        seen += [e.seq for e in page]
        after = page[-1].seq
    assert seen == [e.seq for e in store.events(a)]


def test_several_kind_prefixes_merge_in_seq_order(store, two):
    a, _ = two
    got = list(iter_events(store, a, kinds=("action.", "incident."), page=2))
    want = [e for e in store.events(a) if e.kind.startswith(("action.", "incident."))]
    assert [e.seq for e in got] == [e.seq for e in want]
    assert {e.kind for e in got} == {
        "incident.opened",
        "incident.updated",
        "action.requested",
        "action.finished",
    }
    # overlapping prefixes do not list an event twice
    both = list(iter_events(store, a, kinds=("action.", "action.finished", "ACTION.")))
    assert [e.seq for e in both] == [e.seq for e in want if e.kind.startswith("action.")]


def test_kind_prefixes_from_the_command_line():
    assert kind_prefixes("action.,incident.") == ("action.", "incident.")
    assert kind_prefixes(" action. , ,action.finished,note") == ("action.", "note")
    assert kind_prefixes(None) == () and kind_prefixes("") == () and kind_prefixes(",") == ()
    assert kind_prefixes(["note", "step.,note"]) == ("note", "step.")


def test_paged_timeline_reads_again_each_time_and_bounds_the_snapshot(store, two):
    a, _ = two
    last = store.last_seq()
    timeline = PagedTimeline(store, a, until_seq=last)
    first = [e.seq for e in timeline]
    store.append(a, "note", "after the snapshot", actor="x", at=T0 + timedelta(minutes=5))
    assert [e.seq for e in timeline] == first  # a second pass: same events, none later
    assert [e.message for e in PagedTimeline(store, a)][-1] == "after the snapshot"


def test_a_page_must_hold_something(store, two):
    with pytest.raises(ValueError, match="page"):
        list(iter_events(store, two[0], page=0))
