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
            yield inc, events, series, ws.now(), ws.config.drill_targets
    finally:
        mp.undo()


def test_post_mortem_of_a_real_drill(real_drill):
    inc, events, series, now, _ = real_drill
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

    inc, events, _, now, targets = real_drill
    md = render_drill(inc, events, targets=targets_from_config(targets), now=now)
    assert "Measured against targets" in md and "recorded score" in md
    assert "acknowledge" in md and "pause_batch" in md
