import pytest

from console.actions.killswitch import killswitch, restore
from console.backends.types import FALLBACK_RULES
from console.errors import ActionRefused


def test_kill_switch_takes_first_healthy_rung_and_restore_undoes_it(ws, world):
    before = ws.backends.traffic.routes("pricing")
    res = killswitch(ws, "pricing")
    assert res.status == "applied"
    assert res.plan.level == "previous" and res.plan.route == "v2"
    assert ws.backends.traffic.routes("pricing") == {"v2": 100.0}
    back = restore(ws, "pricing")
    assert back.status == "applied"
    assert ws.backends.traffic.routes("pricing") == before


def test_kill_switch_falls_through_unhealthy_level(ws, world):
    world.break_backend("traffic", "probe", mode="unhealthy", times=5, route="v2")
    res = killswitch(ws, "pricing")
    assert res.status == "applied"
    assert [c.name for c in res.checks] == ["previous:v2", f"rules:{FALLBACK_RULES}"]
    assert not res.checks[0].ok and res.checks[1].ok
    assert ws.backends.traffic.routes("pricing") == {FALLBACK_RULES: 100.0}


def test_kill_switch_never_leaves_no_route(ws, world):
    before = ws.backends.traffic.routes("pricing")
    world.break_backend("traffic", "probe", mode="unhealthy", times=50)
    res = killswitch(ws, "pricing")
    assert res.status == "refused" and "routes left as they were" in res.message
    assert ws.backends.traffic.routes("pricing") == before


def test_level_option_and_restore_without_kill_switch(ws, world):
    res = killswitch(ws, "fraud", level="manual")
    assert res.plan.route.startswith("fallback:manual")
    with pytest.raises(ActionRefused, match="no kill switch"):
        restore(ws, "pricing")
    with pytest.raises(ActionRefused, match="unknown kill switch level"):
        killswitch(ws, "fraud", level="nuclear")


def test_a_rollback_after_the_kill_switch_ends_it_restore_has_nothing_to_undo(ws, world):
    from console.actions.rollback import rollback
    from console.fleet import active_killswitches

    assert killswitch(ws, "churn").status == "applied"
    assert "churn" in active_killswitches(ws)
    assert rollback(ws, "churn", to="v12").status == "applied"
    # traffic left the fallback: putting back the routes from before the kill switch (the bad
    # version) would undo the rollback
    assert "churn" not in active_killswitches(ws)
    with pytest.raises(ActionRefused, match="no kill switch to undo"):
        restore(ws, "churn")
    assert ws.backends.traffic.routes("churn") == {"v12": 100.0}
