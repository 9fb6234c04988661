"""An action's plan: what it will change, why, what was checked and what to know first.

One typed object for every action, computed once (``console.mitigation.plan``) and then shown
(``console.plans.plan_lines``: the CLI, the console's modal and the timeline use that one
renderer), executed, and stored on the timeline (``to_dict`` / ``from_dict``), so the finish
and undo commands of an action a crash interrupted come from the plan it was executing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

Routes = dict[str, float]


def same_routes(a: Routes | None, b: Routes | None) -> bool:
    """Equal weights on every route either side gives traffic to (0.01 % tolerance)."""
    a, b = a or {}, b or {}
    keys = {k for k, v in a.items() if v} | {k for k, v in b.items() if v}
    return all(abs(a.get(k, 0.0) - b.get(k, 0.0)) < 0.01 for k in keys)


def traffic_command(model: str, routes: Routes) -> str:
    """The ``rollbook traffic`` command that sets ``model``'s routes to ``routes``."""
    weights = " ".join(f"{k}={v:g}" for k, v in routes.items() if v)
    return f"rollbook traffic {model} {weights} --yes"


@dataclass(frozen=True)
class Check:
    """One preflight check: passed, failed, or failed and overridden by the person acting.
    A check that is not ``required`` only informs (a kill switch's unhealthy rung, passed
    over for the next one)."""

    name: str
    ok: bool
    detail: str
    overridden: bool = False
    required: bool = True

    @property
    def blocking(self) -> bool:
        return self.required and not self.ok and not self.overridden

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "overridden": self.overridden,
            "required": self.required,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        return cls(
            str(d["name"]),
            bool(d["ok"]),
            str(d.get("detail", "")),
            bool(d.get("overridden")),
            bool(d.get("required", True)),
        )


@dataclass(frozen=True)
class PlanWarning:
    """Something the person should know before pressing y. It never blocks: the person
    decides. ``code`` is stable for scripts (``no_change_before_onset``,
    ``recent_mitigation``, ``further_back``, ``unhealthy_fallback``…)."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class RecentMitigation:
    """A mitigation Rollbook applied to the model in the last hours."""

    action: str
    from_: str | None
    to: str | None
    at: str  # ISO 8601 UTC
    actor: str
    minutes_ago: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "from": self.from_,
            "to": self.to,
            "at": self.at,
            "actor": self.actor,
            "minutes_ago": self.minutes_ago,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecentMitigation:
        return cls(
            str(d.get("action")),
            d.get("from"),
            d.get("to"),
            str(d.get("at")),
            str(d.get("actor")),
            float(d.get("minutes_ago") or 0.0),
        )


@dataclass(frozen=True)
class Plan:
    """What an action will do. Fields an action does not use stay at their defaults.

    ``routes_*`` are traffic weights (route → %); ``pointer_*`` the registry's production
    version; ``rule`` names how the target was chosen and ``why`` says it in words. A plan
    with ``noop`` set changes nothing when executed; one with a ``refusal`` (or a blocking
    check) is refused when executed."""

    action: str
    model: str
    summary: str  # one line: "rollback churn v13 → v12"
    rule: str = ""
    why: str = ""
    routes_before: Routes | None = None
    routes_after: Routes | None = None
    pointer_before: str | None = None
    pointer_after: str | None = None
    checks: tuple[Check, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    alternatives: tuple[str, ...] = ()  # what else the runbook offers, named by a warning
    recent: tuple[RecentMitigation, ...] = ()
    noop_reason: str = ""  # executing changes nothing, and this says why
    refusal: str = ""  # executing is refused, and this says why
    further: str | None = None  # a rollback that is a no-op: the version further back
    # the kill switch
    level: str | None = None
    route: str | None = None
    ladder: tuple[str, ...] = ()
    restores_to: Routes | None = None  # the routes `restore` goes back to
    # rollout, stage, pointer
    version: str | None = None
    stage_before: str | None = None
    stage_after: str | None = None
    stages: tuple[float, ...] = ()
    dwell_minutes: float | None = None
    guardrails: dict[str, float] = field(default_factory=dict)
    # batch jobs
    paused_before: bool | None = None
    paused_after: bool | None = None
    # how to go on when it is interrupted half-way
    finish: str | None = None
    undo: str | None = None

    @property
    def noop(self) -> bool:
        return bool(self.noop_reason)

    @property
    def blocked(self) -> bool:
        return bool(self.refusal) or any(c.blocking for c in self.checks)

    @property
    def overrides(self) -> list[str]:
        return [c.name for c in self.checks if c.overridden]

    def with_(self, **changes: Any) -> Plan:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``--json`` and the timeline. ``from``/``to`` and ``traffic_before``/
        ``traffic_after`` are the names scripts have read since the first release."""
        return {
            "action": self.action,
            "model": self.model,
            "summary": self.summary,
            "rule": self.rule,
            "why": self.why,
            "from": self.pointer_before,
            "to": self.pointer_after,
            "traffic_before": self.routes_before,
            "traffic_after": self.routes_after,
            "checks": [c.to_dict() for c in self.checks],
            "warnings": [w.to_dict() for w in self.warnings],
            "alternatives": list(self.alternatives),
            "recent": [r.to_dict() for r in self.recent],
            "noop": self.noop_reason or None,
            "refusal": self.refusal or None,
            "further": self.further,
            "level": self.level,
            "route": self.route,
            "ladder": list(self.ladder),
            "restores_to": self.restores_to,
            "version": self.version,
            "stage_before": self.stage_before,
            "stage_after": self.stage_after,
            "stages": list(self.stages),
            "dwell_minutes": self.dwell_minutes,
            "guardrails": dict(self.guardrails),
            "paused_before": self.paused_before,
            "paused_after": self.paused_after,
            "finish": self.finish,
            "undo": self.undo,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """A plan read back from the timeline (unknown keys ignored, missing ones default)."""

        def routes(v: Any) -> Routes | None:
            return {str(k): float(w) for k, w in v.items()} if isinstance(v, dict) else None

        return cls(
            action=str(d.get("action") or ""),
            model=str(d.get("model") or ""),
            summary=str(d.get("summary") or ""),
            rule=str(d.get("rule") or ""),
            why=str(d.get("why") or ""),
            routes_before=routes(d.get("traffic_before")),
            routes_after=routes(d.get("traffic_after")),
            pointer_before=d.get("from"),
            pointer_after=d.get("to"),
            checks=tuple(Check.from_dict(c) for c in d.get("checks") or () if isinstance(c, dict)),
            warnings=tuple(
                PlanWarning(str(w.get("code")), str(w.get("message")))
                for w in d.get("warnings") or ()
                if isinstance(w, dict)
            ),
            alternatives=tuple(str(a) for a in d.get("alternatives") or ()),
            recent=tuple(
                RecentMitigation.from_dict(r) for r in d.get("recent") or () if isinstance(r, dict)
            ),
            noop_reason=str(d.get("noop") or ""),
            refusal=str(d.get("refusal") or ""),
            further=d.get("further"),
            level=d.get("level"),
            route=d.get("route"),
            ladder=tuple(d.get("ladder") or ()),
            restores_to=routes(d.get("restores_to")),
            version=d.get("version"),
            stage_before=d.get("stage_before"),
            stage_after=d.get("stage_after"),
            stages=tuple(float(s) for s in d.get("stages") or ()),
            dwell_minutes=d.get("dwell_minutes"),
            guardrails=dict(d.get("guardrails") or {}),
            paused_before=d.get("paused_before"),
            paused_after=d.get("paused_after"),
            finish=d.get("finish"),
            undo=d.get("undo"),
        )
