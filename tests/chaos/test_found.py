"""Bugs the chaos suite found, each kept as a fast, deterministic example: an action
interrupted at the point that showed the bug (a backend call that raises KeyboardInterrupt,
as Ctrl+C does in the middle of it), then the commands `audit pending` prints, run through
the real CLI."""

from __future__ import annotations

import json

import pytest

import console.actions.killswitch
import console.actions.rollback
import console.actions.rollout
import console.actions.traffic
from console.actions.calls import call as real_call
from console.workspace import open_workspace

ACTION_MODULES = (
    console.actions.rollback,
    console.actions.killswitch,
    console.actions.traffic,
    console.actions.rollout,
)


def interrupt_at(m: pytest.MonkeyPatch, what: str, *, landed: bool = False) -> None:
    """Ctrl+C while the action waits for the backend call ``what`` (e.g.
    ``traffic.set_routes``): before the call is made, or with ``landed`` just after it
    returned (the change made, its step not yet recorded)."""

    def call(fn, *args, what: str = "", **kw):
        if what == interrupted and not landed:
            raise KeyboardInterrupt
        value = real_call(fn, *args, what=what, **kw)
        if what == interrupted:
            raise KeyboardInterrupt
        return value

    interrupted = what
    for module in ACTION_MODULES:
        m.setattr(module, "call", call)


def pending(rollbook) -> dict:
    code, out, err = rollbook("audit", "pending", "--json")
    assert code in (0, 6), (out, err)
    body = json.loads(out)
    assert (code == 6) == bool(body["pending"] or body["splits"])
    return body


def run_chain(rollbook, line: str) -> None:
    for part in line.split("&&"):
        argv = part.split()[1:]  # without "rollbook"
        code, out, err = rollbook(*argv, "--json")
        assert code == 0, (argv, out, err)


@pytest.mark.parametrize(
    ("argv", "what", "which"),
    [
        (("rollback", "credit-score", "--yes"), "traffic.set_routes", "undo"),
        (("rollback", "credit-score", "--yes"), "registry.set_production", "undo"),
        (("killswitch", "credit-score", "--yes"), "traffic.set_routes", "undo"),
        (("traffic", "credit-score", "v5=50", "v4=50", "--yes"), "traffic.set_routes", "undo"),
        (("pointer", "credit-score", "v4", "--yes"), "registry.set_production", "undo"),
    ],
)
def test_an_undo_with_nothing_left_to_do_settles_the_interrupted_action(
    rollbook, monkeypatch, argv, what, which
):
    """Ctrl+C before the first write: production never moved, so the undo commands are all
    no-ops. They used to leave the action listed by `audit pending` for ever (a no-op never
    superseded it); running its own finish or undo command now settles it."""
    pending(rollbook)  # seeds the world
    with monkeypatch.context() as m:
        interrupt_at(m, what)
        code, out, err = rollbook(*argv)
    assert code == 6 and "INTERRUPTED" in out, (out, err)
    [entry] = pending(rollbook)["pending"]
    assert entry["finish"] and entry["undo"]
    run_chain(rollbook, entry[which])
    assert pending(rollbook) == {"pending": [], "splits": []}


