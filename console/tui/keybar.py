"""The key bar: the bottom line of every screen, generated from the command registry.

At 80 columns not every key fits, so the bar ranks them (``Command.rank``: the current
step's key and the mitigations first, help and quit always) and drops the least important
instead of cutting a word in half. A screen adds what only it knows (``1–3 choose`` on a
decision, ``U undo kill switch`` while one holds) as extra hints with their own rank."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

SEPARATOR = "  "


@dataclass(frozen=True)
class KeyHint:
    key: str  # as shown: "space", "R", "1–3"
    word: str  # "run step", "rollback"
    rank: int = 50  # lower is more important


def fit(hints: list[KeyHint], width: int) -> list[KeyHint]:
    """The most important hints that fit in ``width`` columns, in rank order (stable: equal
    ranks keep the order given). A hint is dropped whole, never cut."""
    chosen: list[KeyHint] = []
    used = 0
    for h in sorted(hints, key=lambda h: h.rank):
        cost = len(h.key) + 1 + len(h.word) + (len(SEPARATOR) if chosen else 0)
        if used + cost > width:
            continue  # a shorter, less important hint may still fit
        chosen.append(h)
        used += cost
    return chosen


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar { height: 1; dock: bottom; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = "keybar") -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.hints: list[KeyHint] = []

    def show(self, hints: list[KeyHint]) -> None:
        self.hints = hints
        self.refresh()

    def shown(self) -> list[KeyHint]:
        """The hints on screen now (what fits the bar's width)."""
        width = (self.size.width or self.app.size.width) - 2
        return fit(self.hints, width)

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        for i, h in enumerate(self.shown()):
            if i:
                t.append(SEPARATOR)
            t.append(h.key, style="bold reverse")
            t.append(" " + h.word)
        return t
