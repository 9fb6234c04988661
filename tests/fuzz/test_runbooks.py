"""Runbook YAML through the loader (``console.runbooks.loader``: ``load_file``, the lazily
checked ``library``) and through ``rollbook runbook validate FILE``.

The inputs are mostly structured mutations of the shipped runbooks (a field dropped, a value
of the wrong type, an unknown step kind, a step duplicated, bad Jinja, huge, empty and
unicode values, tabs, small YAML alias bombs, a truncated file), plus random text and bytes.
Every input either loads, or is refused with problems that each name the file, a line inside
it and a field — never another exception. The README: "Malformed runbooks name the file,
line and field"; ``runbook validate`` exits 0 or 1 and its ``--json`` lists the same problems.
"""

from __future__ import annotations

import copy
import json
import traceback
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import assert_clean, count, doc_paths, fuzz_settings, run_main

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "runbooks").glob("*.yaml"))
DOCS = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in SHIPPED}

# ---- values nobody should write, and some they might --------------------------------------
JINJA_JUNK = [
    "{{ x",
    "{{ }}",
    "{% for %}",
    "{% if a %}no end",
    "{{ a | nosuchfilter }}",
    "{{ ''.__class__.__mro__ }}",
    "}}{{",
    "{# open comment",
    "{{ results.x.values[0 }}",
    "result.max_null_rate <=",
    "{{ 1/0 }}",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(JINJA_JUNK),
    st.sampled_from(["", " ", "\t", "end", "SEV9", "check", "note", "é" * 50, "x" * 20_000]),
    st.sampled_from(["null_rate", "rollback", "acknowledge", "mitigated", "nope", "Check"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def parent_of(doc: Any, path: tuple) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


@st.composite
def mutated_runbook(draw) -> str:
    """A shipped runbook with one to four structural mutations, then perhaps a textual one."""
    doc = copy.deepcopy(DOCS[draw(st.sampled_from(sorted(DOCS)))])
    for _ in range(draw(st.integers(1, 4))):
        where = doc_paths(doc)
        path = draw(st.sampled_from(where))
        op = draw(
            st.sampled_from(
                ["drop", "replace", "replace", "kind", "duplicate", "unknown_key", "jinja", "root"]
            )
        )
        if not path or op == "root":
            if op == "root":
                doc = draw(VALUES)
            continue
        parent, key = parent_of(doc, path), path[-1]
        if op == "drop":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(VALUES)
        elif op == "kind" and isinstance(parent[key], dict):
            parent[key]["kind"] = draw(st.one_of(st.text(max_size=10), SCALARS))
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))  # a duplicate step id, option …
        elif op == "unknown_key" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=10))] = draw(SCALARS)
        elif op == "jinja":
            parent[key] = draw(st.sampled_from(JINJA_JUNK))
    try:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
    except (yaml.YAMLError, RecursionError, ValueError):
        text = str(doc)
    return draw(textual(text))