def test_a_no_op_that_is_not_its_command_does_not_hide_an_unfinished_action(rollbook, monkeypatch):
    """Only the action's own finish or undo settles it: any other request that finds nothing
    to do (here a traffic change to the routes it already has) leaves it listed."""
    pending(rollbook)
    with monkeypatch.context() as m:
        interrupt_at(m, "traffic.set_routes")
        code, *_ = rollbook("rollback", "credit-score", "--yes")
    assert code == 6
    [entry] = pending(rollbook)["pending"]
    code, out, _ = rollbook("traffic", "credit-score", "v5=100.0", "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "noop"
    assert [p["action_id"] for p in pending(rollbook)["pending"]] == [entry["action_id"]]


def test_an_interrupted_stage_change_is_listed_with_finish_and_undo_that_work(
    rollbook, monkeypatch
):
    """A stage change killed in its registry step was listed by `audit pending` with no
    finish and no undo command."""
    pending(rollbook)
    for which in ("finish", "undo"):
        with monkeypatch.context() as m:
            interrupt_at(m, "registry.transition_stage")
            code, out, err = rollbook("stage", "fraud", "v22", "Staging")
        assert code == 6, (out, err)
        [entry] = pending(rollbook)["pending"]
        assert entry["finish"] == "rollbook stage fraud v22 Staging"
        assert entry["undo"] == "rollbook stage fraud v22 Canary"
        run_chain(rollbook, entry[which])
        assert pending(rollbook) == {"pending": [], "splits": []}
        with open_workspace("demo") as ws:
            stage = ws.backends.registry.version("fraud", "v22").stage
        assert stage == ("Staging" if which == "finish" else "Canary")
        if which == "finish":  # back to Canary for the undo round
            code, out, err = rollbook("stage", "fraud", "v22", "Canary")
            assert code == 0, (out, err)


def test_sigterm_while_the_action_is_planned_ends_like_ctrl_c_not_in_a_traceback(
    rollbook, monkeypatch
):
    """SIGTERM (or SIGHUP) before the action's steps — while it is planned — raised
    `Interrupted` out of the CLI: a traceback, exit 1. It now ends as Ctrl+C does there:
    "Aborted.", exit 1, nothing recorded, nothing pending."""
    from console import mitigation

    pending(rollbook)

    def planning(*_a, **_k):
        raise mitigation.Interrupted("SIGTERM")

    with monkeypatch.context() as m:
        m.setattr(mitigation, "plan", planning)
        code, out, err = rollbook("rollback", "credit-score", "--yes", "--json")
    assert code == 1
    assert "Aborted" in err and "Traceback" not in err
    assert json.loads(out)["error"]["exit_code"] == 1
    assert pending(rollbook) == {"pending": [], "splits": []}


def test_a_kill_switch_cut_short_after_its_traffic_moved_is_finished_as_a_kill_switch(
    rollbook, monkeypatch
):
    """Interrupted after its traffic write, a kill switch's finish command found traffic
    already on the fallback: a no-op. Nothing recorded the kill switch, so the fleet showed a
    SPLIT (registry v5, traffic v4) instead of a kill switch, and `restore` had nothing to
    undo. Its finish now runs it again (the write is idempotent): recorded, restorable."""
    pending(rollbook)
    with monkeypatch.context() as m:
        interrupt_at(m, "traffic.set_routes", landed=True)
        code, out, err = rollbook("killswitch", "credit-score", "--yes")
    assert code == 6, (out, err)
    [entry] = pending(rollbook)["pending"]
    code, out, err = rollbook(*entry["finish"].split()[1:], "--json")
    assert code == 0 and json.loads(out)["status"] == "applied", (out, err)
    assert pending(rollbook) == {"pending": [], "splits": []}
    code, out, err = rollbook("restore", "credit-score", "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "applied", (out, err)
    with open_workspace("demo") as ws:
        assert ws.backends.traffic.routes("credit-score") == {"v5": 100.0}


def test_a_rollback_cut_short_after_both_writes_is_finished_and_recorded_never_two_steps_back(
    rollbook, monkeypatch
):
    """Interrupted after its registry write, a rollback's finish found production already
    rolled back: a no-op, so the rollback was never recorded as finished — not on the
    incident (no mitigation applied) and not in the audit log the next rollback reads. Its
    finish now runs it again: recorded, and a second rollback is the idempotent no-op, not a
    second step back."""
    code, out, err = rollbook("incident", "open", "credit-score", "--title", "scores moved")
    assert code == 0, (out, err)
    with monkeypatch.context() as m:
        interrupt_at(m, "registry.set_production", landed=True)
        code, out, err = rollbook("rollback", "credit-score", "--yes")
    assert code == 6, (out, err)
    [entry] = pending(rollbook)["pending"]
    code, out, err = rollbook(*entry["finish"].split()[1:], "--json")
    assert code == 0 and json.loads(out)["status"] == "applied", (out, err)
    assert pending(rollbook) == {"pending": [], "splits": []}
    code, out, err = rollbook("incident", "show", "INC-0001", "--json")
    assert json.loads(out)["incident"]["mitigation_applied_at"]
    code, out, err = rollbook("rollback", "credit-score", "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "noop", (out, err)
    with open_workspace("demo") as ws:
        assert ws.backends.registry.production_version("credit-score") == "v4"
        assert ws.backends.traffic.routes("credit-score") == {"v4": 100.0}


@pytest.mark.parametrize("which", ["finish", "undo"])
def test_a_rollout_cut_short_after_its_registry_step_has_a_finish_and_an_undo_that_work(
    rollbook, monkeypatch, which
):
    """Interrupted after its registry step moved the pointer: the finish (the rollout again)
    was refused ("v22 is already production", exit 1) and the undo moved only traffic back,
    leaving a SPLIT (registry v22, traffic v21). The undo now moves the pointer back too,
    and the finish finds nothing left to do."""
    code, out, err = rollbook("demo", "--no-tui", "--speed", "3000")
    with monkeypatch.context() as m:
        interrupt_at(m, "registry.set_production", landed=True)
        code, out, err = rollbook("rollout", "fraud", "v22", "--dwell", "1", "--yes")
    assert code == 6, (out, err)
    [entry] = pending(rollbook)["pending"]
    run_chain(rollbook, entry[which])
    assert pending(rollbook) == {"pending": [], "splits": []}
    want = "v22" if which == "finish" else "v21"
    with open_workspace("demo") as ws:
        assert ws.backends.registry.production_version("fraud") == want
        assert ws.backends.traffic.routes("fraud") == {want: 100.0}


def test_a_signal_that_lands_inside_importlib_is_delivered_again_not_lost():
    """SIGTERM arriving while importlib ran one of its callbacks (Rollbook imports lazily,
    after the steps too) raised Interrupted where Python ignores exceptions: "Exception
    ignored in <function _get_module_lock.<locals>.cb>" and a traceback on stderr, and the
    signal was lost — the command went on. It is now delivered again once out of
    importlib."""
    import signal
    import time
    from types import SimpleNamespace

    import click

    from console.cli.actions import interrupts

    in_importlib = SimpleNamespace(
        f_code=SimpleNamespace(co_filename="<frozen importlib._bootstrap>")
    )
    from console.mitigation import Interrupted

    with pytest.raises(click.exceptions.Abort), interrupts():
        handler = signal.getsignal(signal.SIGTERM)
        try:
            handler(signal.SIGTERM, in_importlib)  # as Python would call it there
        except Interrupted:
            pytest.fail("raised inside importlib, where Python ignores it")
        time.sleep(5)  # the signal comes again: Interrupted, then Abort out of interrupts()


def test_a_model_held_in_another_database_on_the_same_server_is_not_held_here(pg_server):
    """Found by the concurrency suite (pairs on PostgreSQL, each on a database of its own on
    one server): the model lock's holder was looked up in every database of the server, so
    a rollback of credit-score in one team's store made every other store on that server
    refuse actions on its own credit-score ("rollback of credit-score in progress by …")."""
    from datetime import UTC, datetime

    from console.store.locks import LockHolder
    from console.store.postgres import PostgresStore
    from tests.store.conftest import fresh_database

    ours, theirs = fresh_database(pg_server), fresh_database(pg_server)
    with PostgresStore(theirs) as other, PostgresStore(ours) as store:
        holder = LockHolder("ana", "rollback", datetime(2026, 11, 22, 7, 0, tzinfo=UTC))
        with other.model_lock("credit-score", holder):
            assert other.lock_holder("credit-score") == holder
            assert store.lock_holder("credit-score") is None
            with store.model_lock("credit-score", LockHolder("ben", "killswitch", holder.since)):
                pass  # taken here: a lock in another database does not hold this one
