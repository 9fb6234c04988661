"""Runbook files the fuzzer (``test_runbooks.py``) found crashing the loader, hanging it, or
passing ``runbook validate`` without being a runbook, kept as named examples. Each is now
refused with a problem naming the file, line 1 and the field, and ``runbook validate`` exits 1.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.fuzz.conftest import assert_clean, run_main


def bomb(levels: int, width: int) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


FOUND = {
    # a document that is YAML's null: no runbook, no problem, `runbook validate` said "ok"
    "null document": ("Null\n...\n", "(document)", "a runbook is a mapping"),
    "tilde document": ("~\n", "(document)", "a runbook is a mapping"),
    # an alias inside its own anchor: RecursionError out of the line walk
    "recursive alias in a list": ("self: &s [*s]\n", "(yaml)", "nested too deeply"),
    "recursive alias in a mapping": ("self: &m {k: *m}\n", "(yaml)", "nested too deeply"),
    # "billion laughs": 9**9 values through aliases, walked one by one (minutes, then memory)
    "alias bomb": (bomb(9, 9), "(yaml)", "expands to more than 100,000 values"),
    # an unclosed bracket and no newline: the error was reported on line 2 of a 1-line file
    "unclosed bracket at the end": ("[", "(yaml)", "not valid YAML"),
}


@pytest.mark.parametrize("name", FOUND)
def test_a_found_runbook_is_refused_with_its_file_line_and_field(name, tmp_path):
    from console.runbooks.loader import load_file

    text, field, message = FOUND[name]
    path = tmp_path / "runbook.yaml"
    path.write_text(text)
    started = time.perf_counter()
    runbook, problems = load_file(path)
    assert time.perf_counter() - started < 5
    assert runbook is None
    assert [(p.file, p.line, p.field) for p in problems] == [(str(path), 1, field)]
    assert message in problems[0].message

    argv = ["runbook", "validate", str(path), "--json"]
    code, out, err = run_main(argv)
    assert_clean(argv, code, out, err)
    assert code == 1
    answer = json.loads(out)
    assert answer["ok"] is False and answer["problems"][0]["field"] == field
