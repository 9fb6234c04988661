"""The layering is executable: the import contracts in pyproject.toml hold, and they bite.

- `lint-imports` (import-linter) keeps every contract over the whole tree: only console.tui
  imports Textual, console never imports a plugin, plugins do not import each other, and
  plugins.http_common imports no plugin;
- the same contracts break on a copy of the tree with one bad import each (so a contract
  that matches nothing, or a config that import-linter no longer reads, fails here);
- importing every core module (all of console except console.tui) at run time loads neither
  Textual nor any plugin, which also covers imports import-linter cannot see (importlib).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = (
    "the core is headless: only console.tui imports Textual",
    "the core never imports a plugin (they are found through entry points)",
    "plugins do not import each other",
    "plugins.http_common is the shared layer: it imports no plugin",
)


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    assert exe.exists(), f"{exe} is missing: install the test extras (pip install -e '.[test]')"
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the packages under cwd, not the install
    return subprocess.run(
        [str(exe), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_every_import_contract_is_kept():
    r = lint_imports(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in r.stdout, r.stdout


def test_every_registered_plugin_is_in_the_plugin_contracts():
    """A plugin added to the entry points without being added to the contracts would be
    free to import the others: the lists must follow the entry points."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"]["rollbook.plugins"]
    registered = {
        ".".join(target.split(":")[0].split(".")[:2])
        for target in entry_points.values()
        if target.startswith("plugins.")
    }
    contracts = {c["name"]: c for c in project["tool"]["importlinter"]["contracts"]}
    independent = set(contracts["plugins do not import each other"]["modules"])
    shared = contracts["plugins.http_common is the shared layer: it imports no plugin"]
    hint = "add it to both plugin lists of [tool.importlinter] in pyproject.toml"
    assert registered - independent == set(), hint
    assert registered - set(shared["forbidden_modules"]) == set(), hint
    assert "plugins.http_common" not in independent  # the shared layer, imported by many


def test_each_contract_breaks_on_a_bad_import(tmp_path):
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("console", "plugins"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    bad = {
        "console/_bad_textual.py": "import textual\n",
        "console/_bad_plugin.py": "from plugins.embedded import plugin\n",
        "plugins/prometheus/_bad.py": "from plugins.alertmanager import backend\n",
        "plugins/http_common/_bad.py": "import plugins.mlflow\n",
    }
    for rel, text in bad.items():
        (tmp_path / rel).write_text(text)
    r = lint_imports(tmp_path)
    assert r.returncode != 0, r.stdout
    for name in CONTRACTS:
        assert f"{name} BROKEN" in r.stdout, r.stdout
    for module in ("console._bad_textual", "console._bad_plugin"):
        assert module in r.stdout
    assert "plugins.prometheus._bad -> plugins.alertmanager.backend" in r.stdout
    assert "plugins.http_common._bad -> plugins.mlflow" in r.stdout


PROBE = """
import importlib, json, pkgutil, sys
import console
names = sorted(
    m.name for m in pkgutil.walk_packages(console.__path__, "console.")
    if m.name != "console.tui" and not m.name.startswith("console.tui.")
)
for name in names:
    importlib.import_module(name)
core = sorted({m.split(".")[0] for m in sys.modules})
importlib.import_module("console.tui.app")
after_tui = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"modules": names, "core": core, "after_tui": after_tui}))
"""


def test_the_core_loads_neither_textual_nor_plugins():
    r = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    # the walk really imported the core (a broken walk would make this test vacuous)
    assert {"console.cli.main", "console.runbooks.engine", "console.backends.connect"} <= set(
        seen["modules"]
    )
    assert "textual" not in seen["core"]
    assert "plugins" not in seen["core"]
    # and the probe can see Textual when something does load it
    assert "textual" in seen["after_tui"]
