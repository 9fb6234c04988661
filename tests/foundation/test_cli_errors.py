"""Errors through the real entry point (``console.cli.main.main``): exit codes, and with
``--json`` a JSON error object on stdout while the human message stays on stderr."""

from __future__ import annotations

import io
import json
import math
import sqlite3

import pytest

from console.cli.main import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_json_error_for_an_unknown_model(capsys):
    code, out, err = run(capsys, "status", "nosuch", "--json")
    assert code == 4
    assert json.loads(out) == {
        "error": {
            "message": "no model 'nosuch'",
            "hint": "see the fleet with: rollbook status",
            "exit_code": 4,
            "type": "NotFound",
        }
    }
    assert "error: no model 'nosuch'" in err


def test_json_error_for_a_refused_action(capsys):
    code, out, _ = run(capsys, "stage", "churn", "99", "Production", "--json")
    body = json.loads(out)["error"]
    assert code == body["exit_code"] != 0
    assert "99" in body["message"]


def test_json_error_for_a_usage_error_inside_a_group(capsys):
    code, out, err = run(capsys, "report", "tco", "/nonexistent/costs.toml", "--json")
    assert code == 2
    body = json.loads(out)["error"]
    assert body["exit_code"] == 2 and body["type"] == "BadParameter"
    assert "does not exist" in body["message"] and "does not exist" in err


def test_without_json_errors_stay_off_stdout(capsys):
    code, out, err = run(capsys, "status", "nosuch")
    assert code == 4 and out == "" and "no model 'nosuch'" in err


@pytest.mark.parametrize(
    "args",
    [
        ("alerts", "--model", "nosuch"),
        ("incidents", "--model", "nosuch"),
        ("incident", "open", "nosuch", "--title", "broken"),
        ("demo", "--no-tui", "--scenario", "nosuch"),
        ("drill", "nosuch"),
    ],
)
def test_not_found_is_exit_4(capsys, args):
    code, out, err = run(capsys, *args, *(() if args[0] == "demo" else ("--json",)))
    assert code == 4, err
    if args[0] != "demo":
        assert json.loads(out)["error"]["type"] == "NotFound"


def test_a_known_model_with_nothing_to_show_is_not_an_error(capsys):
    code, out, _ = run(capsys, "incidents", "--model", "churn", "--json")
    assert code == 0 and json.loads(out) == {"incidents": []}


# ---- with --json, every error answers JSON (issue 11, item 10) ----------------------------


@pytest.mark.parametrize(
    ("args", "kind", "says"),
    [
        (("nosuch",), "NoSuchCommand", "No such command 'nosuch'"),
        (("incident", "show"), "MissingParameter", "Missing argument 'INCIDENT_ID'"),
        (("status", "--nosuch"), "NoSuchOption", "No such option '--nosuch'"),
        (("rollout", "churn", "v12", "--dwell", "abc"), "BadParameter", "'abc' is not a valid"),
        (("demo", "--no-tui", "--speed", "inf"), "BadParameter", "got inf"),
    ],
)
def test_usage_errors_answer_json(capsys, args, kind, says):
    code, out, err = run(capsys, *args, "--json")
    assert code == 2
    body = json.loads(out)["error"]
    assert body["type"] == kind and body["exit_code"] == 2
    assert says in body["message"] and says in err
    assert body["hint"].startswith("see: rollbook") and body["hint"].endswith("--help")
    code, out, err = run(capsys, *args)  # the same error without --json: stderr only
    assert code == 2 and out == "" and says in err


def test_a_json_token_after_double_dash_is_an_argument_not_the_flag(capsys):
    code, out, err = run(capsys, "note", "INC-9999", "--", "--json")
    assert code == 4 and out == "" and "INC-9999" in err


