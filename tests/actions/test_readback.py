"""An action's outcome comes from reading production back after any error, never from which
exception happened; a target that stops answering after traffic moved to it is reverted."""

import dataclasses

from click.testing import CliRunner

from console.actions.rollback import rollback
from console.cli.main import cli
from console.enums import ActionStatus


def break_traffic_reads_after_the_registry_step(ws, monkeypatch):
    """The traffic backend becomes unreadable right after the registry moved (like HAProxy's
    socket removed between the steps)."""
    reg, world = ws.backends.registry, ws.backends.world
    real = reg.set_production

    def then_break(*args, **kwargs):
        real(*args, **kwargs)
        world.break_backend("traffic", "routes", mode="error", times=-1)

    monkeypatch.setattr(reg, "set_production", then_break)


def test_a_failure_after_both_steps_is_partial_with_finish_and_undo_not_nothing_changed(
    ws, monkeypatch
):
    break_traffic_reads_after_the_registry_step(ws, monkeypatch)
    res = rollback(ws, "credit-score")
    # traffic moved and the registry moved; the traffic can no longer be read: the state is
    # unknown — partially applied, exit 6, with both commands (not "nothing changed", 5)
    assert res.status is ActionStatus.PARTIAL and res.exit_code == 6, res.message
    assert res.message.startswith("unknown: registry v4")
    assert res.finish == "rollbook rollback credit-score --to v4 --yes"
    assert res.undo == (
        "rollbook traffic credit-score v5=100 --yes && rollbook pointer credit-score v5 --yes"
    )
    [partial] = ws.store.events(all_incidents=True, kind_prefix="action.partial")
    assert partial.payload["state"] == "unknown" and partial.payload["finish"] == res.finish


def test_an_error_after_the_change_that_reads_back_as_planned_is_applied(ws, monkeypatch):
    reg = ws.backends.registry
    real_read = reg.production_version
    calls = {"n": 0}

    def flaky(model):
        calls["n"] += 1
        if calls["n"] == 4:  # the verify step's read fails once; the read-back after works
            from console.errors import BackendError

            raise BackendError("registry read timed out")
        return real_read(model)

    monkeypatch.setattr(reg, "production_version", flaky)
    res = rollback(ws, "credit-score")
    assert res.status is ActionStatus.APPLIED and res.exit_code == 0, res.message
    assert "reads back as planned" in res.message and "timed out" in res.message
    assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}


def test_an_unhealthy_target_after_the_move_is_reverted(ws):
    world = ws.backends.world
    world.break_backend("traffic", "probe", mode="unhealthy", times=-1, route="v4")
    res = rollback(ws, "credit-score", overrides=("health",))
    assert res.status is ActionStatus.COMPENSATED and res.exit_code == 5, res.message
    assert res.message.startswith("v4 did not answer its health probe after traffic moved")
    assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}
    assert ws.backends.registry.production_version("credit-score") == "v5"
    [failed] = [
        e
        for e in ws.store.events(all_incidents=True, kind_prefix="action.failed")
        if e.payload.get("state") == "compensated"
    ]
    assert "rollback reverted" in failed.message


def test_keep_and_warn_leaves_traffic_and_names_the_undo(ws, monkeypatch):
    env = dataclasses.replace(ws.env, unhealthy_target="keep")
    monkeypatch.setattr(ws.backends, "env", env)
    ws.backends.world.break_backend("traffic", "probe", mode="unhealthy", times=-1, route="v4")
    res = rollback(ws, "credit-score", overrides=("health",))
    assert res.status is ActionStatus.PARTIAL and res.exit_code == 6
    assert "UNHEALTHY" in res.message
    assert res.undo.startswith("rollbook traffic credit-score v5=100")
    assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}


def test_cli_exit_code_follows_what_was_read(ws):
    ws.backends.world.break_backend("traffic", "probe", mode="unhealthy", times=-1, route="v4")
    r = CliRunner().invoke(cli, ["rollback", "credit-score", "--yes", "--override", "health"])
    assert r.exit_code == 5, r.output
    assert "✖ FAILED (undone): v4 did not answer its health probe" in r.output
