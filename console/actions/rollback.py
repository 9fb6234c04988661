"""Emergency rollback: traffic first (stops the bleeding), then the registry's production
pointer; both read back and the target probed. Idempotent.

When the registry step fails after traffic moved, the traffic stays on the known-good target
(undoing it would restore the harm) and the action ends explicitly *partially applied* with
the exact commands that finish or undo it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.history import previous_good, recent_mitigations, standing_rollback
from console.actions.policy import guard
from console.actions.recorder import ActionRecorder, incident_for
from console.actions.results import ActionResult, Check
from console.errors import ActionRefused, NotFound, RollbookError
from console.fleet import format_routes
from console.workspace import Workspace

OVERRIDABLE = ("exists", "artifact", "gates", "health")


@dataclass
class RollbackPlan:
    model: str
    from_version: str | None
    to_version: str
    routes_before: dict[str, float]
    routes_after: dict[str, float]
    checks: list[Check] = field(default_factory=list)
    recent: list[dict] = field(default_factory=list)  # history.recent_mitigations
    # history.standing_rollback: the rollback that already brought the model to to_version
    already: dict | None = None
    further: str | None = None  # the version a rollback past ``already`` would go to

    @property
    def blocked(self) -> bool:
        return any(c.blocking for c in self.checks)

    @property
    def noop(self) -> bool:
        return (
            same_routes(self.routes_before, self.routes_after)
            and self.from_version == self.to_version
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "from": self.from_version,
            "to": self.to_version,
            "traffic_before": self.routes_before,
            "traffic_after": self.routes_after,
            "registry_before": self.from_version,
            "registry_after": self.to_version,
            "checks": [c.to_dict() for c in self.checks],
            "recent": self.recent,
            "already_rolled_back": self.already,
            "further": self.further,
        }

    def noop_message(self) -> str:
        if not self.already:
            return f"{self.model} already on {self.to_version}; nothing changed"
        a = self.already
        further = (
            f"to go further back name the version: --to {self.further}"
            if self.further
            else "there is no earlier good version to go further back to"
        )
        return (
            f"{self.model} was already rolled back {a['from']} → {a['to']} "
            f"{a['minutes_ago']:g} min ago by {a['actor']}; nothing changed — {further}"
        )


def same_routes(a: dict[str, float], b: dict[str, float]) -> bool:
    keys = {k for k, v in a.items() if v} | {k for k, v in b.items() if v}
    return all(abs(a.get(k, 0.0) - b.get(k, 0.0)) < 0.01 for k in keys)


def preflight(
    ws: Workspace,
    model: str,
    target: str,
    overrides: tuple[str, ...] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[Check]:
    """Exists, artifact hash matches lineage, gates passed, healthy — each a Check."""
    unknown = set(overrides) - set(OVERRIDABLE)
    if unknown:
        raise ActionRefused(
            f"cannot override {', '.join(sorted(unknown))}",
            hint=f"overridable checks: {', '.join(OVERRIDABLE)}",
        )
    reg, traffic = ws.backends.registry, ws.backends.traffic

    def check(name: str, ok: bool, detail: str) -> Check:
        return Check(name, ok, detail, overridden=(not ok and name in overrides))

    try:
        mv = call(reg.version, model, target, timeout=timeout, what="registry.version")
    except NotFound:
        return [check("exists", False, f"{model} has no version {target}")]
    checks = [check("exists", True, f"{model} {target} is in the registry (stage {mv.stage})")]
    checks.append(_artifact_check(reg, model, target, mv.lineage.artifact_hash, check, timeout))
    failed = [g for g, ok in mv.lineage.gates.items() if not ok]
    checks.append(
        check(
            "gates",
            bool(mv.lineage.gates) and not failed,
            "all gates passed"
            if mv.lineage.gates and not failed
            else f"gates failed: {', '.join(failed)}"
            if failed
            else "no gate results",
        )
    )
    try:
        h = call(traffic.probe, model, target, timeout=timeout, what="traffic.probe")
        checks.append(
            check("health", h.healthy, h.detail or ("healthy" if h.healthy else "unhealthy"))
        )
    except RollbookError as exc:
        checks.append(check("health", False, f"probe failed: {exc.message}"))
    return checks


def _artifact_check(reg, model: str, target: str, recorded: str, check, timeout: float) -> Check:
    """The stored artifact's hash against the lineage record. A hash that cannot be had
    (none recorded, the registry cannot compute one, or computing it failed or ran out of
    time) passes as "not available", with the reason: it proves nothing either way."""
    unavailable = "artifact hash not available to compare"
    if not recorded:
        # Nothing to compare with: do not make the registry fetch the artifact for nothing.
        return check("artifact", True, f"{unavailable}: the lineage records none")
    try:
        stored = call(reg.artifact_check, model, target, timeout=timeout, what="registry.artifact")
    except RollbookError as exc:
        return check("artifact", True, f"{unavailable}: {exc.message}")
    if stored.value is None:
        return check(
            "artifact", True, unavailable + (f": {stored.reason}" if stored.reason else "")
        )
    if stored.value == recorded:
        return check("artifact", True, "artifact hash matches lineage")
    return check("artifact", False, f"artifact hash {stored.value[:12]} ≠ lineage {recorded[:12]}")


def plan_rollback(
    ws: Workspace,
    model: str,
    to: str | None = None,
    overrides: tuple[str, ...] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> RollbackPlan:
    reg, traffic = ws.backends.registry, ws.backends.traffic
    current = call(reg.production_version, model, timeout=timeout, what="registry.production")
    routes = call(traffic.routes, model, timeout=timeout, what="traffic.routes")
    if to is not None:
        to = _version_name(ws, model, to, timeout)
    # Idempotent: when the last production move was a rollback to the current version and
    # traffic is still all on it, rolling back again (without naming a version) changes
    # nothing. Going further back takes an explicit --to.
    already = None
    if current and (to is None or to == current) and same_routes(routes, {current: 100.0}):
        already = standing_rollback(ws, model, current)
    target = to or (current if already else previous_good(ws, model, current))
    if target is None:
        raise ActionRefused(
            f"no earlier good version of {model} to roll back to",
            hint="name one with --to VERSION, or use the kill switch",
        )
    return RollbackPlan(
        model,
        current,
        target,
        routes,
        {target: 100.0},
        preflight(ws, model, target, overrides, timeout=timeout),
        recent_mitigations(ws, model),
        already=already,
        further=previous_good(ws, model, current) if already else None,
    )


def _version_name(ws: Workspace, model: str, to: str, timeout: float) -> str:
    """``--to 13`` means ``v13`` when the registry's versions are v-prefixed and 13 is not a
    version itself."""
    names = {
        v.version
        for v in call(
            ws.backends.registry.versions, model, timeout=timeout, what="registry.versions"
        )
    }
    if to not in names and f"v{to}" in names:
        return f"v{to}"
    return to


def _refusal(plan: RollbackPlan) -> str:
    bad = [c for c in plan.checks if c.blocking]
    return (
        "; ".join(f"{c.name}: {c.detail}" for c in bad)
        + f" (override with --override {bad[0].name} if you are sure)"
    )


def traffic_command(model: str, routes: dict[str, float]) -> str:
    """The ``rollbook traffic`` command that sets ``model``'s routes to ``routes``."""
    weights = " ".join(f"{k}={v:g}" for k, v in routes.items() if v)
    return f"rollbook traffic {model} {weights} --yes"


