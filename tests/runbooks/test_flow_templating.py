"""Flow (next steps, reachability) and Jinja (conditions, parameters, the sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.runbooks import flow, templating
from console.runbooks.context import _Results
from console.runbooks.loader import load_file

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def rb():
    runbook, problems = load_file(HERE / "good" / "minimal.yaml")
    assert not problems
    return runbook


def test_linear_flow_crosses_phases(rb):
    assert flow.after(rb, rb.step("ack")) == "nulls"
    assert flow.after(rb, rb.step("nulls")) == "look"  # detect → triage
    assert flow.after(rb, rb.step("look")) == "pause"


def test_decision_follows_the_chosen_option(rb):
    decide = rb.step("decide")
    assert flow.after(rb, decide, answer="rollback") == "roll_back"
    assert flow.after(rb, decide, answer="Hotfix") == "hotfix"  # label, any case
    assert flow.after(rb, decide, answer="nonsense") is None


def test_goto_and_end(rb):
    assert flow.after(rb, rb.step("roll_back")) == "done"
    assert flow.after(rb, rb.step("why")) is None  # last step: the runbook ends
    # a skipped step falls through to the next one even when it has a goto
    assert flow.after(rb, rb.step("roll_back"), skipped=True) == "hotfix"


def test_reachability_counts_when_fallthrough():
    steps = [{"id": "a"}, {"id": "b", "goto": "d"}, {"id": "c"}, {"id": "d"}]
    graph = flow.edges(steps, [s["id"] for s in steps])
    assert flow.unreachable(["a", "b", "c", "d"], graph) == ["c"]
    steps[1]["when"] = "false"  # b may be skipped, so c can be reached
    graph = flow.edges(steps, [s["id"] for s in steps])
    assert flow.unreachable(["a", "b", "c", "d"], graph) == []


def test_goto_end_cuts_the_flow():
    steps = [{"id": "a", "goto": "end"}, {"id": "b"}]
    assert flow.unreachable(["a", "b"], flow.edges(steps, ["a", "b"])) == ["b"]


def test_conditions_see_results_by_step_id():
    results = _Results({"nulls": {"state": "failed", "values": {"max_null_rate": 0.94}}})
    ctx = {"results": results, "thresholds": {"null_rate_warn": 0.02}}
    assert templating.evaluate("results.nulls.failed", ctx) is True
    assert (
        templating.evaluate("results.nulls.values.max_null_rate > thresholds.null_rate_warn", ctx)
        is True
    )
    # a step that has not run reads as pending, not as an error
    assert templating.evaluate("results.later.state", ctx) == "pending"
    assert templating.evaluate("results.later.passed", ctx) is False


def test_pass_if_with_result_and_params():
    ctx = {"result": {"max_null_rate": 0.01}, "params": {"threshold": 0.02}}
    assert templating.evaluate("result.max_null_rate <= params.threshold", ctx) is True
    ctx["result"]["max_null_rate"] = 0.5
    assert templating.evaluate("result.max_null_rate <= params.threshold", ctx) is False


def test_undefined_condition_is_an_error():
    with pytest.raises(templating.ConditionError):
        templating.evaluate("missing_name", {})


def test_render_value_keeps_types():
    ctx = {"thresholds": {"null_rate_warn": 0.02}, "versions": {"production": "v21"}}
    assert templating.render_value("{{ thresholds.null_rate_warn }}", ctx) == 0.02
    assert templating.render_value("{{ {versions.production: 100} }}", ctx) == {"v21": 100}
    assert templating.render_value("null_rate:{{ 'x' }}", ctx) == "null_rate:x"
    assert templating.render_value(["{{ 1 + 1 }}", "plain"], ctx) == [2, "plain"]


def test_text_renders_leniently_and_filters():
    # a missing value never stops the page from rendering: it shows as a named placeholder
    assert templating.render("{{ 0.942 | pct }} of {{ nothing.here }}", {}) == (
        "94.2% of ‹nothing unknown›"
    )
    assert templating.render("{{ 50000 | num(0) }}", {}) == "50,000"


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        # no previous version: the title says so rather than "Roll churn back to None"
        (
            "Roll {{ model }} back to {{ versions.previous }}",
            "Roll churn back to ‹previous unknown›",
        ),
        ("{{ versions['previous'] }}", "‹previous unknown›"),
        ("Roll back to {{ versions.typo }}", "Roll back to ‹typo unknown›"),
        ("{{ scenario }}", "‹scenario unknown›"),  # a top-level None
        ("{{ versions.previous | pct }}", "‹previous unknown›"),  # not "n/a"
        # a None is missing, so the runbook's own fallbacks take over
        ("{{ versions.previous or versions.production }}", "v13"),
        ("{{ versions.previous | default('the last good version') }}", "the last good version"),
        (
            "{% if versions.previous %}to {{ versions.previous }}{% else %}nowhere{% endif %}",
            "nowhere",
        ),
        ("{{ ' (' ~ versions.previous ~ ')' if versions.previous else '' }}done", "done"),
        # values that are there, falsy ones included, render as before
        ("{{ versions.production }} {{ count }} {{ flag }}", "v13 0 False"),
    ],
)
def test_missing_values_in_text_are_named_placeholders_never_none(source, shown):
    ctx = {
        "model": "churn",
        "versions": {"production": "v13", "previous": None},
        "scenario": None,
        "count": 0,
        "flag": False,
    }
    out = templating.render(source, ctx)
    assert out == shown
    assert "None" not in out


def test_placeholders_can_be_turned_off_for_fields_with_a_fallback():
    ctx = {"facts": {"owner": None}}
    assert templating.render("{{ facts.owner }}", ctx, placeholders=False) == ""
    assert templating.render("{{ facts.team }}", ctx, placeholders=False) == ""
    assert templating.render("{{ facts.team }}", ctx) == "‹team unknown›"


def test_parameters_and_conditions_keep_none():
    ctx = {"versions": {"previous": None}}
    assert templating.render_value("{{ versions.previous }}", ctx) is None
    assert templating.evaluate("versions.previous is none", ctx) is True


def test_sandbox_blocks_python_internals():
    with pytest.raises(templating.ConditionError):
        templating.evaluate("().__class__.__bases__[0].__subclasses__()", {})


def test_syntax_errors_are_found():
    assert templating.syntax_error("{{ a ") is not None
    assert templating.syntax_error("a <=", expression=True) is not None
    assert templating.syntax_error("{% if a %}x{% endif %}") is None
