"""Words, not Python, in what the commands print; the CLI's small defects of issue 12."""

import subprocess
import sys

from console.cli.main import main
from console.formatting import format_routes, format_signal, plain


def test_one_formatter_speaks_words():
    assert format_signal("positive_rate", 0.6184) == "61.8%"
    assert format_signal("latency_p99_ms", 35.2) == "35 ms"
    assert format_signal("fraud_loss_rate", 0.00123) == "0.123%"
    assert format_signal("prediction_mean", 645.0) == "645.0"
    assert format_signal("prediction_mean", 0.2011) == "0.201"
    assert format_signal("error_rate", None) == "—"
    assert format_routes({"v12": 100.0}) == "v12:100%"
    assert format_routes({"fallback:rules": 100.0, "v13": 0.0}) == "rules:100%"
    assert format_routes({}) == "—"
    assert plain({"active": True, "top_feature": None}) == "active: yes, top feature: —"
    assert plain([]) == "—"


def rollbook(capsys, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    out, err = capsys.readouterr()
    return code, out + err


def test_schema_on_a_header_only_file_says_no_rows_like_drift(tmp_path, rollbook_home, capsys):
    header_only = tmp_path / "h.csv"
    header_only.write_text("a,b\n")
    rows = tmp_path / "r.csv"
    rows.write_text("a,b\n1,2\n")
    code, text = rollbook(capsys, "schema", str(rows), str(header_only))
    assert code == 7 and "the current file has no rows" in text
    assert "TYPE" not in text  # not a type change on every column
    code, text = rollbook(capsys, "drift", str(rows), str(header_only))
    assert code == 7 and "no rows" in text


def test_status_and_demo_print_no_python(rollbook_home):
    out = subprocess.run(
        [sys.executable, "-m", "console", "demo", "--no-tui"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for cmd in (["status"], ["incidents"], ["incident", "show", "INC-0001"], ["alerts"]):
        done = subprocess.run(
            [sys.executable, "-m", "console", *cmd], capture_output=True, text=True, timeout=60
        )
        text = done.stdout + done.stderr
        for python in ("None", "True", "False", "{'", "': "):
            assert python not in text, (cmd, python, text)
