"""The console's one command registry, headless: every key the TUI answers to has an id, a
description, the screens it works on and a rank (how important it is when the key bar has
to drop hints to fit the terminal). The bindings, the key bar, the help screen, the command
palette, the status lines and every step or modal hint are generated from it, so a remap in
``[keys]`` shows everywhere.

This module never imports Textual: the config loader checks ``[keys]`` against it
(``validate``), and the TUI turns its entries into Textual bindings
(``console.tui.commands``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace

#: Scopes of modal dialogs: while one is open only its own keys (and the reserved ones) work.
MODAL_SCOPES = ("confirm",)
#: Keys that must keep their meaning on every screen: the quit and help commands' keys, and
#: ctrl+c (quits like in every terminal tool).
RESERVED_IDS = ("quit", "help", "interrupt")


@dataclass(frozen=True)
class Command:
    id: str
    key: str
    description: str
    action: str  # Textual action name on the screen (or ``app.…`` on the app)
    scopes: tuple[str, ...]  # screen names, or ("app",) for every screen
    dangerous: bool = False  # removed in read-only mode; goes through a confirmation modal
    show: bool = True  # offered in the key bar
    rank: int = 50  # lower is more important: the key bar drops the highest ranks first
    short: str = ""  # the key bar's word for it ("back", "quit"), when shorter than description

    @property
    def label(self) -> str:
        return key_label(self.key)

    @property
    def hint(self) -> str:
        """``"R rollback"``: the key and its word, as every hint on screen shows it."""
        return f"{self.label} {(self.short or self.description).lower()}"


COMMANDS: tuple[Command, ...] = (
    # everywhere
    Command("quit", "q", "Back, or quit on the fleet", "app.quit_or_back", ("app",), rank=2,
            short="quit"),
    Command("interrupt", "ctrl+c", "Quit", "app.interrupt", ("app",), show=False),
    Command("help", "question_mark", "Help", "app.help", ("app",), rank=2),
    Command("back", "escape", "Back", "app.back", ("app",), show=False),
    Command("fleet", "f", "Fleet", "app.fleet", ("app",), show=False),
    Command("focus_next", "tab", "Next pane", "app.focus_next", ("app",), rank=13, short="pane"),
    Command("focus_previous", "shift+tab", "Previous pane", "app.focus_previous", ("app",),
            show=False),
    Command("palette", "ctrl+p", "Commands", "app.command_palette", ("app",), rank=90),
    Command("refresh", "ctrl+r", "Refresh", "app.refresh_now", ("app",), show=False),
    # fleet
    Command("filter", "slash", "Filter", "filter", ("fleet",), rank=20),
    Command("open_model", "enter", "Open model", "open_model", ("fleet",), rank=10,
            short="model"),
    Command("open_incident", "i", "Incident", "open_incident", ("fleet", "model", "incident"),
            rank=5),
    # incident
    Command("run_step", "space", "Run step", "run_step", ("incident",), rank=1),
    Command("run_step_enter", "enter", "Run step", "run_step", ("incident",), show=False),
    Command("next_step", "j", "Next step", "move(1)", ("incident",), rank=60, short="step ↓"),
    Command("prev_step", "k", "Previous step", "move(-1)", ("incident",), show=False),
    Command("note", "n", "Note", "note", ("incident",), rank=12),
    Command("acknowledge", "a", "Acknowledge", "acknowledge", ("incident",), rank=14,
            short="ack"),
    Command("drift", "d", "Drift", "drift", ("incident", "model"), rank=40),
    Command("review", "v", "Review", "review", ("incident",), rank=45),
    Command("stakeholder_update", "s", "Stakeholder update", "stakeholder_update",
            ("incident",), rank=46, short="update"),
    *(
        Command(f"answer_{n}", str(n), f"Choose option {n}", f"answer({n})", ("incident",),
                show=False)
        for n in range(1, 10)
    ),
    # the one-key mitigations (incident and model)
    Command("rollback", "R", "Rollback", "rollback", ("incident", "model"), dangerous=True,
            rank=3),
    Command("killswitch", "K", "Kill switch", "killswitch", ("incident", "model"),
            dangerous=True, rank=4),
    # offered in the key bar only while a kill switch holds (the screen says so)
    Command("restore", "U", "Undo kill switch", "restore", ("incident", "model"),
            dangerous=True, show=False, rank=3, short="undo kill switch"),
    # model
    Command("diff", "l", "Lineage diff", "diff", ("model",), rank=20, short="diff"),
    # review
    Command("edit_item", "enter", "Edit item", "edit_item", ("review",), rank=10),
    Command("add_item", "plus", "Add item", "add_item", ("review",), rank=11),
    Command("export", "e", "Export", "export", ("review",), rank=12),
    # the confirmation modal (R / K / U, a runbook action step)
    Command("confirm_yes", "y", "Execute", "confirm", MODAL_SCOPES, rank=1, short="EXECUTE"),
    Command("confirm_no", "n", "Cancel", "cancel", MODAL_SCOPES, rank=2, short="cancel"),
    Command("confirm_close", "enter", "Close", "close_done", MODAL_SCOPES, show=False),
)  # fmt: skip

#: key names people write in config → Textual's names for them
KEY_ALIASES = {"?": "question_mark", "/": "slash", "+": "plus", " ": "space", "esc": "escape"}
#: Textual key names → what the screens show
LABELS = {
    "question_mark": "?",
    "slash": "/",
    "plus": "+",
    "escape": "esc",
    "shift+tab": "shift+tab",
    "ctrl+p": "^p",
    "ctrl+r": "^r",
    "ctrl+c": "^c",
}


def key_label(key: str) -> str:
    return LABELS.get(key, key)


def by_id(commands: tuple[Command, ...] = COMMANDS) -> dict[str, Command]:
    return {c.id: c for c in commands}


def effective(
    keys: Mapping[str, str] | None = None, *, read_only: bool = False
) -> tuple[Command, ...]:
    """The registry with ``[keys]`` applied (ids assumed valid: ``validate`` checked them);
    dangerous commands dropped in read-only mode."""
    keys = keys or {}
    out = []
    for c in COMMANDS:
        if read_only and c.dangerous:
            continue
        out.append(replace(c, key=normalise(keys[c.id])) if c.id in keys else c)
    return tuple(out)


def for_scope(commands: tuple[Command, ...], scope: str) -> list[Command]:
    return [c for c in commands if scope in c.scopes]


def normalise(key: str) -> str:
    return KEY_ALIASES.get(key, key)


def _overlap(a: Command, b: Command) -> bool:
    """Two commands are live on the same screen at once. App-wide commands are live on every
    screen but not inside a modal dialog (which has its own keys)."""

    def modal(c: Command) -> bool:
        return all(s in MODAL_SCOPES for s in c.scopes)

    if set(a.scopes) & set(b.scopes):
        return True
    if "app" in a.scopes:
        return not modal(b)
    if "app" in b.scopes:
        return not modal(a)
    return False


class KeyProblem(ValueError):
    """A ``[keys]`` entry that cannot work; ``binding`` is the id it names."""

    def __init__(self, binding: str, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.binding, self.problem, self.hint = binding, problem, hint


def validate(keys: Mapping[str, object]) -> dict[str, str]:
    """Check a ``[keys]`` table (binding id → key) and return it with key names normalised
    (``"?"`` → ``question_mark``).

    Raises ``KeyProblem`` for: an id the registry does not know (with the closest ids as a
    hint); a value that is not a key name; a key that two commands live on the same screen
    would share after the remap (naming both); and a key that takes over the quit or help
    key, or ctrl+c, anywhere (those must always work). Remapping ``quit`` or ``help``
    themselves is allowed."""
    known = by_id()
    out: dict[str, str] = {}
    for bid, key in keys.items():
        if bid not in known:
            close = difflib.get_close_matches(bid, known, n=3)
            raise KeyProblem(
                bid,
                "unknown binding id",
                hint=("did you mean " + ", ".join(close) + "? " if close else "")
                + "the ids are listed in the console's help (?)",
            )
        if not isinstance(key, str) or not key.strip() or (" " in key and key != " "):
            raise KeyProblem(bid, f'expected a key name such as "x" or "ctrl+x", got {key!r}')
        out[bid] = normalise(key)
    commands = effective(out)
    mine = by_id(commands)
    reserved = {mine[r].key: mine[r] for r in RESERVED_IDS}
    for bid in out:
        c = mine[bid]
        owner = reserved.get(c.key)
        if owner is not None and owner.id != c.id:
            raise KeyProblem(
                bid,
                f"{c.label} would shadow {owner.label} ({owner.description.lower()}), which must "
                "work on every screen",
                hint=f"pick another key for {bid}",
            )
        for other in commands:
            if other.id == c.id or other.key != c.key or not _overlap(c, other):
                continue
            if other.action == c.action:  # one command under two ids (enter and space)
                continue
            raise KeyProblem(
                bid,
                f"{c.label} is bound twice: {bid} ({c.description}) and {other.id} "
                f"({other.description}) on the {_where(c, other)} screen",
                hint=f"pick another key for {bid}, or remap {other.id} too",
            )
    return out


def _where(a: Command, b: Command) -> str:
    shared = [s for s in a.scopes if s in b.scopes and s != "app"]
    if shared:
        return shared[0]
    return next((s for s in (*a.scopes, *b.scopes) if s != "app"), "every")


def hint(commands: tuple[Command, ...], command_id: str) -> str:
    """``"R rollback"`` for a command id, with the key as remapped; empty when the command
    does not exist here (read-only)."""
    c = by_id(commands).get(command_id)
    return c.hint if c else ""


def key_of(commands: tuple[Command, ...], command_id: str) -> str:
    """The label of the key bound to a command id (``"?"``, ``"R"``), or empty."""
    c = by_id(commands).get(command_id)
    return c.label if c else ""
