"""Imported once by the chaos suite's fork server: everything a CLI child needs, so each
child starts with Rollbook, the embedded plugin and their libraries already imported (and
the plugin entry points already resolved). Opens no file: connections are the children's."""

from __future__ import annotations

import importlib
import pkgutil

import console.cli.actions
import console.cli.common
import console.cli.incidents
import console.cli.main
import console.cli.world
import console.mitigation
import console.serving
import console.views
import console.workspace
import plugins.embedded
from console.backends.discovery import _load

for _module in pkgutil.iter_modules(plugins.embedded.__path__, "plugins.embedded."):
    importlib.import_module(_module.name)
for _module in pkgutil.iter_modules(console.actions.__path__, "console.actions."):
    importlib.import_module(_module.name)
importlib.import_module("console.actions")
_load("embedded")
for _name in (
    "console.backends.ibislog",
    "console.backends.framelog",
    "console.lifecycle",
    "console.recovery",
    "console.reports.metrics",
    "console.silences",
    "console.keymap",
    "console.plans",
    "console.runbooks.engine",
    "console.runbooks.loader",
    "console.changes",
    "console.diagnostics",
    "console.diagnostics.canary",
    "scipy.stats",
    "rich.console",
    "rich.status",
    "zoneinfo",
    "decimal",
):
    importlib.import_module(_name)

__all__ = ["console"]
