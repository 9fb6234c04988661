"""Errors through the real entry point (``console.cli.main.main``): exit codes, and with
``--json`` a JSON error object on stdout while the human message stays on stderr."""

from __future__ import annotations

import json

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
