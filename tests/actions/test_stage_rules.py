"""A Production *label* is not production: it moves neither the pointer nor traffic, so it
never makes a rollback target, and a serving version cannot be archived."""

import pytest

from console.actions.rollback import plan_rollback
from console.actions.traffic import set_traffic, transition_stage
from console.errors import ActionRefused


def test_a_canary_labelled_production_is_no_rollback_target(ws, clock):
    clock.advance(minutes=5)
    res = transition_stage(ws, "fraud", "v22", "Production")  # Canary → Production: valid
    assert res.status == "applied"
    assert ws.backends.registry.production_version("fraud") == "v21"
    plan = plan_rollback(ws, "fraud")
    assert (plan.pointer_before, plan.pointer_after) == ("v21", "v20")


def test_label_only_promotion_says_where_production_stays(ws, rollbook):
    code, out, _ = rollbook("stage", "fraud", "v22", "production")
    assert code == 0, out
    flat = " ".join(out.split())
    assert "label only: the production pointer stays on v21 and traffic on v21:100%" in flat
    assert "rollbook rollout fraud v22" in flat and "rollbook pointer fraud v22" in flat


@pytest.mark.parametrize(
    "setup, words",
    [
        (None, "holds the production pointer"),
        ({"v2": 100}, "holds the production pointer"),  # pointer on v3, traffic elsewhere
    ],
)
def test_archiving_the_production_version_is_refused(ws, setup, words):
    if setup:
        set_traffic(ws, "pricing", setup)
    with pytest.raises(ActionRefused, match=words) as err:
        transition_stage(ws, "pricing", "v3", "Archived")
    assert "rollbook rollback pricing" in err.value.hint
    assert ws.backends.registry.version("pricing", "v3").stage == "Production"


def test_archiving_a_version_that_receives_traffic_is_refused(ws):
    transition_stage(ws, "fraud", "v22", "Production")
    set_traffic(ws, "fraud", {"v21": 75, "v22": 25})
    with pytest.raises(ActionRefused, match="receives 25% of traffic"):
        transition_stage(ws, "fraud", "v22", "Archived")
    set_traffic(ws, "fraud", {"v21": 100})
    assert transition_stage(ws, "fraud", "v22", "Archived").status == "applied"


def test_cli_archiving_the_serving_version_exits_1(ws, rollbook):
    code, out, err = rollbook("stage", "pricing", "v3", "archived")
    assert code == 1 and "Traceback" not in err
    assert "pricing v3 holds the production pointer" in err