def alias_bomb(levels: int, width: int) -> str:
    """A "billion laughs" kept small: ``width ** levels`` values through aliases."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@st.composite
def textual(draw, text: str) -> str:
    """``text`` untouched, or with one change a person or an editor could make to it."""
    op = draw(
        st.sampled_from(["none", "none", "tabs", "truncate", "insert", "dup_line", "aliases"])
    )
    lines = text.splitlines(keepends=True) or [""]
    if op == "tabs":
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i].replace("  ", "\t", draw(st.integers(1, 3)))
        return "".join(lines)
    if op == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if op == "insert":
        at = draw(st.integers(0, len(text)))
        junk = draw(
            st.sampled_from([":", "- ", "&a ", "*a", "{", "]", "? ", "!!python/name:os", "%"])
        )
        return text[:at] + junk + text[at:]
    if op == "dup_line":
        i = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[: i + 1] + lines[i:])
    if op == "aliases":
        head = draw(
            st.sampled_from(
                [
                    alias_bomb(draw(st.integers(2, 9)), draw(st.integers(2, 9))),
                    "self: &s [*s]\n",
                    "self: &m {k: *m}\n",
                    "title: &t [" + "[" * 60 + "]" * 60 + "]\n",
                    "deep: " + "[" * 3000 + "]" * 3000 + "\n",
                ]
            )
        )
        field = draw(st.sampled_from(["title", "description", "severity", "select", "phases"]))
        return head + text.replace(f"\n{field}:", f"\n{field}: *l1\nx_{field}:", 1)
    return text


RANDOM_TEXT = st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
    VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
)


# ---- what every input must do --------------------------------------------------------------
def check_loader(path: Path, text: str) -> bool:
    """``load_file`` loads ``path`` or lists problems naming it, a line and a field; the
    console's library agrees. Returns whether it loaded."""
    from console.runbooks.loader import library, load_file, problems_error

    try:
        runbook, problems = load_file(path)
    except Exception:  # noqa: BLE001 - the finding
        raise AssertionError(
            f"load_file raised on:\n{text[:3000]!r}\n{traceback.format_exc()}"
        ) from None
    last_line = text.count("\n") + 1
    if runbook is None:
        assert problems, f"refused without a problem: {text[:2000]!r}"
    else:
        assert not problems, problems
        json.dumps(runbook.to_dict(), default=str)  # `runbook show --json` can print it
    for p in problems:
        assert p.file == str(path), p
        assert isinstance(p.line, int) and 1 <= p.line <= last_line, (p, last_line)
        assert isinstance(p.field, str) and p.field, p
        assert isinstance(p.message, str) and p.message.strip(), p
    if problems:
        assert str(path) in str(problems_error(problems))
    # the library the console loads: structure now, Jinja on first use — the same verdict
    lib = library([path.parent], include_shipped=False)
    assert (runbook is not None) == bool(lib.runbooks), (runbook, lib.problems)
    # (a file whose structure is broken has its Jinja left unchecked there: a subset)
    assert {p.message for p in lib.problems} <= {p.message for p in problems}, lib.problems
    return runbook is not None


def check_cli(path: Path, loaded: bool) -> None:
    argv = ["runbook", "validate", str(path), "--json"]
    code, out, err = run_main(argv)
    assert_clean(argv, code, out, err)
    assert code == (0 if loaded else 1), (code, out, err)
    answer = json.loads(out)
    assert answer["ok"] is loaded
    for p in answer["problems"]:
        assert p["file"] == str(path) and p["line"] >= 1 and p["field"], p


def write(tmp_path: Path, i: int, text: str) -> Path:
    folder = tmp_path / f"ex{i}"
    folder.mkdir()
    path = folder / "runbook.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def test_mutated_shipped_runbooks_load_or_name_file_line_and_field(tmp_path):
    runs = iter(range(10**9))

    @fuzz_settings(examples=200)
    @given(text=mutated_runbook())
    def run(text: str) -> None:
        path = write(tmp_path, next(runs), text)
        loaded = check_loader(path, text)
        check_cli(path, loaded)
        count("runbook yaml (mutated shipped runbooks)")

    run()


def test_random_text_as_a_runbook_is_refused_with_its_file_and_line(tmp_path):
    runs = iter(range(10**9))

    @fuzz_settings(examples=80)
    @given(text=RANDOM_TEXT)
    def run(text: str) -> None:
        path = write(tmp_path, next(runs), text)
        loaded = check_loader(path, text)
        check_cli(path, loaded)
        count("runbook yaml (random text)")

    run()


def test_every_shipped_runbook_still_loads():
    """The mutations start from valid files: a shipped runbook that no longer loads would
    make every "loads" above a refusal."""
    from console.runbooks.loader import load_file

    assert SHIPPED
    for path in SHIPPED:
        runbook, problems = load_file(path)
        assert runbook is not None and not problems, problems
