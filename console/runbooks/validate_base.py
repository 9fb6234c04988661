"""Shared helpers of the runbook validator: typed values, known keys, Jinja syntax and
text fields, each problem recorded with its line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from console.runbooks import templating
from console.runbooks.source import Lines, Parsed, Problem, dotted

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class CheckerBase:
    def __init__(
        self,
        parsed: Parsed,
        file: str,
        checks: Mapping[str, Any],
        actions: Mapping[str, Any],
        *,
        templates: bool = True,
    ) -> None:
        self.lines: Lines = parsed.lines
        self.file = file
        self.problems: list[Problem] = list(parsed.problems)
        self.checks = checks
        self.actions = actions
        self.templates = templates  # False: leave the Jinja syntax unchecked (see loader)

    def add(self, path: tuple, message: str, *, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, line or self.lines.of(path), dotted(path), message))

    # ---- generic helpers ---------------------------------------------------------------
    def typed(self, path: tuple, value: Any, kind: type | tuple[type, ...], what: str) -> bool:
        bad_bool = isinstance(value, bool) and bool not in (
            kind if isinstance(kind, tuple) else (kind,)
        )
        if not isinstance(value, kind) or bad_bool:
            self.add(path, f"expected {what}, got {type(value).__name__} {value!r}")
            return False
        return True

    def keys(
        self,
        path: tuple,
        mapping: dict,
        allowed: tuple[str, ...] | set[str],
        required: tuple[str, ...] = (),
    ) -> None:
        for key in mapping:
            if key not in allowed:
                self.add((*path, key), f"unknown key (known here: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in mapping:
                self.add(path, f"missing required key {key!r}")

    def template(self, path: tuple, value: Any, *, expression: bool = False) -> None:
        if not isinstance(value, str) or not self.templates:
            return
        err = templating.syntax_error(value, expression=expression)
        if err is not None:
            where, msg = err
            what = "expression" if expression else "template"
            self.add(
                path,
                f"invalid Jinja {what}: {msg}"
                + (f" (line {where} of the text)" if not expression and where > 1 else ""),
            )

    def text(self, path: tuple, value: Any, *, required: bool = False) -> str:
        if value is None:
            if required:
                self.add(path, "missing required text")
            return ""
        if not self.typed(path, value, str, "text"):
            return ""
        if required and not value.strip():
            self.add(path, "must not be empty")
        self.template(path, value)
        return value

    def string_list(self, path: tuple, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not self.typed(path, value, list, "a list of names"):
            return ()
        out = []
        for i, item in enumerate(value):
            if self.typed((*path, i), item, str, "a name"):
                out.append(item)
        return tuple(out)

    # ---- top level ---------------------------------------------------------------------