def test_an_internal_error_still_answers_json(capsys, monkeypatch):
    def broken(*_a, **_k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("console.fleet.fleet_status", broken)
    with pytest.raises(ZeroDivisionError):  # the traceback is not hidden
        main(["status", "--json"])
    body = json.loads(capsys.readouterr().out)["error"]
    assert body["type"] == "ZeroDivisionError" and body["exit_code"] == 1
    assert "division by zero" in body["message"]


def test_ctrl_c_outside_an_action_answers_json(capsys, monkeypatch):
    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr("console.fleet.fleet_status", interrupted)
    code, out, err = run(capsys, "status", "--json")
    assert code == 1 and "Aborted." in err  # click turns Ctrl+C into an abort
    assert json.loads(out)["error"] == {
        "message": "Aborted.",
        "hint": None,
        "exit_code": 1,
        "type": "Abort",
    }


# ---- a confirmation needs a person at a terminal ------------------------------------------


class Terminal(io.StringIO):
    """stdin as a person at a terminal typing ``text``."""

    def isatty(self) -> bool:
        return True


def production(model: str) -> str | None:
    from console.workspace import open_workspace

    with open_workspace("demo") as ws:
        return ws.backends.registry.production_version(model)


def test_a_confirmation_without_a_terminal_is_refused_as_json(capsys):
    assert production("churn") == "v13"
    # pytest's stdin is not a terminal, like a script's pipe or cron's /dev/null
    code, out, err = run(capsys, "pointer", "churn", "v12", "--json")
    assert code == 1
    assert json.loads(out) == {
        "error": {
            "message": "stdin is not a terminal: nobody can confirm",
            "hint": "pass --yes to confirm from a script",
            "exit_code": 1,
            "type": "ActionRefused",
        }
    }
    assert "stdin is not a terminal" in err and "--yes" in err
    assert production("churn") == "v13"  # nothing moved


@pytest.mark.parametrize(
    ("typed", "code", "kind", "after"),
    [
        ("n\n", 1, "ActionRefused", "v13"),
        ("", 1, "Abort", "v13"),  # end of input at the prompt
        ("y\n", 0, None, "v12"),
    ],
)
def test_a_person_at_a_terminal_is_asked(capsys, monkeypatch, typed, code, kind, after):
    assert production("churn") == "v13"
    monkeypatch.setattr("sys.stdin", Terminal(typed))
    got, out, err = run(capsys, "pointer", "churn", "v12", "--json")
    assert got == code, err
    assert "Point churn's production at v12?" in err
    if kind:
        assert json.loads(out)["error"]["type"] == kind
    else:
        assert json.loads(out)["status"] == "applied"
    assert production("churn") == after


# ---- --speed: rejected before the world is touched; a saved bad speed is repaired ---------


@pytest.mark.parametrize("speed", ["inf", "-inf", "nan", "0", "-1", "1e300", "86401"])
def test_a_speed_no_clock_can_run_at_is_a_usage_error(capsys, rollbook_home, speed):
    code, out, err = run(capsys, "demo", "--no-tui", "--speed", speed, "--json")
    assert code == 2, err
    body = json.loads(out)["error"]
    assert body["type"] == "BadParameter" and "--speed" in body["message"]
    assert "Traceback" not in err
    assert not list(rollbook_home.rglob("embedded-*.db"))  # checked before anything is saved


@pytest.mark.parametrize("stored", [math.inf, math.nan, -2.0, 1e300])
def test_a_world_saved_with_a_bad_speed_is_repaired_when_opened(capsys, rollbook_home, stored):
    code, out, _ = run(capsys, "status", "--json")
    assert code in (0, 1) and json.loads(out)["models"]
    [path] = rollbook_home.rglob("embedded-demo.db")
    with sqlite3.connect(path) as db:  # what an older rollbook saved for --speed inf
        db.execute("UPDATE world SET speed = ? WHERE id = 1", (stored,))
    db.close()

    code, out, err = run(capsys, "status", "--json")
    assert code in (0, 1), err
    assert {m["model"] for m in json.loads(out)["models"]} >= {"churn", "fraud"}
    assert "Traceback" not in err
    assert err.count("warning:") == 1 and "reset to speed 1" in err
    code, _, err = run(capsys, "status")
    assert code in (0, 1) and "warning" not in err  # said once: the repair was saved
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT speed FROM world WHERE id = 1").fetchone() == (1.0,)
    db.close()
