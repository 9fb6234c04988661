"""`rollbook report --help` and `postmortem --help` stay light: no matplotlib, pandas, scipy
or Textual; Jinja is imported only when a document is rendered."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import sys
from console.cli.main import main
sys.argv = ["rollbook"] + sys.argv[1:]
try:
    main()
except SystemExit:
    pass
print("LOADED", sorted({m.split('.')[0] for m in sys.modules}))
"""


@pytest.mark.parametrize(
    "args", [("report", "--help"), ("postmortem", "--help"), ("report", "roi", "--help")]
)
def test_report_help_imports_nothing_heavy(args):
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=60
    )
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("LOADED")), None)
    assert line, r.stdout + r.stderr
    for mod in ("matplotlib", "pandas", "scipy", "textual", "jinja2", "numpy"):
        assert f"'{mod}'" not in line, f"{' '.join(args)} imported {mod}"


def test_exposure_report_does_not_import_matplotlib():
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            "report",
            "exposure",
            "--requests-per-hour",
            "3600",
            "--seconds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("LOADED"))
    assert "'matplotlib'" not in line and "'pandas'" not in line
