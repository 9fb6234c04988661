"""Integration: the post-mortem, the blameless check and the drill report of a drill the
runbook engine really ran (athena-null-feature, auto, on the embedded demo world)."""

from __future__ import annotations

import re

import pytest

from console.reports.blameless import check_postmortem
from console.reports.drill import render_drill
from console.reports.postmortem import SECTIONS, build_postmortem, render_postmortem
from console.reports.record import is_review_content

drills = pytest.importorskip("console.runbooks.drills")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_drill(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("rollbook-home")
    mp.setenv("ROLLBOOK_HOME", str(home))
    mp.setenv("ROLLBOOK_ACTOR", "tester")
    mp.delenv("ROLLBOOK_ENV", raising=False)
    try:
        with drills.open_drill_workspace(None, auto=True) as ws:
            result = drills.run_drill(ws, "athena-null-feature", auto=True)
            inc = ws.store.get(result.incident_id)
            events = ws.store.events(inc.id)
            series = {}
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                pass  # the post-mortem is checked without charts
            else:
                from console.reports.signals import fetch_series

                series, _ = fetch_series(ws, inc, now=ws.now())
            yield inc, events, series, ws.now(), ws.config.drill_targets, result.to_dict()
    finally:
        mp.undo()


def test_post_mortem_of_a_real_drill(real_drill):
    inc, events, series, now, *_ = real_drill
    md = render_postmortem(inc, events, now=now, fmt="md")
    for section in SECTIONS:
        assert f"## {section}" in md
    pm = build_postmortem(inc, events, now=now)
    assert len(pm["whys"]) == 5 and pm["notes"]["root_cause"]
    assert pm["action_items"] and all(a.type for a in pm["action_items"])
    shown = [r["seq"] for r in pm["timeline"] if r["seq"]]
    finished = {e.payload["step"] for e in events if e.kind == "step.finished"}
    # every event but the review's content, step starts whose finish follows, and the
    # engine's "skipped, not on this path" records, in order
    assert shown == [
        e.seq
        for e in events
        if not is_review_content(e)
        and not (e.kind == "step.started" and e.payload["step"] in finished)
        and not (e.kind == "step.finished" and e.payload.get("auxiliary"))
    ]
    assert len(shown) < len([e for e in events if not is_review_content(e)]) * 0.8
    assert pm["ml"]["renames"] and pm["ml"]["renames"][0]["to"] == "order_total_amount"
    assert any(
        f["name"] == "avg_order_value_90d" and f["null_rate_current"] > 0.5
        for f in pm["ml"]["drift"]
    )
    assert check_postmortem(inc, events, now=now) == []
    html = render_postmortem(inc, events, now=now, fmt="html", series=series)
    assert len(re.findall(r"<svg\b", html)) == len(series)


def test_drill_report_of_a_real_drill(real_drill):
    from console.reports.drill import targets_from_config

    inc, events, _, now, targets, _ = real_drill
    md = render_drill(inc, events, targets=targets_from_config(targets), now=now)
    assert "Measured against targets" in md and "recorded score" in md
    assert "acknowledge" in md and "pause_batch" in md


def test_the_record_reads_right_in_the_post_mortem_of_a_real_drill(real_drill):
    inc, events, series, now, *_ = real_drill
    pm = build_postmortem(inc, events, now=now)
    md = render_postmortem(inc, events, now=now, fmt="md")
    # both times: the batch job paused and read back, then the scores seen back to normal
    assert inc.mitigation_applied_at is not None and inc.mitigated_at is not None
    assert inc.mitigation_applied_at < inc.mitigated_at
    assert re.search(
        r"Mitigation applied after [\d.]+ min \(pause_batch running → paused\); "
        r"impact observed to stop after [\d.]+ min\.",
        pm["summary"],
    )
    # the summary's actions, in time order, each with its time
    listed = re.findall(r"(\d\d:\d\d) ([^;]+)", pm["summary"].split("Actions: ")[1])
    assert [t for t, _ in listed] == sorted(t for t, _ in listed)
    assert "pause_batch running → paused" in listed[0][1]
    # resolution rows name what moved, never a blank "→"
    resolution = md.split("## Resolution")[1].split("## Contributing")[0]
    assert "clear_fault of churn: fix deployed (simulated world)" in resolution
    assert "resume_batch of churn: paused → running" in resolution
    assert ":  → " not in resolution
    # no simulator internals under supporting data
    supporting = md.split("## Supporting data")[1]
    for key in ("bad_version", "good_version", "scenario:", "positive_rate_after"):
        assert key not in supporting
    # questions that found a problem are findings; no step title renders None
    assert "Does the null rate trip the circuit breaker? — yes: " in md
    assert "Does the null rate trip the circuit breaker?: failed" not in md
    assert "None" not in md.split("## Timeline")[1].split("## Detection")[0]
    # resolved alerts show their value at resolution, not the one they fired with
    resolved = [r["message"] for r in pm["timeline"] if r["kind"] == "alert.resolved"]
    assert resolved and all("at resolution" in m for m in resolved)
    assert any(m.startswith("PositiveRateShift resolved: positive_rate ") for m in resolved)
    # the chart is the impact's signal (the churn model's positive rate), not latency
    if series:
        assert next(iter(series)) == "positive_rate"
        assert "latency_p99_ms" not in series


def test_a_real_drill_reports_both_times_scored_by_the_one_scorer(real_drill):
    from console.reports.drill import score_drill

    inc, events, _, _, _, result = real_drill
    assert result["time_to_mitigation_applied"] == result["measured"]["mitigation_applied_min"]
    assert result["time_to_mitigate"] == result["measured"]["mitigate_min"]
    assert 0 < result["time_to_mitigation_applied"] < result["time_to_mitigate"]
    scored = [e for e in events if e.kind == "drill.scored"][-1].payload
    timed = score_drill(inc, scored["targets"])
    # the runner's verdict on the times is score_drill's, with its recovery verdict after
    assert scored["reasons"][: len(timed.reasons)] == timed.reasons
    assert scored["measured"] == timed.measured
