"""The traffic-plugin contract: every traffic plugin, the same tests (see ``conftest.py`` for
the cases — embedded, the real HAProxy, kserve on kmock's Kubernetes emulator, sagemaker on
moto's server). The actions go through the real action core (``console.mitigation``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console import mitigation
from console.actions.plan import traffic_command
from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES
from console.enums import ActionKind, ActionStatus
from console.errors import InvalidInput, NotFound, RollbookError
from tests.contract.helpers import run_printed, whole_percentages

LADDER = ("previous", "rules", "manual")


def test_routes_read_whole_percentages_summing_to_100(traffic_case):
    routes = traffic_case.traffic.routes(traffic_case.model)
    assert routes == {traffic_case.new: 100.0}
    whole_percentages(routes)


def test_every_change_is_read_back_before_set_routes_returns(traffic_case):
    c, t = traffic_case, traffic_case.traffic
    for weights in ({c.old: 90, c.new: 10}, {c.old: 100}, {c.new: 100}):
        writes = c.writes()
        t.set_routes(c.model, weights, actor="tester")
        # no wait, no retry: what set_routes returned on is what serves now
        routes = t.routes(c.model)
        assert routes == {k: float(v) for k, v in weights.items()}
        whole_percentages(routes)
        assert c.writes() > writes


@pytest.mark.parametrize(
    "bad",
    [
        {"UNKNOWN": 100},  # a version no backend knows
        {"OLD": 60, "NEW": 60},  # sums to 120
        {"OLD": 110, "NEW": -10},  # out of range
        {"OLD": 100, "UNKNOWN": 0},  # an unknown route, even at 0 %
    ],
    ids=["unknown-version", "sum-120", "out-of-range", "unknown-at-zero"],
)
def test_bad_weights_are_refused_before_any_write(traffic_case, bad):
    c, t = traffic_case, traffic_case.traffic
    names = {"OLD": c.old, "NEW": c.new, "UNKNOWN": c.unknown}
    weights = {names[k]: v for k, v in bad.items()}
    writes = c.writes()
    with pytest.raises((InvalidInput, NotFound)):
        t.set_routes(c.model, weights, actor="tester")
    assert c.writes() == writes
    assert t.routes(c.model) == {c.new: 100.0}


def test_the_core_refuses_an_unknown_version_before_any_write(traffic_case):
    c = traffic_case
    writes = c.writes()
    with pytest.raises(NotFound):
        mitigation.run(
            c.ws, mitigation.Request(ActionKind.TRAFFIC, c.model, weights={c.unknown: 100})
        )
    refused = mitigation.run(c.ws, mitigation.Request(ActionKind.ROLLBACK, c.model, to=c.unknown))
    assert refused.status is ActionStatus.REFUSED, refused.message
    assert c.unknown in refused.message
    assert c.writes() == writes
    assert c.traffic.routes(c.model) == {c.new: 100.0}


def test_fractional_weights_are_refused_or_read_back_exactly(traffic_case):
    c, t = traffic_case, traffic_case.traffic
    writes = c.writes()
    try:
        t.set_routes(c.model, {c.old: 50.5, c.new: 49.5}, actor="tester")
    except InvalidInput:
        assert c.writes() == writes  # refused before any write
        assert t.routes(c.model) == {c.new: 100.0}
    else:  # a backend that can split finer must not round behind the caller's back
        assert t.routes(c.model) == {c.old: 50.5, c.new: 49.5}


def test_the_kill_switch_ladder_and_each_level_through_the_core(traffic_case):
    c = traffic_case
    ladder = c.traffic.fallbacks(c.model)
    levels = [lv.level for lv in ladder]
    assert levels and levels == [lv for lv in LADDER if lv in levels]  # best first
    assert (ladder[0].level, ladder[0].route) == ("previous", c.old)
    for lv in ladder[1:]:
        assert lv.route == {"rules": FALLBACK_RULES, "manual": FALLBACK_MANUAL}[lv.level]
    for lv in ladder:
        res = mitigation.run(
            c.ws, mitigation.Request(ActionKind.KILLSWITCH, c.model, level=lv.level)
        )
        assert res.status is ActionStatus.APPLIED, res.message
        assert res.read_back is not None and res.read_back.routes == {lv.route: 100.0}
        assert c.traffic.routes(c.model) == {lv.route: 100.0}
        back = mitigation.run(c.ws, mitigation.Request(ActionKind.RESTORE, c.model))
        assert back.status is ActionStatus.APPLIED, back.message
        assert c.traffic.routes(c.model) == {c.new: 100.0}


def test_an_error_mid_change_is_partially_applied_with_finish_and_undo(traffic_case, capsys):
    c = traffic_case
    before = c.traffic.routes(c.model)
    plan = mitigation.plan(
        c.ws, mitigation.Request(ActionKind.TRAFFIC, c.model, weights={c.old: 100})
    )
    with c.mid_change():
        res = mitigation.execute(c.ws, plan)
    assert res.status is ActionStatus.PARTIAL, res.message
    assert res.exit_code == 6
    assert res.finish == f"rollbook traffic {c.model} {c.old}=100 --yes"
    assert res.undo == traffic_command(c.model, before)
    recorded = c.ws.store.events(all_incidents=True, kind_prefix="action.partial")
    assert [(e.payload.get("finish"), e.payload.get("undo")) for e in recorded] == [
        (res.finish, res.undo)
    ]
    # the backend is back: the printed undo command puts the routes back
    assert run_printed(res.undo, capsys) == 0, capsys.readouterr()
    assert c.traffic.routes(c.model) == before


def test_health_probes(traffic_case):
    c, t = traffic_case, traffic_case.traffic
    h = t.probe(c.model, c.new)
    assert h.healthy and h.target == c.new and h.detail, h
    with c.unhealthy(c.new):
        sick = t.probe(c.model, c.new)
        assert not sick.healthy and sick.detail, sick
    assert t.probe(c.model, c.new).healthy
    try:
        unknown = t.probe(c.model, c.unknown)
    except NotFound:
        pass
    else:
        assert not unknown.healthy and c.unknown in unknown.detail


def test_rollback_removes_a_canary_through_the_core(traffic_case):
    c = traffic_case
    c.traffic.set_routes(c.model, {c.new: 90, c.old: 10}, actor="tester")
    res = mitigation.run(c.ws, mitigation.Request(ActionKind.ROLLBACK, c.model))
    assert res.plan.rule == "remove_canary"
    assert res.status is ActionStatus.APPLIED, res.message
    assert res.read_back.routes == {c.new: 100.0} and res.read_back.healthy
    assert c.traffic.routes(c.model) == {c.new: 100.0}
    assert c.ws.backends.registry.production_version(c.model) == c.new


def test_rollback_to_the_previous_version_through_the_core(traffic_case):
    c = traffic_case
    res = mitigation.run(c.ws, mitigation.Request(ActionKind.ROLLBACK, c.model, to=c.old))
    assert res.status is ActionStatus.APPLIED, res.message
    assert c.traffic.routes(c.model) == {c.old: 100.0}
    assert c.ws.backends.registry.production_version(c.model) == c.old
    assert res.read_back.healthy, res.read_back


def test_route_history_where_the_backend_keeps_one(traffic_case):
    c, t = traffic_case, traffic_case.traffic
    since = c.ws.now() - timedelta(seconds=1)
    t.set_routes(c.model, {c.old: 20, c.new: 80}, actor="tester")
    history = t.route_history(c.model, since)
    if "route_history" not in t.capabilities:
        assert history == []  # the default: Rollbook's own audit log knows its changes
        return
    assert history[-1].routes == {c.old: 20.0, c.new: 80.0}
    assert history[-1].actor == "tester" and history[-1].at >= since
    assert [h.at for h in history] == sorted(h.at for h in history)


def test_capabilities_name_what_the_plugin_does(traffic_case):
    t = traffic_case.traffic
    assert ("fallback" in t.capabilities) == bool(t.fallbacks(traffic_case.model))


def test_an_unknown_model_is_not_found(traffic_case):
    with pytest.raises((NotFound, RollbookError)):
        traffic_case.traffic.routes("no-such-model")
