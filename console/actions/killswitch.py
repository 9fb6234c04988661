"""Kill switch: route the model down its fallback ladder — previous approved model →
rule-based model → manual review queue — probing each rung before switching to it, never
leaving the model with no route. ``restore`` puts back the routes the *first* of a stack of
kill switches replaced: ``--level manual`` then ``--level previous`` then ``restore`` returns
to the routes the model had before either."""

from __future__ import annotations

from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.plan import Check, Plan, same_routes, traffic_command
from console.actions.recorder import ActionRecorder
from console.actions.results import ActionResult, ReadBack
from console.backends.types import FallbackLevel
from console.enums import ActionKind, ActionStatus, EventKind
from console.errors import ActionRefused, RollbookError
from console.fleet import format_routes
from console.workspace import Workspace

LEVELS = ("previous", "rules", "manual")


def ladder(ws: Workspace, model: str, start: str | None = None) -> list[FallbackLevel]:
    levels = ws.backends.traffic.fallbacks(model)
    if not levels:
        raise ActionRefused(
            f"no fallback routes are configured for {model}",
            hint="configure the kill switch ladder for this model's traffic backend",
        )
    if start is not None:
        if start not in LEVELS:
            raise ActionRefused(
                f"unknown kill switch level {start!r}", hint=f"levels: {', '.join(LEVELS)}"
            )
        names = [lv.level for lv in levels]
        if start not in names:
            raise ActionRefused(
                f"{model} has no {start!r} fallback", hint=f"it has: {', '.join(names)}"
            )
        levels = levels[names.index(start) :]
    return levels


def plan_killswitch(
    ws: Workspace, model: str, level: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
) -> Plan:
    """Probe the rungs from ``level`` (default the first) down and take the first healthy one.
    A plan with no healthy rung is refused: a kill switch that leaves users with no answer is
    not a kill switch."""
    t = ws.backends.traffic
    before = call(t.routes, model, timeout=timeout, what="traffic.routes")
    rungs = ladder(ws, model, level)
    checks: list[Check] = []
    chosen = None
    for rung in rungs:
        try:
            h = call(t.probe, model, rung.route, timeout=timeout, what="traffic.probe")
            ok, detail = h.healthy, h.detail
        except RollbookError as exc:
            ok, detail = False, f"probe failed: {exc.message}"
        checks.append(
            Check(
                f"{rung.level}:{rung.route}",
                ok,
                detail or ("healthy" if ok else "unhealthy"),
                required=False,  # an unhealthy rung is passed over, not a refusal
            )
        )
        if ok:
            chosen = rung
            break
    standing = last_killswitch(ws, model)
    # a kill switch on top of a kill switch: restore still goes back to what the first one
    # replaced, not to the first fallback — also when the first was cut short (killed or
    # interrupted) after its traffic moved, before it was recorded as standing
    if standing:
        restores_to = dict(standing.get("restores_to") or standing["before"])
    else:
        restores_to = unfinished_restores_to(ws, model) or before
    common: dict[str, Any] = {
        "action": ActionKind.KILLSWITCH,
        "model": model,
        "routes_before": before,
        "ladder": tuple(r.level for r in rungs),
        "checks": tuple(checks),
        "restores_to": restores_to,
    }
    if chosen is None:
        tried = "; ".join(f"{c.name}: {c.detail}" for c in checks)
        return Plan(
            summary=f"kill switch {model}: no healthy fallback",
            rule="fallback_ladder",
            why=f"every rung was probed: {tried}",
            routes_after=before,
            refusal=f"no healthy fallback for {model} ({tried}); routes left as they were",
            **common,
        )
    after = {chosen.route: 100.0}
    return Plan(
        summary=f"kill switch {model} → {chosen.level} ({chosen.route})",
        rule="fallback_ladder",
        why=f"{chosen.level} is the first healthy rung of {' → '.join(r.level for r in rungs)}",
        routes_after=after,
        level=chosen.level,
        route=chosen.route,
        noop_reason=f"{model} already on fallback {chosen.level}"
        if same_routes(before, after)
        else "",
        finish=f"rollbook killswitch {model} --level {chosen.level} --yes",
        undo=traffic_command(model, restores_to),
        **common,
    )


