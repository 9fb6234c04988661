"""``Store.append_many`` (one transaction for many events) and page-by-page reading
(``console.store.paging``), the same tests on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.errors import NotFound
from console.store import NewEvent
from console.store.paging import iter_events
from tests.conftest import T0


def make(store, model="churn"):
    return store.create_incident(
        title="null rate", model=model, severity="SEV2", env="demo", actor="alerting", at=T0
    )


def drafts(n: int, start=T0):
    kinds = ("note", "action.requested", "incident.updated", "step.finished")
    for i in range(n):
        kind = kinds[i % len(kinds)]
        yield NewEvent(kind, f"{kind} {i}", "ana", start + timedelta(seconds=i), {"i": i})


def test_many_events_in_one_call_are_chained_like_single_appends(store, open_store_at):
    a = make(store)
    assert store.append_many(a.id, drafts(50)) == 50
    one_by_one = open_store_at()  # a second store on the same database, for comparison
    b = make(one_by_one, "fraud")
    for d in drafts(50):
        one_by_one.append(b.id, d.kind, d.message, actor=d.actor, at=d.at, payload=d.payload)
    got, want = store.events(a.id), store.events(b.id)
    assert len(got) == 51 and [e.position for e in got] == list(range(1, 52))
    assert [(e.kind, e.message, e.ts, e.payload) for e in got[1:]] == [
        (e.kind, e.message, e.ts, e.payload) for e in want[1:]
    ]
    assert [e.prev_hash for e in got[1:]] == [e.hash for e in got[:-1]]
    assert store.verify_chain().ok


def test_a_generator_is_consumed_as_it_comes_and_nothing_is_a_batch_of_zero(store):
    a = make(store)
    seen = []

    def lazy():
        for d in drafts(5):
            seen.append(d.message)
            yield d

    assert store.append_many(a.id, lazy()) == 5 and len(seen) == 5
    assert store.append_many(a.id, []) == 0
    assert len(store.events(a.id)) == 6


def test_all_or_nothing(store):
    a = make(store)
    with pytest.raises(NotFound):
        store.append_many("INC-9999", drafts(3))

    def broken():
        yield from drafts(3)
        raise RuntimeError("the source failed half-way")

    with pytest.raises(RuntimeError):
        store.append_many(a.id, broken())
    assert len(store.events(a.id)) == 1  # the opening only: the three were rolled back
    assert store.verify_chain().ok


def test_times_never_run_backwards_in_a_batch_either(store):
    a = make(store)
    late = T0 + timedelta(hours=1)
    store.append_many(
        a.id, [NewEvent("note", "late", "x", late), NewEvent("note", "early", "x", T0)]
    )
    assert [e.ts for e in store.events(a.id)][-2:] == [late, late]


def test_pages_and_kind_prefixes_on_both_backends(store):
    """What `rollbook incident show --kinds a.,b. --limit N` asks of a store."""
    a, b = make(store), make(store, "fraud")
    store.append_many(a.id, drafts(40))
    store.append_many(b.id, drafts(10))
    store.append(a.id, "note_item", "not a note.", actor="x", at=T0 + timedelta(hours=1))
    whole = store.events(a.id)
    assert [e.seq for e in iter_events(store, a.id, page=7)] == [e.seq for e in whole]
    got = list(iter_events(store, a.id, kinds=("action.", "incident."), page=3))
    assert [e.seq for e in got] == [
        e.seq for e in whole if e.kind.startswith(("action.", "incident."))
    ]
    # "_" and "%" in a prefix are the characters themselves, not LIKE's wildcards
    assert [e.kind for e in iter_events(store, a.id, kinds=("note_",))] == ["note_item"]
    assert [e.kind for e in iter_events(store, a.id, kinds=("note%",))] == []
    after = whole[20].seq
    page = list(iter_events(store, a.id, after_seq=after, limit=5, kinds=("note",)))
    assert [e.seq for e in page] == [e.seq for e in whole if e.seq > after and e.kind == "note"][:5]