def commands(model: str, plan: RollbackPlan) -> tuple[str, str]:
    finish = f"rollbook rollback {model} --to {plan.to_version} --yes"
    undo = traffic_command(model, plan.routes_before)
    if plan.from_version:
        undo += f" && rollbook pointer {model} {plan.from_version} --yes"
    return finish, undo


def rollback(
    ws: Workspace,
    model: str,
    *,
    to: str | None = None,
    dry_run: bool = False,
    overrides: tuple[str, ...] = (),
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    reason: str = "",
) -> ActionResult:
    plan = plan_rollback(ws, model, to, overrides, timeout=timeout)
    res = ActionResult(
        "rollback", model, "dry-run", "", plan=plan.to_dict(), checks=plan.checks, dry_run=dry_run
    )
    if dry_run:
        if plan.noop:
            res.message = f"would do nothing: {plan.noop_message()}"
        elif plan.blocked:  # the real run would refuse: so does its dry run (exit 1)
            names = ", ".join(c.name for c in plan.checks if c.blocking)
            res.status = "refused"
            res.message = f"would be REFUSED (preflight: {names}): {_refusal(plan)}"
        else:
            res.message = f"would roll {model} back {plan.from_version} → {plan.to_version}"
        return res
    guard(ws, "rollback", confirmed_by=confirmed_by, automatic=automatic)
    rec = ActionRecorder(ws, "rollback", model, incident_for(ws, model, incident_id))
    res.incident_id, res.action_id, res.steps = rec.incident_id, rec.action_id, rec.steps
    res.finish, res.undo = commands(model, plan)
    if plan.noop:
        res.status, res.message, res.verified = "noop", plan.noop_message(), True
        rec.event(
            "noop",
            res.message,
            **{
                "from": plan.from_version,
                "to": plan.to_version,
                "already_rolled_back": plan.already,
                "further": plan.further,
            },
        )
        return res
    if plan.blocked:
        bad = [c for c in plan.checks if c.blocking]
        rec.event(
            "refused", "preflight failed: " + "; ".join(c.detail for c in bad), plan=plan.to_dict()
        )
        res.status, res.message = "refused", f"preflight failed: {_refusal(plan)}"
        return res
    rec.event(
        "requested",
        f"rollback {model} {plan.from_version} → {plan.to_version}",
        plan=plan.to_dict(),
        reason=reason,
        overrides=[c.name for c in plan.checks if c.overridden],
    )
    confirmer = (confirmed_by or "").strip() or ws.actor
    rec.event(
        "confirmed",
        f"confirmed by {confirmer}" + (" (automatic)" if automatic else ""),
        confirmed_by=confirmer,
        automatic=automatic,
    )
    if not _shift_traffic(ws, rec, plan, res, timeout):
        return res
    if not _move_pointer(ws, rec, plan, res, timeout, reason):
        return res
    _verify(ws, rec, plan, res, timeout)
    return res


