"""YAML with line numbers: every value of a parsed document keeps the line it came from.

``parse_yaml`` returns plain Python data plus ``Lines``, a map from a path such as
``("phases", "diagnose", 2, "check")`` to its 1-based line, so each problem found later can
be reported as ``file:line: field: message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]
#: libyaml's parser when installed (several times faster); marks carry lines either way.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dotted(path: Sequence[str | int]) -> str:
    """``("phases", "diagnose", 2, "check")`` → ``phases.diagnose[2].check``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a runbook file, printed as ``file:line: field: message``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


@dataclass
class Lines:
    """Line of each value by path; a path never recorded falls back to its nearest parent."""

    by_path: dict[PathKey, int] = field(default_factory=dict)
    key_lines: dict[PathKey, int] = field(default_factory=dict)  # line of a mapping key

    def of(self, path: Sequence[str | int]) -> int:
        p = tuple(path)
        while p:
            if p in self.key_lines:
                return self.key_lines[p]
            if p in self.by_path:
                return self.by_path[p]
            p = p[:-1]
        return self.by_path.get((), 1)


@dataclass
class Parsed:
    data: Any
    lines: Lines
    problems: list[Problem]


#: The most values a runbook may expand to through YAML aliases: a shipped one has a few
#: hundred; "billion laughs" (aliases of aliases) would otherwise take the walk below, and any
#: later reader of the data, exponential time.
MAX_VALUES = 100_000


class _TooManyValues(Exception):
    pass


def _walk(
    node: yaml.Node,
    path: PathKey,
    lines: Lines,
    problems: list[Problem],
    file: str,
    budget: list[int],
) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooManyValues
    lines.by_path[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        file,
                        line,
                        dotted((*path, key)),
                        f"duplicate key (first at line {seen[key]})",
                    )
                )
            seen[key] = line
            lines.key_lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, file, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, problems, file, budget)


def parse_yaml(text: str, file: str) -> Parsed:
    """Parse one YAML document. A syntax error becomes a Problem at its line (data None),
    and so does a document that nests too deeply, contains itself through an alias, or
    expands through aliases to more than ``MAX_VALUES`` values."""
    lines = Lines()
    problems: list[Problem] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Parsed(None, lines, [Problem(file, 1, "(document)", "the file is empty")])
        _walk(node, (), lines, problems, file, [MAX_VALUES])
        data = loader.construct_document(node)
    except _TooManyValues:
        what = f"the document expands to more than {MAX_VALUES:,} values (through aliases)"
        return Parsed(None, lines, [Problem(file, 1, "(yaml)", what)])
    except RecursionError:
        # an alias inside its own anchor (`a: &x [*x]`) or thousands of nested brackets
        what = "nested too deeply (or an alias refers to the value that contains it)"
        return Parsed(None, Lines(), [Problem(file, 1, "(yaml)", what)])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # at the end of the stream libyaml's mark can be one line past a last line that has
        # no newline: name the file's last line
        line = min(mark.line + 1, text.count("\n") + 1) if mark else 1
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        return Parsed(None, lines, [Problem(file, line, "(yaml)", f"not valid YAML: {what}")])
    except yaml.YAMLError as exc:
        return Parsed(None, lines, [Problem(file, 1, "(yaml)", f"not valid YAML: {exc}")])
    finally:
        loader.dispose()
    return Parsed(data, lines, problems)


def read_yaml(path: Path) -> Parsed:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Parsed(None, Lines(), [Problem(str(path), 1, "(file)", f"cannot read: {exc}")])
    return parse_yaml(text, str(path))
