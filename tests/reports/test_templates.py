"""Rendering safety: incident text is escaped, the sandbox holds, user templates override."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2.sandbox import SandboxedEnvironment

from console.errors import InvalidInput, NotFound
from console.reports.costs import exposure, tco
from console.reports.postmortem import render_postmortem
from console.reports.render import (
    environment,
    format_money,
    md_escape,
    render,
    shipped_template_dir,
    template_origin,
)

from .conftest import NOW, at

SCRIPT = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


@pytest.fixture
def hostile_incident(store):
    inc = store.create_incident(
        title="<b>bold</b> title",
        model="churn",
        severity="SEV3",
        env="demo",
        actor="alice",
        at=at(8, 0),
    )
    store.append(inc.id, "note", SCRIPT, actor="alice", at=at(8, 1))
    store.append(
        inc.id, "note", f"why? {SCRIPT}", actor="alice", at=at(8, 2), payload={"tag": "why"}
    )
    store.append(
        inc.id,
        "action_item",
        "x",
        actor="alice",
        at=at(8, 3),
        payload={
            "what": SCRIPT,
            "owner": "<i>o</i>",
            "type": "prevent",
            "link": "javascript:alert(1)",
        },
    )
    return store.get(inc.id), store.events(inc.id)


def test_html_escapes_incident_text(hostile_incident):
    inc, events = hostile_incident
    html = render_postmortem(inc, events, now=NOW, fmt="html")
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img" in html
    assert "&lt;b&gt;bold&lt;/b&gt; title" in html
    assert 'href="javascript:' not in html  # only http(s) links become anchors


def test_markdown_escapes_incident_text(hostile_incident):
    inc, events = hostile_incident
    md = render_postmortem(inc, events, now=NOW, fmt="md")
    assert not re.search(r"(?<!\\)<(script|img|/script)", md)  # every < is backslash-escaped
    assert '\\<script\\>alert("x")\\</script\\> \\& \\<img' in md


def test_markdown_escape_rules():
    assert md_escape("avg_order_value_90d") == "avg_order_value_90d"  # intraword stays
    assert md_escape("a|b\nc") == "a\\|b c"  # never breaks a table row
    assert md_escape("# not a heading") == "\\# not a heading"
    assert md_escape("-17") == "-17" and md_escape("- item") == "\\- item"
    assert md_escape("[x](javascript:y)") == "\\[x\\](javascript:y)"


def test_the_environment_is_sandboxed():
    env = environment()
    assert isinstance(env, SandboxedEnvironment)
    evil = env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(Exception, match="unsafe|not safely"):
        evil.render()


def test_user_template_overrides_the_shipped_one(tmp_path, drill_incident):
    inc, events = drill_incident
    user = tmp_path / "my-templates"
    user.mkdir()
    (user / "postmortem.md").write_text(
        "# Our format: {{ incident.id }}\nWhys: {{ whys | length }}\n{{ incident.title }}\n"
    )
    out = render_postmortem(inc, events, now=NOW, fmt="md", user_dir=user)
    assert out.startswith("# Our format: INC-0001\nWhys: 5\n")
    assert "avg_order_value_90d" in out
    assert template_origin("postmortem.md", user) == user / "postmortem.md"
    # templates the user did not override still come from the shipped folder
    assert template_origin("postmortem.html", user) == shipped_template_dir() / "postmortem.html"
    assert "<h2>Summary</h2>" in render_postmortem(inc, events, now=NOW, fmt="html", user_dir=user)


def test_user_html_override_is_autoescaped_too(tmp_path, hostile_incident):
    inc, events = hostile_incident
    user = tmp_path / "t"
    user.mkdir()
    (user / "postmortem.html").write_text("<p>{% for r in timeline %}{{ r.message }}{% endfor %}")
    html = render_postmortem(inc, events, now=NOW, fmt="html", user_dir=user)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_broken_or_missing_templates_are_reported(tmp_path):
    user = tmp_path / "t"
    user.mkdir()
    (user / "roi.md").write_text("{{ r.models | nosuchfilter }}")
    with pytest.raises(InvalidInput, match="template"):
        render("roi.md", {"r": None}, user_dir=user)
    with pytest.raises(NotFound, match="no report template"):
        render("nope.md", {})


def test_money_is_formatted_with_the_configured_currency():
    assert format_money(10_400) == "$10,400"
    assert format_money(-1400.5, "EUR", 2) == "-€1,400.50"
    assert format_money(12_346, "CHF") == "12,346 CHF"
    assert format_money(None) == "—"
    out = render("tco.md", {"t": tco({"compute": 1000}), "generated_at": NOW}, currency="EUR")
    assert "€1,000" in out and "€12,000" in out
    assert "1,736 requests" in render("exposure.md", {"e": exposure(5e6, 5, 0.25)})


def test_shipped_templates_are_found_in_the_checkout():
    d = shipped_template_dir()
    assert d == Path(__file__).resolve().parents[2] / "templates"
    for name in (
        "postmortem",
        "drill",
        "roi",
        "incident_cost",
        "exposure",
        "tco",
        "business_case",
        "standby",
    ):
        assert (d / f"{name}.md").is_file() and (d / f"{name}.html").is_file()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_every_cost_report_renders_in_both_formats(fmt):
    from console.reports.business import business_case
    from console.reports.costs import ModelEconomics, incident_cost, model_roi
    from console.reports.render import render_report
    from console.reports.standby import standby_vs_cold

    cases = {
        "roi": ("r", model_roi([ModelEconomics("churn", 10_400, 175_000, "batch")]), "$10,400"),
        "incident_cost": ("c", incident_cost(50_000, 30), "$25,000"),
        "exposure": ("e", exposure(5_000_000, 5, 0.25), "1,736"),
        "tco": ("t", tco({"compute": 3200}, annual_value=2_100_000), "$38,400"),
        "business_case": (
            "b",
            business_case(
                annual_investment=200_000,
                weeks_before=12,
                weeks_after=2,
                models=10,
                value_per_model=100_000,
                horizon_months=12,
            ),
            "$192,308",
        ),
        "standby": (
            "s",
            standby_vs_cold(
                2000, 5_000_000, pull_seconds=40, load_seconds=15, warmup_seconds=5, share=0.25
            ),
            "20,833",
        ),
    }
    for name, (key, result, expected) in cases.items():
        ctx = {key: result, "generated_at": NOW, "incident": None}
        out = render_report(name, fmt, ctx)
        assert expected in out, name
        if fmt == "html":
            assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
