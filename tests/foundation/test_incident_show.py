"""`rollbook incident show`: pages (--limit, --since, --kinds) and the streamed JSON, through
the real entry point."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from console.cli.main import main
from console.config import load
from console.store import open_store
from tests.conftest import T0

KINDS = ("note", "action.requested", "action.finished", "incident.updated", "step.finished")


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def incident():
    """An incident of 31 events (the opening and 30 of five kinds), and its events."""
    with open_store(load().data_dir) as store:
        inc = store.create_incident(
            title="null rate",
            model="churn",
            severity="SEV2",
            env="demo",
            actor="alerting",
            at=T0,
        )
        for i in range(30):
            kind = KINDS[i % len(KINDS)]
            store.append(inc.id, kind, f"{kind} {i}", actor="ana", at=T0 + timedelta(minutes=i))
        return inc.id, [e.to_dict() for e in store.events(inc.id)]


def test_json_is_the_same_document_as_before_with_a_page(capsys, incident):
    iid, events = incident
    code, out, _ = run(capsys, "incident", "show", iid, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["incident"]["id"] == iid and doc["timeline"] == events
    assert doc["page"] == {
        "since": 0,
        "limit": None,
        "kinds": [],
        "total_events": 31,
        "count": 31,
        "last_seq": events[-1]["seq"],
        "more": False,
        "next_since": None,
    }


def test_json_streams_one_event_per_line(capsys, incident):
    iid, events = incident
    _, out, _ = run(capsys, "incident", "show", iid, "--json")
    lines = out.splitlines()
    start = lines.index('  "timeline": [') + 1
    body = [ln.strip().removesuffix(",") for ln in lines[start : start + len(events)]]
    assert [json.loads(ln) for ln in body] == events
    assert lines[start + len(events)].strip() == "],"


def test_pages_chained_by_next_since_cover_every_event_once(capsys, incident):
    iid, events = incident
    seen, since, pages = [], 0, 0
    while since is not None:
        code, out, _ = run(
            capsys, "incident", "show", iid, "--json", "--limit", "7", "--since", str(since)
        )
        assert code == 0
        doc = json.loads(out)
        assert doc["page"]["count"] == len(doc["timeline"]) <= 7
        seen += doc["timeline"]
        since, pages = doc["page"]["next_since"], pages + 1
    assert seen == events and pages == 5  # 7 + 7 + 7 + 7 + 3


def test_since_and_kinds_filter_in_the_store(capsys, incident):
    iid, events = incident
    cut = events[10]["seq"]
    _, out, _ = run(capsys, "incident", "show", iid, "--json", "--since", str(cut))
    assert json.loads(out)["timeline"] == events[11:]
    _, out, _ = run(capsys, "incident", "show", iid, "--json", "--kinds", "action.,incident.")
    doc = json.loads(out)
    want = [e for e in events if e["kind"].startswith(("action.", "incident."))]
    assert doc["timeline"] == want and doc["page"]["kinds"] == ["action.", "incident."]
    assert {e["kind"] for e in want} == {
        "incident.opened",
        "incident.updated",
        "action.requested",
        "action.finished",
    }


def test_text_pages_and_says_how_to_get_the_next(capsys, incident):
    iid, events = incident
    code, out, _ = run(capsys, "incident", "show", iid, "--limit", "3", "--kinds", "note")
    assert code == 0
    notes = [e for e in events if e["kind"] == "note"]
    for e in notes[:3]:
        assert f"#{e['seq']:<7} " in out and e["message"] in out
    assert notes[3]["message"] not in out
    assert f"more after #{notes[2]['seq']}: rollbook incident show {iid} --since " in out
    assert out.rstrip().endswith(f"--since {notes[2]['seq']} --limit 3 --kinds note")
    assert "Timeline (31 events)" in out
    _, out, _ = run(capsys, "incident", "show", iid, "--since", str(events[-1]["seq"]))
    assert "(no events match)" in out and "more after" not in out


def test_limit_zero_shows_the_incident_and_where_its_timeline_starts(capsys, incident):
    iid, _ = incident
    _, out, _ = run(capsys, "incident", "show", iid, "--json", "--limit", "0")
    doc = json.loads(out)
    assert doc["timeline"] == [] and doc["page"]["more"] is True
    assert doc["page"]["next_since"] == 0


def test_a_payload_json_cannot_say_prints_as_null(capsys, incident):
    iid, _ = incident
    with open_store(load().data_dir) as store:
        store.append(
            iid, "note", "nan", actor="ana", at=T0 + timedelta(hours=1), payload={"v": float("nan")}
        )
    code, out, _ = run(
        capsys, "incident", "show", iid, "--json", "--kinds", "note", "--since", "30"
    )
    assert code == 0
    [e] = json.loads(out)["timeline"]
    assert e["payload"] == {"v": None}


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (("--limit", "-1"), 2, "BadParameter"),
        (("--since", "x"), 2, "BadParameter"),
        ((), 4, "NotFound"),
    ],
)
def test_errors_answer_json_before_anything_is_printed(capsys, incident, args, code, kind):
    iid = "INC-9999" if not args else incident[0]
    got, out, _ = run(capsys, "incident", "show", iid, "--json", *args)
    assert got == code
    assert json.loads(out)["error"]["type"] == kind
