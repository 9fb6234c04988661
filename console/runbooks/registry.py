"""The check and action registries: names a runbook may use, with their parameters.

Importing this module is cheap (no pandas): implementations import the diagnostics and the
actions inside the functions, so ``rollbook runbook validate`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PARAM_KINDS = ("number", "string", "bool", "list", "mapping", "any")


@dataclass(frozen=True)
class Param:
    kind: str = "any"
    required: bool = False
    help: str = ""


@dataclass(frozen=True)
class CheckOutcome:
    """What a check found. ``values`` feed ``pass_if`` (as ``result``); ``evidence`` is what
    the TUI, the timeline and the post-mortem show (JSON-safe: no NaN). ``healthy`` is the
    check's own verdict, used when the step has no ``pass_if``."""

    summary: str
    values: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    healthy: bool | None = None
    #: the signal the check reads had no data: neither a pass nor a finding (INCONCLUSIVE)
    no_data: bool = False


@dataclass(frozen=True)
class CheckSpec:
    name: str
    fn: Callable[..., CheckOutcome]
    params: dict[str, Param]
    help: str
    timeout_s: float | None = 30.0  # None: the check keeps its own deadline (recovery)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    fn: Callable[..., Any]
    params: dict[str, Param]
    help: str
    #: Needs a person's confirmation unless automatic (acknowledging does not).
    dangerous: bool = True
    #: Only where the environment has a simulated world (drills).
    world_only: bool = False


CHECKS: dict[str, CheckSpec] = {}
ACTIONS: dict[str, ActionSpec] = {}


def check(
    name: str,
    *,
    params: dict[str, Param] | None = None,
    help: str = "",
    timeout_s: float | None = 30.0,
) -> Callable:
    def register(fn: Callable[..., CheckOutcome]) -> Callable[..., CheckOutcome]:
        CHECKS[name] = CheckSpec(
            name, fn, dict(params or {}), help or (fn.__doc__ or ""), timeout_s
        )
        return fn

    return register


def action(
    name: str,
    *,
    params: dict[str, Param] | None = None,
    help: str = "",
    dangerous: bool = True,
    world_only: bool = False,
) -> Callable:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        ACTIONS[name] = ActionSpec(
            name, fn, dict(params or {}), help or (fn.__doc__ or ""), dangerous, world_only
        )
        return fn

    return register


def load_registries() -> tuple[dict[str, CheckSpec], dict[str, ActionSpec]]:
    """Import the built-in checks and actions (registering them) and return both maps."""
    import console.runbooks.actions  # noqa: F401
    import console.runbooks.checks  # noqa: F401

    return CHECKS, ACTIONS
