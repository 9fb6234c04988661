"""`rollbook --help` must stay light: no Textual, pandas or scipy."""

import subprocess
import sys

HEAVY = ("textual", "pandas", "scipy", "numpy", "sqlite_utils")

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


def loaded_after(*args: str) -> str:
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=60
    )
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("LOADED")]
    assert line, r.stdout + r.stderr
    return line[0]


def test_help_imports_no_heavy_module():
    loaded = loaded_after("--help")
    for mod in HEAVY:
        assert f"'{mod}'" not in loaded, f"--help imported {mod}"


def test_subcommand_help_imports_no_heavy_module():
    for cmd in ("drift", "status", "demo", "incident"):
        loaded = loaded_after(cmd, "--help")
        for mod in ("textual", "pandas", "scipy"):
            assert f"'{mod}'" not in loaded, f"{cmd} --help imported {mod}"


def test_the_check_itself_can_see_heavy_imports():
    # guard against a vacuous test: importing pandas is visible to the same probe
    r = subprocess.run(
        [sys.executable, "-c", "import pandas, sys; print('pandas' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.strip() == "True"


def test_exit_codes_reach_the_shell(rollbook_home):
    """`ctx.exit(n)` inside a command must become the process exit code."""
    (rollbook_home / "config.toml").write_text("")
    r = subprocess.run(
        [sys.executable, "-m", "console", "audit", "pending", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "console", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # the demo fleet is healthy until a fault is injected: status exits 0
    assert r.returncode == 0, r.stderr
    subprocess.run(
        [sys.executable, "-m", "console", "demo", "--no-tui"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    r = subprocess.run(
        [sys.executable, "-m", "console", "status"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 1  # churn is critical now


DEMO_SCRIPT = """
import sys
from console.demo import start_demo
from console.views import incident_view
from console.workspace import open_workspace

ws = open_workspace("demo")
state = start_demo(ws)
incident_view(ws, state.incident.id, here=True)
print("LOADED", sorted({m.split('.')[0] for m in sys.modules}))
"""


def test_the_demo_incident_opens_without_pandas_scipy_or_sqlite_utils(rollbook_home):
    """Start → demo incident on screen pays for what the screen needs: the embedded world,
    seeding, the incident and its view import none of them (together ~0.6 s of a start)."""
    r = subprocess.run(
        [sys.executable, "-c", DEMO_SCRIPT], capture_output=True, text=True, timeout=120
    )
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("LOADED")]
    assert line, r.stdout + r.stderr
    assert "'numpy'" in line[0]  # the probe sees the world's own imports
    for mod in ("pandas", "scipy", "sqlite_utils"):
        assert f"'{mod}'" not in line[0], f"opening the demo incident imported {mod}"
