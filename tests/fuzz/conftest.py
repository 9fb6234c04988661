"""The fuzz suite's budget and shared pieces.

Every target runs a fixed number of hypothesis examples in CI (the ``rollbook-fuzz-ci``
profile: derandomized, so CI runs the same inputs every time) and many more with
``HYPOTHESIS_PROFILE=full`` (``rollbook-fuzz-full``: random, 20x the examples). The profiles
are applied per test (``fuzz_settings``), so the rest of the suite's hypothesis tests keep
theirs. ``ROLLBOOK_FUZZ_REPORT=path`` writes how many inputs each target ran.

Every input must end in a clean result or an error with one of the README's exit codes
(0–7), never a traceback.
"""

from __future__ import annotations

import io
import json
import os
import traceback
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

EXIT_CODES = frozenset(range(8))  # README: 0 ok … 7 invalid input data
FULL = os.environ.get("HYPOTHESIS_PROFILE", "") == "full"
FULL_FACTOR = 20

settings.register_profile(
    "rollbook-fuzz-ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
settings.register_profile(
    "rollbook-fuzz-full", settings.get_profile("rollbook-fuzz-ci"), derandomize=False
)

INPUTS: Counter = Counter()


def fuzz_settings(examples: int) -> settings:
    """The profile's settings with ``examples`` (CI) or ``examples × 20`` (full)."""
    name = "rollbook-fuzz-full" if FULL else "rollbook-fuzz-ci"
    return settings(
        settings.get_profile(name), max_examples=examples * (FULL_FACTOR if FULL else 1)
    )


def count(target: str) -> None:
    """One input tried on ``target`` (for the README's figures)."""
    INPUTS[target] += 1
    path = os.environ.get("ROLLBOOK_FUZZ_REPORT")
    if path:
        Path(path).write_text(json.dumps(dict(INPUTS), indent=1, sort_keys=True))


def run_main(argv: list[str]) -> tuple[int | None, str, str]:
    """``rollbook ARGV`` in this process through the real entry point: ``(exit code, stdout,
    stderr)``; an exception that escapes ``main`` is a crash: ``(None, stdout, traceback)``."""
    from console.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: int | None = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - a crash, reported by the caller
            code = None
            err.write(traceback.format_exc())
    return code, out.getvalue(), err.getvalue()


def assert_clean(argv: list[str], code: int | None, out: str, err: str) -> None:
    """A documented exit code, no traceback, and with ``--json`` an answer that parses."""
    shown = f"rollbook {' '.join(argv)!r}\n--- stdout\n{out[-2000:]}\n--- stderr\n{err[-3000:]}"
    assert code is not None and "Traceback (most recent call last)" not in err + out, shown
    assert code in EXIT_CODES, f"exit {code}: {shown}"
    if "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv:
        assert_json(out, shown)


def assert_json(out: str, shown: str) -> None:
    text = out.strip()
    if not text:
        return  # a usage error of a command without --json … is answered on stderr only
    try:
        json.loads(text)
    except ValueError:
        for line in text.splitlines():  # a stream: one JSON document per line
            try:
                json.loads(line)
            except ValueError:
                raise AssertionError(f"--json printed something not JSON: {shown}") from None


@pytest.fixture
def home(rollbook_home) -> Path:
    return rollbook_home


def doc_paths(node: Any, prefix: tuple = (), *, root: bool = True) -> list[tuple]:
    """Every path into a parsed document (TOML, YAML): keys and list indexes, the root's
    empty path included unless ``root`` is false."""
    out = [prefix] if root or prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += doc_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += doc_paths(v, (*prefix, i))
    return out
