"""Kill switch: route the model down its fallback ladder — previous approved model →
rule-based model → manual review queue — probing each rung before switching to it, never
leaving the model with no route. ``restore`` puts back the routes it replaced."""

from __future__ import annotations

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.policy import guard
from console.actions.recorder import ActionRecorder, incident_for
from console.actions.results import ActionResult, Check
from console.actions.rollback import same_routes, traffic_command
from console.errors import ActionRefused, RollbookError
from console.fleet import format_routes
from console.workspace import Workspace

LEVELS = ("previous", "rules", "manual")


def ladder(ws: Workspace, model: str, start: str | None = None):
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
            Check(f"{rung.level}:{rung.route}", ok, detail or ("healthy" if ok else "unhealthy"))
        )
        if ok:
            chosen = rung
            break
    plan = {
        "model": model,
        "traffic_before": before,
        "ladder": [r.level for r in rungs],
        "level": chosen.level if chosen else None,
        "route": chosen.route if chosen else None,
        "traffic_after": {chosen.route: 100.0} if chosen else before,
        "checks": [c.to_dict() for c in checks],
    }
    res = ActionResult("killswitch", model, "dry-run", "", plan=plan, checks=checks)
    if chosen is None:
        res.status = "refused"
        tried = "; ".join(f"{c.name}: {c.detail}" for c in checks)
        res.message = f"no healthy fallback for {model} ({tried}); routes left as they were"
        if not dry_run:
            rec = ActionRecorder(ws, "killswitch", model, incident_for(ws, model, incident_id))
            rec.event("refused", res.message, plan=plan)
            res.incident_id, res.action_id = rec.incident_id, rec.action_id
        return res
    if dry_run:
        res.message = f"would switch {model} to {chosen.level} ({chosen.route})"
        return res
    guard(ws, "killswitch", confirmed_by=confirmed_by, automatic=automatic)
    rec = ActionRecorder(ws, "killswitch", model, incident_for(ws, model, incident_id))
    res.incident_id, res.action_id, res.steps = rec.incident_id, rec.action_id, rec.steps
    after = {chosen.route: 100.0}
    if same_routes(before, after):
        rec.event("noop", f"{model} already on fallback {chosen.level}")
        res.status, res.message, res.verified = "noop", f"already on {chosen.level}", True
        return res
    rec.event(
        "requested",
        f"kill switch {model} → {chosen.level} ({chosen.route})",
        plan=plan,
        finish=f"rollbook killswitch {model} --level {chosen.level} --yes",
        undo=traffic_command(model, before),
    )
    try:
        with rec.step("traffic", before=before) as s:
            call(
                t.set_routes,
                model,
                after,
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes",
            )
            s.after = call(t.routes, model, timeout=timeout, what="traffic.routes")
            if not same_routes(s.after, after):
                raise RollbookError(
                    f"traffic read back {format_routes(s.after)}, expected {format_routes(after)}"
                )
    except RollbookError as exc:
        try:
            now = call(t.routes, model, timeout=timeout, what="traffic.routes")
        except RollbookError:
            now = None
        state = "unchanged" if now is not None and same_routes(now, before) else "unknown"
        rec.event(
            "partial" if state == "unknown" else "failed",
            f"kill switch failed ({state}): {exc.message}",
            error=exc.message,
            finish=f"rollbook killswitch {model} --level {chosen.level} --yes",
            undo=f"rollbook restore {model} --yes",
        )
        res.status = "partial" if state == "unknown" else "failed"
        res.message = f"kill switch failed, routes {state}: {exc.message}"
        res.finish = f"rollbook killswitch {model} --level {chosen.level} --yes"
        res.undo = f"rollbook restore {model} --yes"
        return res
    rec.event(
        "finished",
        f"{model} switched to {chosen.level} ({chosen.route})",
        level=chosen.level,
        route=chosen.route,
        before=before,
        after=s.after,
        **{"from": _primary(before), "to": chosen.route},
    )
    res.status, res.verified = "applied", True
    res.message = (
        f"{model} now served by {chosen.level} ({chosen.route}); restore with "
        f"rollbook restore {model}"
    )
    res.undo = f"rollbook restore {model} --yes"
    return res


def _primary(routes: dict[str, float]) -> str | None:
    return max(routes, key=routes.get) if routes else None


ENDS_KILLSWITCH = ("restore", "rollback", "rollout")  # each routes traffic off the fallback


def standing_killswitches(ws: Workspace) -> dict[str, dict]:
    """model → the payload of the kill switch that still holds it (level, route, the routes
    it replaced): none of restore, rollback or rollout of that model has finished since.
    One pass over the audit log; the fleet, the incident title and ``restore`` all read it."""
    standing: dict[str, dict] = {}
    for ev in ws.store.events(all_incidents=True, kind_prefix="action.finished"):
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


def restore(
    ws: Workspace,
    model: str,
    *,
    dry_run: bool = False,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ActionResult:
    from console.actions.traffic import set_traffic

    ks = last_killswitch(ws, model)
    if ks is None:
        raise ActionRefused(
            f"no kill switch to undo for {model}",
            hint=f"see the routes with: rollbook status {model}",
        )
    return set_traffic(
        ws,
        model,
        ks["before"],
        dry_run=dry_run,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        action="restore",
        timeout=timeout,
    )
