"""Words, not Python: how every screen and every command shows a value to a person.

One module for the console, the CLI, the runbook checks' summaries and the recovery watch, so
a signal, a traffic split or a check's evidence reads the same everywhere: no dicts, no
``None``, no ``True``, no internal names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

#: signals that are fractions, shown as percentages
RATE_PREFIXES = (
    "error_rate",
    "positive_rate",
    "output_diversity",
    "null_rate",
    "false_positive",
)
#: fallback routes are stored with this prefix; people read the level alone
FALLBACK_PREFIX = "fallback:"


def format_signal(signal: str, value: float | None, *, missing: str = "—") -> str:
    """A signal's value for people: rates as ``61.8%`` (a loss rate, which is small, to three
    decimals), latencies as ``35 ms``, other numbers to one decimal from 100 up and to three
    significant digits below. ``None`` (no data) is ``missing``."""
    if value is None:
        return missing
    if signal == "fraud_loss_rate":
        return f"{value * 100:.3f}%"
    if signal.startswith(RATE_PREFIXES):
        return f"{value * 100:.1f}%"
    if signal.startswith("latency"):
        return f"{value:.0f} ms"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def format_routes(routes: Mapping[str, float] | None) -> str:
    """``v13:90% v14:10%`` (largest first; fallback routes by their level: ``rules:100%``);
    no routes is ``—``."""
    return (
        " ".join(
            f"{k.removeprefix(FALLBACK_PREFIX)}:{v:g}%"
            for k, v in sorted((routes or {}).items(), key=lambda kv: -kv[1])
            if v
        )
        or "—"
    )


def plain(value: object) -> str:
    """Any value as a person reads it: no braces, quotes or True/False (``yes``/``no``);
    floats to 4 significant digits; timestamps as HH:MM:SS; a mapping as ``key: value``
    pairs with underscores as spaces; an empty collection or ``None`` as ``—``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return f"{value:%H:%M:%S}"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return f"{datetime.fromisoformat(value):%H:%M:%S}"
        except ValueError:
            return value
    if isinstance(value, Mapping):
        if set(value) == {"at", "value"}:  # a point of a series
            return f"{plain(value['at'])} {plain(value['value'])}"
        return ", ".join(f"{str(k).replace('_', ' ')}: {plain(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple | set):
        return ", ".join(plain(v) for v in value) or "—"
    return "—" if value is None else str(value)


# Health as an icon and a word: never conveyed by colour alone.
HEALTH_WORDS = {
    "healthy": "✔ ok",
    "degraded": "▲ degraded",
    "critical": "✖ CRITICAL",
    "unknown": "? unknown",
}
