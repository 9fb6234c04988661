"""Charts of the key signals in the HTML post-mortem: inline SVG drawn by matplotlib, with
actions marked; rendered by headless Chromium when it is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from console.reports.charts import action_marks, render_chart
from console.reports.postmortem import render_postmortem

from .conftest import NOW, at, signal_series

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


class SvgCollector(HTMLParser):
    """Collects each chart figure's SVG: its size and the drawn elements inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure" and "chart" in (a.get("class") or ""):
            self.charts.append(
                {"signal": a.get("data-signal"), "svg": None, "paths": 0, "texts": []}
            )
        elif tag == "svg" and self.charts:
            self.charts[-1]["svg"] = a
            self._depth += 1
        elif self._depth and tag == "path" and (a.get("d") or "").strip():
            self.charts[-1]["paths"] += 1
        elif self._depth and tag == "text":
            self.charts[-1]["texts"].append("")

    def handle_endtag(self, tag):
        if tag == "svg" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth and self.charts and self.charts[-1]["texts"]:
            self.charts[-1]["texts"][-1] += data


@pytest.fixture
def html(drill_incident):
    inc, events = drill_incident
    return render_postmortem(inc, events, now=NOW, fmt="html", series=signal_series())


def test_svg_charts_are_present_and_not_empty(html):
    p = SvgCollector()
    p.feed(html)
    assert [c["signal"] for c in p.charts] == ["null_rate:avg_order_value_90d", "positive_rate"]
    for c in p.charts:
        assert c["svg"] is not None, "figure without an inline svg"
        assert float(c["svg"]["width"].removesuffix("pt")) > 100
        assert float(c["svg"]["height"].removesuffix("pt")) > 50
        assert c["paths"] >= 5  # the line, the axes, the action mark, ticks
        texts = " ".join(c["texts"])
        assert c["signal"] in texts and "pause_batch" in texts  # title and action label
    # self-contained: nothing is fetched from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//', html.split('<section id="timeline"')[0])
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_actions_are_marked_once_each(drill_incident):
    _, events = drill_incident
    marks = action_marks(events)
    assert [(m.at, m.label) for m in marks] == [(at(6, 53, 20), "pause_batch → paused")]


def test_a_series_without_values_is_skipped_with_a_note(drill_incident):
    inc, events = drill_incident
    html = render_postmortem(
        inc,
        events,
        now=NOW,
        fmt="html",
        series={"error_rate": [(at(6, 30), None), (at(6, 31), None)]},
    )
    assert "<svg" not in html and "error_rate: no data in the incident window" in html
    assert render_chart("x", [], []) is None


def test_charts_are_deterministic(drill_incident):
    series = signal_series()
    one = render_chart("positive_rate", series["positive_rate"], [])
    two = render_chart("positive_rate", series["positive_rate"], [])
    assert one is not None and one.svg == two.svg


PROBE = """<script>
addEventListener('load', () => {
  const out = [...document.querySelectorAll('figure.chart svg')].map(svg => {
    const r = svg.getBoundingClientRect();
    const drawn = [...svg.querySelectorAll('path')].filter(p => {
      const b = p.getBBox(); return b.width > 0 || b.height > 0; }).length;
    return {w: r.width, h: r.height, drawn};
  });
  const pre = document.createElement('pre');
  pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed "
    "(apt-get install chromium); the SVG structure is checked above",
)
def test_headless_chromium_renders_the_charts(html, tmp_path):
    page = tmp_path / "postmortem.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1600",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert m, dom.stderr[-2000:]
    charts = json.loads(m.group(1).replace("&quot;", '"'))
    assert len(charts) == 2
    for c in charts:
        assert c["w"] > 300 and c["h"] > 80 and c["drawn"] >= 5
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    try:
        from PIL import Image
    except ImportError:
        return
    img = Image.open(shot).convert("RGB")
    colors = img.getcolors(maxcolors=img.width * img.height) or []
    blue = sum(n for n, (r, g, b) in colors if b > 200 and r < 80 and g < 160)
    assert blue > 200, "the blue signal lines are not visible in the screenshot"
