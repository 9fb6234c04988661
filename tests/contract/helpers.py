"""Small checks shared by the contract tests."""

from __future__ import annotations

import shlex

import pytest


def whole_percentages(routes: dict[str, float]) -> None:
    """Every weight a whole percentage, together 100."""
    assert routes, "no route takes traffic"
    assert all(abs(w - round(w)) < 1e-9 for w in routes.values()), routes
    assert abs(sum(routes.values()) - 100.0) < 1e-9, routes


def run_printed(command: str, capsys: pytest.CaptureFixture) -> int:
    """Run a ``rollbook …`` command as printed for the person (finish / undo) through the
    real CLI entry point; its exit code."""
    from console.cli.main import main

    argv = shlex.split(command)
    assert argv[0] == "rollbook", command
    capsys.readouterr()
    try:
        main(argv[1:])
        return 0
    except SystemExit as exit_:
        return int(exit_.code or 0)
