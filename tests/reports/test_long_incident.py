"""A 100,000-event incident (built once, with one bulk insert per part) renders: its
post-mortem folds the repeats and keeps every distinct event, and `incident show` pages
through it. Speed and memory are measured in benchmarks/long_incident.py, not here."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from console.cli.main import main
from console.config import load
from console.reports.postmortem import build_postmortem, render_postmortem
from console.store import open_store
from console.store.paging import PagedTimeline

from .conftest import NOW
from .long_incident import BOT_NOTE, FLAP, build_long_incident, person_note

N = 100_000


@pytest.fixture(scope="module")
def long_home(tmp_path_factory):
    """A ROLLBOOK_HOME whose store holds one incident of ``N`` events, and what it holds."""
    home = tmp_path_factory.mktemp("long-incident")
    with open_store(home / "data") as store:
        iid = build_long_incident(store, N)
        counts = Counter()
        people = set()
        for e in PagedTimeline(store, iid):
            counts[(e.kind, e.actor, e.message)] += 1
            if e.actor == "alice" and e.kind == "note" and not e.payload.get("tag"):
                people.add(e.message)
    return home, iid, counts, people


@pytest.fixture
def store(long_home, monkeypatch):
    home, *_ = long_home
    monkeypatch.setenv("ROLLBOOK_HOME", str(home))
    with open_store(load().data_dir) as s:
        yield s


def test_it_has_what_it_says(long_home):
    _, _, counts, people = long_home
    assert sum(counts.values()) == N
    assert people == {person_note(k) for k in range(1, 81)}


def test_the_post_mortem_folds_the_repeats_and_keeps_every_distinct_event(long_home, store):
    _, iid, counts, people = long_home
    inc = store.get(iid)
    pm = build_postmortem(inc, PagedTimeline(store, iid), now=NOW)
    rows = [r for r in pm["timeline"] if r["seq"] is not None]
    sup = pm["supporting"]
    assert sup["event_count"] == N and sup["timeline_rows"] == len(pm["timeline"])
    assert len(rows) < 1_000  # 100,000 events, a readable timeline
    # each distinct event has a row; the rows of a repeated one add up to its count
    shown = Counter()
    for r in rows:
        shown[(r["kind"], r["actor"], r["message"])] += r["count"]
    assert shown[("note", "bot", BOT_NOTE)] == counts[("note", "bot", BOT_NOTE)] > 10_000
    assert (
        shown[("incident.updated", "alerting", FLAP)]
        == counts[("incident.updated", "alerting", FLAP)]
    )
    assert {r["message"] for r in rows if r["actor"] == "alice" and r["kind"] == "note"} == people
    assert all(r["count"] == 1 for r in rows if r["kind"].startswith("action."))
    # every event is a row, counted in one, or left out (step starts, the review's notes)
    assert sup["folded"] == sum(r["count"] - 1 for r in rows) > 50_000
    assert sum(r["count"] for r in rows) + sup["left_out"] == N
    [recovery] = [c for c in sup["checks"] if c["step"] == "recovery"]
    finishes = sum(
        n
        for (kind, _, msg), n in counts.items()
        if kind == "step.finished" and msg.startswith("Is the churn positive rate back?")
    )
    assert recovery["runs"] == finishes > 30_000


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_it_renders_in_both_formats(long_home, store, fmt):
    _, iid, _, people = long_home
    doc = render_postmortem(store.get(iid), PagedTimeline(store, iid), now=NOW, fmt=fmt)
    assert "repeated events are folded" in doc
    assert "100000 events" in doc
    assert all(p.split(":")[0] in doc for p in people)
    assert doc.count("×") < 1_000 and len(doc) < 1_000_000


def test_incident_show_pages_through_it(long_home, store, capsys):
    _, iid, _, people = long_home
    total = N
    since = store.events(iid)[-1].seq - total // 2  # the middle of the timeline
    try:
        main(
            [
                "incident",
                "show",
                iid,
                "--json",
                "--kinds",
                "note",
                "--since",
                str(since),
                "--limit",
                "40",
            ]
        )
    except SystemExit as exc:
        assert not exc.code
    doc = json.loads(capsys.readouterr().out)
    page = doc["page"]
    assert page["count"] == 40 and page["more"] and page["total_events"] == total
    assert all(e["kind"] == "note" and e["seq"] > since for e in doc["timeline"])
    assert page["next_since"] == doc["timeline"][-1]["seq"]
