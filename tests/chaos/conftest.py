"""The chaos suite's knobs: ``ROLLBOOK_CHAOS_SEED`` (printed with every failure: set it to
replay the same kill points), ``ROLLBOOK_CHAOS_N`` (kill points per action and signal: 100
in the full run, a fast subset by default), and ``ROLLBOOK_CHAOS_REPORT`` (a JSON file the
figures are written to, for the README)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

DEFAULT_N = 3  # per action and signal: 8 actions x 3 signals x 3 = 72 kills, about a minute


def chaos_seed() -> int:
    value = os.environ.get("ROLLBOOK_CHAOS_SEED")
    return int(value) if value else random.SystemRandom().randrange(1, 2**31)


SEED = chaos_seed()


def chaos_n() -> int:
    return max(1, int(os.environ.get("ROLLBOOK_CHAOS_N") or DEFAULT_N))


@pytest.fixture(scope="session")
def seed() -> int:
    return SEED


@pytest.fixture(scope="session")
def n_kills() -> int:
    return chaos_n()


class Figures:
    """Outcomes gathered over the session, written to ``ROLLBOOK_CHAOS_REPORT``."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {"seed": SEED, "n": chaos_n(), "kills": {}, "pairs": {}}

    def add(self, section: str, key: str, value: object) -> None:
        self.data.setdefault(section, {})[key] = value  # type: ignore[union-attr]
        path = os.environ.get("ROLLBOOK_CHAOS_REPORT")
        if path:
            Path(path).write_text(json.dumps(self.data, indent=1, default=str))


@pytest.fixture(scope="session")
def figures() -> Figures:
    return Figures()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        report.sections.append(
            (
                "chaos seed",
                f"ROLLBOOK_CHAOS_SEED={SEED} ROLLBOOK_CHAOS_N={chaos_n()} replays these kill "
                f"points: ROLLBOOK_CHAOS_SEED={SEED} pytest '{item.nodeid}'",
            )
        )
    return report


@pytest.fixture
def rollbook(capsys):
    """Run ``rollbook ARGS…`` in this process through the real entry point: ``(exit code,
    stdout, stderr)``."""
    from console.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