def _shift_traffic(
    ws, rec: ActionRecorder, plan: RollbackPlan, res: ActionResult, timeout: float
) -> bool:
    traffic = ws.backends.traffic
    if same_routes(plan.routes_before, plan.routes_after):
        rec.event(
            "step",
            "traffic already on target",
            step={
                "name": "traffic",
                "ok": True,
                "skipped": True,
                "before": plan.routes_before,
                "after": plan.routes_before,
            },
        )
        return True
    try:
        with rec.step("traffic", before=plan.routes_before) as s:
            call(
                traffic.set_routes,
                plan.model,
                plan.routes_after,
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes",
            )
            s.after = call(traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
            if not same_routes(s.after, plan.routes_after):
                raise RollbookError(f"traffic read back {s.after}, expected {plan.routes_after}")
        return True
    except RollbookError as exc:
        failure = exc.message
    # The write failed or did not stick. Where is traffic now?
    try:
        now = call(traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
    except RollbookError:
        now = None
    if now is not None and same_routes(now, plan.routes_before):
        rec.event(
            "failed",
            f"traffic change failed; nothing changed: {failure}",
            error=failure,
            state="unchanged",
        )
        res.status, res.message = "failed", f"traffic change failed, nothing changed: {failure}"
        return False
    try:
        call(
            traffic.set_routes,
            plan.model,
            plan.routes_before,
            actor=ws.actor,
            timeout=timeout,
            what="traffic.set_routes (compensate)",
        )
        back = call(traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
        if not same_routes(back, plan.routes_before):
            raise RollbookError(f"traffic read back {back} after restoring")
        rec.event(
            "failed",
            f"traffic change failed; restored the previous routes: {failure}",
            error=failure,
            state="compensated",
            after=back,
        )
        res.status = "compensated"
        res.message = f"traffic change failed and was undone (routes restored): {failure}"
    except RollbookError as exc2:
        _partial(
            rec,
            res,
            plan,
            f"traffic is in an unknown state ({now}); restoring failed: "
            f"{exc2.message}; first error: {failure}",
        )
    return False


def _move_pointer(
    ws, rec: ActionRecorder, plan: RollbackPlan, res: ActionResult, timeout: float, reason: str
) -> bool:
    reg = ws.backends.registry
    try:
        with rec.step("registry", before=plan.from_version) as s:
            if plan.from_version != plan.to_version:
                call(
                    reg.set_production,
                    plan.model,
                    plan.to_version,
                    actor=ws.actor,
                    reason=reason or "emergency rollback",
                    timeout=timeout,
                    what="registry.set_production",
                )
            s.after = call(
                reg.production_version, plan.model, timeout=timeout, what="registry.production"
            )
            if s.after != plan.to_version:
                raise RollbookError(f"registry reads back {s.after}, expected {plan.to_version}")
        return True
    except RollbookError as exc:
        _partial(
            rec,
            res,
            plan,
            f"traffic is on {plan.to_version} but the registry still "
            f"names {plan.from_version} as production: {exc.message}",
        )
        return False


def _partial(rec: ActionRecorder, res: ActionResult, plan: RollbackPlan, why: str) -> None:
    finish, undo = commands(plan.model, plan)
    rec.event(
        "partial",
        f"PARTIALLY APPLIED: {why}",
        finish=finish,
        undo=undo,
        **{"from": plan.from_version, "to": plan.to_version},
    )
    res.status, res.message, res.finish, res.undo = (
        "partial",
        f"partially applied: {why}",
        finish,
        undo,
    )


def _tag_versions(ws, rec: ActionRecorder, plan: RollbackPlan, timeout: float) -> None:
    """Mark both versions in the registry as involved in the incident (registries with the
    ``tags`` capability). Best effort: the rollback is done; a failure here is noted."""
    reg = ws.backends.registry
    if rec.incident_id is None or "tags" not in reg.capabilities:
        return
    tags = [(plan.from_version, "rolled back from"), (plan.to_version, "rolled back to")]
    try:
        for version, role in tags:
            if version:
                call(
                    reg.tag_version,
                    plan.model,
                    version,
                    f"rollbook.incident.{rec.incident_id}",
                    role,
                    timeout=timeout,
                    what="registry.tag_version",
                )
    except RollbookError as exc:
        ws.store.append(
            rec.incident_id,
            "note",
            f"could not tag the versions in the registry: {exc.message}",
            actor="rollbook",
            at=ws.now(),
        )


def _verify(ws, rec: ActionRecorder, plan: RollbackPlan, res: ActionResult, timeout: float) -> None:
    b = ws.backends
    with rec.step("verify") as s:
        routes = call(b.traffic.routes, plan.model, timeout=timeout, what="traffic.routes")
        prod = call(
            b.registry.production_version, plan.model, timeout=timeout, what="registry.production"
        )
        try:
            health = call(
                b.traffic.probe, plan.model, plan.to_version, timeout=timeout, what="traffic.probe"
            )
            healthy, detail = health.healthy, health.detail
        except RollbookError as exc:
            healthy, detail = False, exc.message
        s.after = {"routes": routes, "production": prod, "healthy": healthy}
    agree = same_routes(routes, plan.routes_after) and prod == plan.to_version
    res.verified = agree and healthy
    rec.event(
        "verified" if res.verified else "failed",
        f"{plan.model}: traffic {format_routes(routes)}, registry {prod}, target "
        f"{'healthy' if healthy else 'UNHEALTHY: ' + detail}",
        routes=routes,
        production=prod,
        healthy=healthy,
    )
    rec.event(
        "finished",
        f"rolled back {plan.model} {plan.from_version} → {plan.to_version}",
        **{
            "from": plan.from_version,
            "to": plan.to_version,
            "before": {"routes": plan.routes_before, "production": plan.from_version},
            "after": {"routes": routes, "production": prod},
            "duration_ms": round(sum(st.duration_ms for st in rec.steps), 2),
            "verified": res.verified,
        },
    )
    _tag_versions(ws, rec, plan, timeout)
    res.status = "applied"
    res.message = f"rolled back {plan.model} {plan.from_version} → {plan.to_version}; " + (
        "verified: traffic and registry agree, target healthy"
        if res.verified
        else "NOT verified: " + detail
    )
