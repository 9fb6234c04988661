"""Does the registry agree with what serves? A production pointer naming a version that takes no
traffic while other versions do is a SPLIT state — what a partially applied rollback or a
traffic-only undo leaves behind. The fleet, ``rollbook status`` and ``rollbook audit pending``
all flag it, with the commands that reconcile it either way.

Not a split: a canary beside the production version (both take traffic), a kill switch that
holds (traffic is on a fallback on purpose), or a model with no traffic information.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES


@dataclass(frozen=True)
class Split:
    model: str
    production: str
    serving: dict[str, float]
    reconcile: tuple[str, ...]  # commands, registry-follows-traffic first

    @property
    def message(self) -> str:
        from console.fleet import format_routes

        return (
            f"⚠ SPLIT: the registry names {self.production} as production but traffic is "
            f"{format_routes(self.serving)}; reconcile with: " + "  or  ".join(self.reconcile)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "production": self.production,
            "serving": self.serving,
            "reconcile": list(self.reconcile),
            "message": self.message,
        }


def split_of(
    model: str,
    production: str | None,
    routes: dict[str, float] | None,
    *,
    killswitch: bool = False,
) -> Split | None:
    """The split between ``production`` and ``routes``, if there is one (see the module)."""
    if production is None or not routes or killswitch:
        return None
    versions = {
        k: w for k, w in routes.items() if w > 0 and k not in (FALLBACK_RULES, FALLBACK_MANUAL)
    }
    if not versions or production in versions:
        return None
    commands = []
    if len(versions) == 1:
        [serving] = versions
        commands.append(f"rollbook pointer {model} {serving} --yes")
    commands.append(f"rollbook traffic {model} {production}=100 --yes")
    return Split(model, production, dict(routes), tuple(commands))


def splits(ws: Any, model: str | None = None, *, timeout: float = 5.0) -> list[Split]:
    """Every model (or ``model``) whose registry disagrees with its traffic, read with a
    deadline per call; a model whose backends cannot be read is skipped (``status`` says
    which backend is DEGRADED)."""
    from console.actions.calls import call
    from console.errors import RollbookError
    from console.fleet import active_killswitches

    b = ws.backends
    names = [m.name for m in b.registry.models()] if model is None else [model]
    held = active_killswitches(ws)
    out = []
    for name in names:
        try:
            prod = call(
                b.registry.production_version, name, timeout=timeout, what="registry.production"
            )
            routes = call(b.traffic.routes, name, timeout=timeout, what="traffic.routes")
        except RollbookError:
            continue
        found = split_of(name, prod, routes, killswitch=name in held)
        if found is not None:
            out.append(found)
    return out
