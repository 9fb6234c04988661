"""The runbook model: a runbook is six phases, each a list of steps of five kinds.

Plain frozen dataclasses built by the loader after validation; the engine and the TUI read
them, nothing mutates them. Text fields hold Jinja templates, rendered at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.store.models import ACTION_ITEM_TYPES, NOTE_TAGS, PHASES, SEVERITIES

STEP_KINDS = ("check", "action", "manual", "decision", "note")
MARKS = ("acknowledged", "mitigated", "resolved", "reviewed")
END = "end"  # the goto target that ends the runbook

__all__ = [
    "PHASES",
    "SEVERITIES",
    "STEP_KINDS",
    "MARKS",
    "NOTE_TAGS",
    "ACTION_ITEM_TYPES",
    "END",
    "Option",
    "ActionItem",
    "Step",
    "Selector",
    "Runbook",
]


@dataclass(frozen=True)
class Option:
    """One answer of a decision step; ``goto`` is a step id or ``end``."""

    id: str
    label: str
    goto: str
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "goto": self.goto,
            "description": self.description,
        }


@dataclass(frozen=True)
class ActionItem:
    """A follow-up a manual step proposes; recorded as an ``action_item`` event when done."""

    what: str
    type: str
    owner: str = ""
    due_days: int = 14
    link: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "type": self.type,
            "owner": self.owner,
            "due_days": self.due_days,
            "link": self.link,
        }


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    phase: str
    title: str
    text: str = ""
    line: int = 0
    marks: str | None = None
    goto: str | None = None
    when: str | None = None  # Jinja expression; false → the step is skipped
    # check / action
    name: str | None = None  # the check or action name
    params: dict[str, Any] = field(default_factory=dict)
    pass_if: str | None = None
    stop_on_fail: bool = False
    timeout_s: float | None = None
    automatic: bool = False
    # decision
    options: tuple[Option, ...] = ()
    auto: str | None = None
    # manual / note
    require_note: bool = False
    tag: str | None = None
    auto_text: str | None = None
    action_items: tuple[ActionItem, ...] = ()

    def option(self, answer: str) -> Option | None:
        """The option whose id or label matches ``answer`` (case-insensitive), or None."""
        wanted = answer.strip().lower()
        for opt in self.options:
            if wanted in (opt.id.lower(), opt.label.lower()):
                return opt
        return None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "phase": self.phase,
            "title": self.title,
            "text": self.text,
        }
        for key in (
            "marks",
            "goto",
            "when",
            "name",
            "pass_if",
            "auto",
            "tag",
            "auto_text",
            "timeout_s",
        ):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        if self.params:
            d["params"] = self.params
        if self.kind in ("check", "action"):
            d["stop_on_fail"] = self.stop_on_fail
        if self.kind == "action":
            d["automatic"] = self.automatic
        if self.options:
            d["options"] = [o.to_dict() for o in self.options]
        if self.require_note:
            d["require_note"] = True
        if self.action_items:
            d["action_items"] = [a.to_dict() for a in self.action_items]
        return d


@dataclass(frozen=True)
class Selector:
    """Which alerts pick this runbook. Every listed criterion must hold; ``fallback``
    runbooks are chosen only when nothing else matches."""

    alerts: tuple[str, ...] = ()
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> allowed ("*")
    models: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    fallback: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "alerts": list(self.alerts),
            "labels": {k: list(v) for k, v in self.labels.items()},
            "models": list(self.models),
            "scenarios": list(self.scenarios),
            "fallback": self.fallback,
        }


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    description: str
    severity: str
    select: Selector
    steps: tuple[Step, ...]  # in phase order, then file order
    path: Path | None = None
    drill_targets: dict[str, float] = field(default_factory=dict)  # minutes, override config

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def step(self, step_id: str) -> Step:
        from console.errors import NotFound

        for s in self.steps:
            if s.id == step_id:
                return s
        raise NotFound(
            f"runbook {self.id!r} has no step {step_id!r}",
            hint="steps: " + ", ".join(s.id for s in self.steps),
        )

    def has_step(self, step_id: str) -> bool:
        return any(s.id == step_id for s in self.steps)

    def phase_steps(self, phase: str) -> list[Step]:
        return [s for s in self.steps if s.phase == phase]

    def index(self, step_id: str) -> int:
        for i, s in enumerate(self.steps):
            if s.id == step_id:
                return i
        raise KeyError(step_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "severity": self.severity,
            "select": self.select.to_dict(),
            "path": str(self.path) if self.path else None,
            "drill_targets": dict(self.drill_targets),
            "phases": {p: [s.to_dict() for s in self.phase_steps(p)] for p in PHASES},
        }