def execute_killswitch(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    timeout: float,
    **_: Any,
) -> None:
    t = ws.backends.traffic
    after, before = plan.routes_after or {}, plan.routes_before or {}
    try:
        with rec.step("traffic", before=before) as s:
            call(
                t.set_routes,
                plan.model,
                after,
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes",
            )
            s.after = call(t.routes, plan.model, timeout=timeout, what="traffic.routes")
            if not same_routes(s.after, after):
                raise RollbookError(
                    f"traffic read back {format_routes(s.after)}, expected {format_routes(after)}"
                )
    except RollbookError as exc:
        try:
            now = call(t.routes, plan.model, timeout=timeout, what="traffic.routes")
        except RollbookError:
            now = None
        unchanged = now is not None and same_routes(now, before)
        state = "unchanged" if unchanged else "unknown"
        undo = traffic_command(plan.model, before)
        rec.event(
            "failed" if unchanged else "partial",
            f"kill switch failed ({state}): {exc.message}",
            error=exc.message,
            finish=plan.finish,
            undo=undo,
        )
        res.status = ActionStatus.FAILED if unchanged else ActionStatus.PARTIAL
        res.message = f"kill switch failed, routes {state}: {exc.message}"
        if not unchanged:
            res.finish, res.undo = plan.finish, undo
        return
    res.read_back = ReadBack(routes=s.after)
    rec.event(
        "finished",
        f"{plan.model} switched to {plan.level} ({plan.route})",
        level=plan.level,
        route=plan.route,
        before=before,
        after=s.after,
        restores_to=plan.restores_to,
        **{"from": _primary(before), "to": plan.route},
    )
    res.status = ActionStatus.APPLIED
    res.message = (
        f"{plan.model} now served by {plan.level} ({plan.route}), read back; U (or "
        f"rollbook restore {plan.model}) undoes it"
    )
    res.undo = f"rollbook restore {plan.model} --yes"


def unfinished_restores_to(ws: Workspace, model: str) -> dict[str, float] | None:
    """The routes an unfinished kill switch of ``model`` (``audit pending``) would restore
    to, if there is one."""
    from console.actions.pending import incomplete_actions

    for entry in incomplete_actions(ws, model):
        routes = (entry.get("plan") or {}).get("restores_to")
        if entry.get("action") == ActionKind.KILLSWITCH and routes:
            return {str(k): float(v) for k, v in routes.items()}
    return None


def _primary(routes: dict[str, float]) -> str | None:
    return max(routes, key=lambda k: routes[k]) if routes else None


ENDS_KILLSWITCH = ("restore", "rollback", "rollout")  # each routes traffic off the fallback


def standing_killswitches(ws: Workspace) -> dict[str, dict]:
    """model → the payload of the kill switch that still holds it (level, route, the routes
    it replaced, the routes a restore returns to): none of restore, rollback or rollout of
    that model has finished since. One pass over the audit log; the fleet, the incident title
    and ``restore`` all read it."""
    standing: dict[str, dict] = {}
    for ev in ws.store.events(all_incidents=True, kind_prefix=EventKind.ACTION_FINISHED):
        p = ev.payload
        model = p.get("model")
        if not model:
            continue
        if p.get("action") == "killswitch":
            standing[model] = p
        elif p.get("action") in ENDS_KILLSWITCH:
            standing.pop(model, None)
    return standing


def last_killswitch(ws: Workspace, model: str) -> dict | None:
    """The kill switch still holding ``model`` (with the routes it replaced), if any."""
    return standing_killswitches(ws).get(model)


def plan_restore(ws: Workspace, model: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> Plan:
    """Back to the routes the model had before its (first standing) kill switch."""
    ks = last_killswitch(ws, model)
    if ks is None:
        raise ActionRefused(
            f"no kill switch to undo for {model}",
            hint=f"see the routes with: rollbook status {model}",
        )
    target = {str(k): float(v) for k, v in (ks.get("restores_to") or ks["before"]).items()}
    before = call(ws.backends.traffic.routes, model, timeout=timeout, what="traffic.routes")
    return Plan(
        action=ActionKind.RESTORE,
        model=model,
        summary=f"restore {model}: {format_routes(before)} → {format_routes(target)}",
        rule="before_killswitch",
        why=f"the routes {model} had before the kill switch ({ks.get('level')})",
        routes_before=before,
        routes_after=target,
        noop_reason=f"{model} traffic already {format_routes(target)}"
        if same_routes(before, target)
        else "",
        finish=traffic_command(model, target),
        undo=traffic_command(model, before),
    )


def killswitch(
    ws: Workspace,
    model: str,
    *,
    level: str | None = None,
    dry_run: bool = False,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ActionResult:
    from console import mitigation

    return mitigation.run(
        ws,
        mitigation.Request(ActionKind.KILLSWITCH, model, level=level),
        dry_run=dry_run,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        automatic=automatic,
        timeout=timeout,
    )


def restore(
    ws: Workspace,
    model: str,
    *,
    dry_run: bool = False,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ActionResult:
    from console import mitigation

    return mitigation.run(
        ws,
        mitigation.Request(ActionKind.RESTORE, model),
        dry_run=dry_run,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        automatic=automatic,
        timeout=timeout,
    )
