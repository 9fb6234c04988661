"""Jinja for runbooks: text fields are templates, conditions are expressions.

Everything runs in a ``SandboxedEnvironment``: a runbook is a file anyone on the team can
edit, so a template must not reach into Python. In text (titles, texts, notes) a value that
is missing or None renders as a placeholder naming it — "Roll churn back to ‹previous
unknown›", never "None" or a sentence with a hole — because a missing piece of evidence must
not stop a 3 AM page from rendering, nor pass for a real value. A condition that evaluates to
undefined is an error the engine reports on the step; parameters keep their types.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined
from jinja2.sandbox import SandboxedEnvironment

_WHOLE_EXPR = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)


def _pct(value: Any, digits: int = 1) -> str:
    try:
        return f"{float(value) * 100:.{digits}f}%"
    except Exception:  # noqa: BLE001 - undefined or not a number: say so, do not crash
        return "n/a"


def _num(value: Any, digits: int = 2) -> str:
    try:
        return f"{float(value):,.{digits}f}"
    except Exception:  # noqa: BLE001
        return "n/a"


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=ChainableUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    return env


def placeholder(name: str | None) -> str:
    """What text shows for a missing value: ``‹previous unknown›``."""
    return f"‹{name} unknown›" if name else "‹unknown›"


class _Missing(ChainableUndefined):
    """A missing value in text: falsy, chainable (``a.b.c`` of a missing ``a`` is missing),
    and printed as a placeholder naming it when it is what a ``{{ }}`` shows."""

    __slots__ = ()


class _TextEnvironment(SandboxedEnvironment):
    """Text templates: a None read from the context (``versions.previous`` when there is no
    previous version) is missing, like an undefined name, so ``or`` and ``default`` fall back
    and a bare ``{{ }}`` shows the placeholder."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        value = super().getattr(obj, attribute)
        return self.undefined(name=attribute) if value is None else value

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        return self.undefined(name=str(argument)) if value is None else value


def _named(value: Any) -> Any:
    if isinstance(value, Undefined):
        return placeholder(getattr(value, "_undefined_name", None))
    return value


def _blank(value: Any) -> Any:
    return "" if isinstance(value, Undefined) else value


@lru_cache(maxsize=2)
def text_environment(placeholders: bool = True) -> SandboxedEnvironment:
    """Text templates; a missing or None value shows as ``placeholder(name)``, or as empty
    text with ``placeholders=False``."""
    env = _TextEnvironment(
        undefined=_Missing,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_named if placeholders else _blank,
    )
    for name, fmt in (("pct", _pct), ("num", _num)):
        env.filters[name] = _keeps_missing(fmt)
    return env


def _keeps_missing(fmt: Any) -> Any:
    """A number filter that lets a missing value through, so it shows as the placeholder
    naming it rather than "n/a"."""

    def apply(value: Any, *args: Any) -> Any:
        return value if isinstance(value, Undefined) else fmt(value, *args)

    return apply


class ConditionError(Exception):
    """A condition could not be evaluated (undefined value, type error …)."""


def syntax_error(source: str, *, expression: bool = False) -> tuple[int, str] | None:
    """(line within ``source``, message) when ``source`` is not valid Jinja, else None."""
    env = environment()
    try:
        if expression:
            env.compile_expression(source)
        else:
            env.parse(source)
    except TemplateSyntaxError as exc:
        return (exc.lineno or 1), exc.message or str(exc)
    return None


@lru_cache(maxsize=512)
def _template(source: str):
    return environment().from_string(source)


@lru_cache(maxsize=512)
def _text_template(source: str, placeholders: bool = True):
    return text_environment(placeholders).from_string(source)


@lru_cache(maxsize=512)
def _expression(source: str):
    return environment().compile_expression(source, undefined_to_none=False)


def render(source: str | None, context: dict[str, Any], *, placeholders: bool = True) -> str:
    """Render a text field; errors at run time come back as a bracketed note, not a crash.

    A value that is missing or None shows as ``placeholder(name)`` ("Roll churn back to
    ‹previous unknown›"); with ``placeholders=False`` it renders as empty text, for fields
    whose caller falls back on an empty answer (an action item's owner or link)."""
    if not source:
        return ""
    try:
        named = {k: _Missing(name=k) if v is None else v for k, v in context.items()}
        return _text_template(source, placeholders).render(**named).strip()
    except Exception as exc:  # noqa: BLE001 - a template must never take the console down
        return f"{source.strip()} [template error: {exc}]"


def evaluate(source: str, context: dict[str, Any]) -> Any:
    """Evaluate a condition or ``auto`` expression. Raises ConditionError when it fails or
    yields an undefined value."""
    try:
        value = _expression(source)(**context)
    except Exception as exc:  # noqa: BLE001
        raise ConditionError(f"{source!r}: {type(exc).__name__}: {exc}") from exc
    if isinstance(value, Undefined):
        raise ConditionError(f"{source!r} is undefined here (a missing result or value?)")
    return value


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Resolve a parameter: a string that is exactly ``{{ expr }}`` keeps the expression's
    type (a number stays a number); other strings render as text; lists and mappings are
    resolved item by item."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        whole = _WHOLE_EXPR.match(value)
        if whole and "{{" not in whole.group(1):
            result = evaluate(whole.group(1).strip(), context)
            return result
        return _template(value).render(**context)
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    return value


def is_templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)
