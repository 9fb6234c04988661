"""Post-mortem of the athena-null-feature drill incident: golden Markdown and HTML (fixed
clock), every section present, the timeline matching the events."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from console.reports.metrics import incident_metrics
from console.reports.postmortem import SECTIONS, build_postmortem, render_postmortem
from console.reports.record import action_items, action_items_csv, is_review_content

from .conftest import NOW, signal_series

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ROLLBOOK_UPDATE_GOLDEN") == "1"
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def normalise_svg(html: str) -> str:
    """Charts depend on the matplotlib version; the golden file keeps their place only
    (the chart tests check their content)."""
    return SVG.sub("<svg><!-- chart --></svg>", html)


def compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {name} was missing and has been written; rerun")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs; if the change is intended rerun with ROLLBOOK_UPDATE_GOLDEN=1"
    )


def test_metrics_of_the_drill_incident(drill_incident):
    inc, _ = drill_incident
    assert incident_metrics(inc) == {
        "detect_min": 17.0,
        "acknowledge_min": 2.0,
        "mitigation_applied_min": pytest.approx(19 / 3),  # 06:47 → 06:53:20, read back
        "mitigate_min": 7.0,  # → 06:54, the impact seen to stop
        "resolve_min": 44.0,
    }


def test_markdown_golden(drill_incident):
    inc, events = drill_incident
    compare("postmortem_drill.md", render_postmortem(inc, events, now=NOW, fmt="md"))


def test_html_golden(drill_incident):
    pytest.importorskip("matplotlib")
    inc, events = drill_incident
    html = render_postmortem(inc, events, now=NOW, fmt="html", series=signal_series())
    assert len(SVG.findall(html)) == 2
    compare("postmortem_drill.html", normalise_svg(html))


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_every_section_is_present(drill_incident, fmt):
    inc, events = drill_incident
    doc = render_postmortem(inc, events, now=NOW, fmt=fmt)
    heading = "## {}" if fmt == "md" else "<h2>{}</h2>"
    for section in SECTIONS:
        assert heading.format(section) in doc, section
    for part in ("Five whys", "What moved (lineage diff)", "Data evidence", "Versions involved"):
        assert part in doc
    for label in ("Date", "Status", "Authors"):
        assert label in doc
    assert "Time to detect" in doc and "onset of impact" in doc  # metrics with definitions


def test_timeline_matches_the_events(drill_incident):
    inc, events = drill_incident
    pm = build_postmortem(inc, events, now=NOW)
    rows = [r for r in pm["timeline"] if r["seq"] is not None]
    # the one step start in this record is followed by its finish: folded into it
    assert [e.kind for e in events].count("step.started") == 1
    expected = [e for e in events if not is_review_content(e) and e.kind != "step.started"]
    assert [r["seq"] for r in rows] == [e.seq for e in expected]
    question = next(e.seq for e in events if e.message.startswith("Are any features null?"))
    for row, ev in zip(rows, expected, strict=True):
        assert (row["at"], row["actor"], row["kind"]) == (ev.ts, ev.actor, ev.kind)
        if ev.seq != question:  # a question check reads as its answer (below)
            assert row["message"] == ev.message
    # the record's onset and the alert's detection open the timeline
    assert [r["kind"] for r in pm["timeline"][:2]] == ["onset", "detected"]
    md = render_postmortem(inc, events, now=NOW, fmt="md")
    timeline = md.split("## Timeline")[1].split("## Detection")[0]
    table_rows = [ln for ln in timeline.splitlines() if re.match(r"\| \d\d:\d\d \|", ln)]
    assert len(table_rows) == len(pm["timeline"])
    for line, ev in zip(table_rows[2:], expected, strict=True):
        assert line.startswith(f"| {ev.ts:%H:%M} |") and f"| {ev.actor} |" in line
    assert "step started" not in timeline
    # a check phrased as a question that found a problem is a finding, not "failed"
    assert (
        "| 06:50 | +3 | engine | finding | Are any features null? — yes: "
        "avg_order_value_90d null rate 94.2%"
    ) in timeline
    assert "| 06:51 | +4 | engine | check passed | Compare the versions' lineage: passed" in md
    assert "| 06:53 | +6 | alice | mitigation applied |" in timeline
    assert "| 06:54 | +7 | alice | impact stopped |" in timeline
    # every action with who and when
    assert "| 06:52 | +5 | alice | action requested | pause batch scoring for churn |" in md
    assert "| 06:53 | +6 | bob | action confirmed | confirmed by bob |" in md


def test_review_content(drill_incident):
    inc, events = drill_incident
    pm = build_postmortem(inc, events, now=NOW)
    assert [n.text.split("?")[0] for n in pm["whys"]][:2] == [
        "Why did churn scores jump from 14% to 62%",
        "Why was it null",
    ]
    assert len(pm["whys"]) == 5
    assert pm["impact"]["revenue_at_risk"] == pytest.approx(12_000 * 7 / 60)  # $1,400
    assert pm["impact"]["duration_min"] == 24  # onset 06:30 → mitigated 06:54
    assert pm["ml"]["lineage"]["things"] == {"code": False, "data": True, "model": False}
    assert pm["ml"]["renames"][0]["to"] == "order_total_amount"
    assert pm["authors"] == ["bob", "alice"]
    md = render_postmortem(inc, events, now=NOW, fmt="md")
    # the cost counts until the impact was observed to stop (06:54), not until 06:53:20
    assert (
        "Revenue at risk: $1,400 ($12,000/hour × 7 min until the impact was observed to stop)"
    ) in md


def test_action_items_export_as_csv(drill_incident):
    _, events = drill_incident
    csv_text = action_items_csv(action_items(events))
    lines = csv_text.splitlines()
    assert lines[0] == "what,owner,due,type,link"
    assert lines[1] == (
        "Validate the orders schema before feature build,bob,2026-12-06,prevent,"
        "https://tracker.example/ML-101"
    )
    assert [ln.split(",")[3] for ln in lines[1:]] == ["prevent", "mitigate", "detect"]


def test_an_open_incident_with_little_recorded(store):
    from .conftest import at

    inc = store.create_incident(
        title="latency spike",
        model="recs",
        severity="SEV3",
        env="demo",
        actor="dana",
        at=at(9, 0),
    )
    events = store.events(inc.id)
    for fmt in ("md", "html"):
        doc = render_postmortem(inc, events, now=at(9, 30), fmt=fmt, revenue_per_hour=50_000)
        assert "Not recorded yet." in doc
        assert "No lineage, drift or version evidence was recorded." in doc
    pm = build_postmortem(inc, events, now=at(9, 30), revenue_per_hour=50_000)
    assert pm["impact"]["revenue_so_far"] is True
    assert pm["impact"]["revenue_at_risk"] == pytest.approx(25_000)  # 30 min so far
    assert pm["detection"]["how"] == "Reported by dana"
    html = render_postmortem(inc, events, now=at(9, 30), fmt="html")
    assert "charts omitted" in html


def test_a_step_that_never_finished_keeps_its_start_and_skips_are_left_out(drill_incident):
    from console.store import TimelineEvent

    inc, events = drill_incident
    last = events[-1]

    def ev(seq, kind, message, payload):
        return TimelineEvent(
            incident_id=inc.id,
            seq=seq,
            ts=last.ts,
            actor="engine",
            kind=kind,
            message=message,
            payload=payload,
            prev_hash="",
            hash="",
        )

    extra = [
        ev(last.seq + 1, "step.started", "fix · retrain", {"step": "retrain", "kind": "action"}),
        ev(
            last.seq + 2,
            "step.finished",
            "hotfix: skipped",
            {"step": "hotfix", "kind": "action", "state": "skipped", "auxiliary": True},
        ),
    ]
    rows = build_postmortem(inc, [*events, *extra], now=NOW)["timeline"]
    seqs = {r["seq"] for r in rows}
    assert last.seq + 1 in seqs  # still running when the record was taken: it stays
    assert last.seq + 2 not in seqs  # "not on this path" is the engine's bookkeeping
