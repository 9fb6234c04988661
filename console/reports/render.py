"""The one Jinja environment every report renders through.

- Sandboxed (``jinja2.sandbox.SandboxedEnvironment``): a user's template cannot reach
  Python internals.
- Templates are looked up in the user's template folder (``[templates] path`` in the
  config) first, then in the shipped ``templates/``; a user file of the same name overrides
  the shipped one.
- ``.html`` templates autoescape; ``.md`` templates backslash-escape Markdown/HTML syntax in
  every interpolated value. Incident text (notes, titles, evidence) is therefore always
  rendered as text: a note containing ``<script>`` shows as ``<script>``, it never runs.
  Template authors mark deliberate markup with ``|safe`` (HTML) or build it in the template.
- Money is formatted here and only here, with the configured currency.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    pass_context,
    pass_environment,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from console.errors import InvalidInput, NotFound

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>&|])|(?<!\w)_|_(?!\w)")
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+(?=[.)]))(?=[.)]?(\s|$))")


def shipped_template_dir() -> Path:
    """The templates shipped with Rollbook.

    In an installed wheel they are at ``console/_shipped/templates`` (pyproject
    force-includes them there); in a source checkout they are ``templates/`` at the repo
    root (next to ``pyproject.toml``)."""
    package = Path(__file__).resolve().parent.parent  # console/
    installed = package / "_shipped" / "templates"
    if installed.is_dir():
        return installed
    checkout = package.parent / "templates"
    if checkout.is_dir() and (package.parent / "pyproject.toml").exists():
        return checkout
    raise NotFound(
        "the shipped report templates are missing",
        hint=f"expected {installed} (installed) or {checkout} (checkout)",
    )


def _escape_block_marker(m: re.Match[str]) -> str:
    lead, marker = m.group(1), m.group(2)
    return f"{lead}{marker}\\" if marker[0].isdigit() else f"{lead}\\{marker}"


def md_escape(text: str) -> str:
    """Backslash-escape characters Markdown (and inline HTML) would interpret, and fold
    newlines into spaces so a value never breaks a table row or a list item."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    # Block syntax matters only where a value starts a line or a list item.
    return _MD_LINE_START.sub(_escape_block_marker, text, count=1)


@pass_context
def _finalize(ctx: Context, value: Any) -> Any:
    if value is None:
        return "—"
    if (
        isinstance(value, str)
        and not isinstance(value, Markup)
        and (ctx.name or "").endswith(".md")
    ):
        return md_escape(value)
    return value


def format_money(amount: float | None, currency: str = "USD", digits: int = 0) -> str:
    """``12345.6`` → ``$12,346`` (USD), ``€12,346``, ``12,346 CHF``; None → ``—``."""
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    body = f"{abs(amount):,.{digits}f}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency.upper()}"


@pass_environment
def _money(env: SandboxedEnvironment, amount: float | None, digits: int = 0) -> str:
    return format_money(amount, str(env.globals.get("currency", "USD")), digits)


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None, digits: int = 1) -> str:
    """A fraction 0–1 as a percentage: 0.942 → ``94.2%``."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _minutes(value: float | None) -> str:
    """Minutes as people say them: ``7 min``, ``7.5 min``, ``1 h 05 min``; None → ``—``."""
    if value is None:
        return "—"
    if value >= 60:
        h, m = divmod(round(value), 60)
        return f"{h} h {m:02d} min"
    return f"{value:.0f} min" if abs(value - round(value)) < 0.05 else f"{value:.1f} min"


def _tplus(value: float | None) -> str:
    """Minutes from detection, to the minute (floored, like the HH:MM beside it): ``+5``."""
    if value is None:
        return "—"
    m = math.floor(value + 1e-9)
    return f"+{m}" if m > 0 else str(m)


def _ratio(value: float | None, digits: int = 1) -> str:
    return "undefined" if value is None else f"{value:,.{digits}f}:1"


def _dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return "—" if value is None else value.strftime(fmt)


def _hm(value: datetime | None) -> str:
    return _dt(value, "%H:%M")


@lru_cache(maxsize=8)
def _environment(user_dir: str | None, currency: str) -> SandboxedEnvironment:
    loaders = []
    if user_dir:
        loaders.append(FileSystemLoader(user_dir))
    loaders.append(FileSystemLoader(str(shipped_template_dir())))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=lambda name: bool(name) and name.endswith((".html", ".htm", ".svg")),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["currency"] = currency
    env.filters.update(
        money=_money,
        num=_num,
        pct=_pct,
        minutes=_minutes,
        ratio=_ratio,
        dt=_dt,
        hm=_hm,
        md=md_escape,
        tplus=_tplus,
    )
    return env


def environment(user_dir: Path | None = None, currency: str = "USD") -> SandboxedEnvironment:
    """The sandboxed environment for ``user_dir`` (searched first) and the shipped
    templates. Cached per (folder, currency)."""
    return _environment(str(user_dir) if user_dir else None, currency)


def template_origin(name: str, user_dir: Path | None = None) -> Path:
    """The file ``name`` resolves to: the user's copy when there is one, else the shipped."""
    if user_dir and (Path(user_dir) / name).is_file():
        return Path(user_dir) / name
    return shipped_template_dir() / name


def render(
    name: str, context: dict[str, Any], *, user_dir: Path | None = None, currency: str = "USD"
) -> str:
    """Render template ``name`` (e.g. ``postmortem.md``) with ``context``.

    A missing template or an error inside one raises ``InvalidInput`` naming the template
    and line, so a broken user override is reported, not a traceback."""
    env = environment(user_dir, currency)
    try:
        return env.get_template(name).render(**context)
    except TemplateNotFound:
        raise NotFound(
            f"no report template {name!r}",
            hint=f"looked in {user_dir or '(no user folder)'} and {shipped_template_dir()}",
        ) from None
    except TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or name}"
        line = getattr(exc, "lineno", None)
        raise InvalidInput(
            f"template {where}{f' line {line}' if line else ''}: {exc}",
            hint="fix the template, or remove your override to use the shipped one",
        ) from None


def render_report(
    name: str,
    fmt: str,
    context: dict[str, Any],
    *,
    user_dir: Path | None = None,
    currency: str = "USD",
) -> str:
    """Render report ``name`` (``roi``, ``tco``, ``exposure``, …) as ``md`` or ``html``."""
    if fmt not in ("md", "html"):
        raise InvalidInput(f"unknown format {fmt!r}", hint="use md or html")
    return render(f"{name}.{fmt}", context, user_dir=user_dir, currency=currency)
