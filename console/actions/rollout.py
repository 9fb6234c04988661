"""Progressive rollout: 10 → 25 → 50 → 100 % (configurable), judging the canary at each stage
against the champion with the two-proportion test (success = a request without error) and
guardrails (error rate, p99 latency, output diversity).

Rules (DOMAIN.md): a failed stage steps back one stage; a second failure aborts (all traffic
back to the champion); a severe signal — an error-rate spike, a latency SLO breach, constant
output — aborts at once. Reaching 100 % moves the registry's production pointer. Every
decision and its statistics go on the timeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.plan import Plan, same_routes, traffic_command
from console.actions.recorder import ActionRecorder
from console.actions.results import ActionResult, ReadBack
from console.clock import ManualClock
from console.enums import ActionKind, ActionStatus
from console.errors import ActionRefused, InvalidInput, RollbookError
from console.fleet import format_routes
from console.workspace import Workspace

INCONCLUSIVE_WAITS = 2  # extra dwells when a stage measured nothing on the canary
DEFAULT_STAGES = (10.0, 25.0, 50.0, 100.0)


@dataclass(frozen=True)
class Guardrails:
    error_rate_max: float = 0.05  # above: a failed stage; above 2×: severe, abort at once
    latency_p99_ms_max: float = 100.0  # the SLO: a breach is severe
    output_diversity_min: float = 0.1  # below: constant output, severe
    margin: float = 0.005  # non-inferiority margin on the success rate (0.5 pp)
    alpha: float = 0.05

    @classmethod
    def from_thresholds(cls, t: dict[str, float], **kw: Any) -> Guardrails:
        return cls(
            error_rate_max=t.get("error_rate_max", 0.05),
            latency_p99_ms_max=t.get("latency_p99_ms_max", 100.0),
            output_diversity_min=t.get("output_diversity_min", 0.1),
            **kw,
        )


@dataclass
class StageJudgement:
    weight: float
    passed: bool
    severe: bool
    reasons: list[str]
    stats: dict[str, Any] = field(default_factory=dict)
    inconclusive: bool = False  # nothing measured yet: neither a pass nor a strike

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "passed": self.passed,
            "severe": self.severe,
            "reasons": self.reasons,
            "stats": self.stats,
            "inconclusive": self.inconclusive,
        }


def parse_stages(text: str) -> tuple[float, ...]:
    try:
        stages = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InvalidInput(f"stages {text!r} are not numbers", hint="e.g. 10,25,50,100") from None
    if (
        not stages
        or stages[-1] != 100
        or any(not 0 < s <= 100 for s in stages)
        or list(stages) != sorted(set(stages))
    ):
        raise InvalidInput(f"stages {text!r} must rise strictly and end at 100")
    return stages


def _window(ws: Workspace, model: str, version: str, minutes: float) -> dict[str, float | None]:
    """Requests, mean error rate, worst p99 and mean output diversity of one version over the
    last ``minutes``."""
    m = ws.backends.metrics
    end = ws.now()
    start = end - timedelta(minutes=minutes)

    def series(signal: str) -> list[float]:
        return [
            p.value
            for p in m.query_range(signal, model, start, end, step_seconds=60, version=version)
            if p.value is not None
        ]

    rate, err = series("request_rate"), series("error_rate")
    p99, div = series("latency_p99_ms"), series("output_diversity")
    return {
        "requests": sum(rate) if rate else 0.0,
        "error_rate": sum(err) / len(err) if err else None,
        "latency_p99_ms": max(p99) if p99 else None,
        "output_diversity": sum(div) / len(div) if div else None,
    }


def judge(
    ws: Workspace,
    model: str,
    champion: str,
    canary: str,
    weight: float,
    minutes: float,
    g: Guardrails,
) -> StageJudgement:
    from console.diagnostics.canary import Arm, two_proportion_test

    c = _window(ws, model, champion, minutes)
    t = _window(ws, model, canary, minutes)
    stats: dict[str, Any] = {"champion": c, "canary": t, "minutes": minutes}
    if t["error_rate"] is None or not t["requests"]:
        return StageJudgement(
            weight, False, False, ["no canary traffic measured"], stats, inconclusive=True
        )
    reasons, severe = guardrail_breaches(t, g)
    if c["error_rate"] is not None and c["requests"]:
        n_c, n_t = int(c["requests"]), int(t["requests"])
        control = Arm(round(n_c * (1 - c["error_rate"])), n_c)
        treatment = Arm(round(n_t * (1 - t["error_rate"])), n_t)
        test = two_proportion_test(control, treatment, alpha=g.alpha, margin=g.margin)
        stats["canary_test"] = test.to_dict()
        if not test.non_inferior:
            reasons.append(
                f"success rate {test.treatment_rate:.2%} vs champion "
                f"{test.control_rate:.2%}: not shown within {g.margin:.1%} "
                f"(non-inferiority p = {test.non_inferiority_p_value:.3g})"
            )
    return StageJudgement(weight, not reasons, severe, reasons, stats)


def plan_rollout(
    ws: Workspace,
    model: str,
    version: str,
    *,
    stages: tuple[float, ...] = DEFAULT_STAGES,
    dwell_minutes: float = 10.0,
    guardrails: Guardrails | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Plan:
    g = guardrails or Guardrails.from_thresholds(dict(ws.config.thresholds))
    reg, t = ws.backends.registry, ws.backends.traffic
    champion = call(reg.production_version, model, timeout=timeout, what="registry.production")
    call(reg.version, model, version, timeout=timeout, what="registry.version")  # NotFound
    before = call(t.routes, model, timeout=timeout, what="traffic.routes")
    # the finish of a rollout cut short after its registry step: nothing is left to do (a
    # no-op that settles it in `audit pending`); otherwise rolling out production is refused
    done = (
        champion == version
        and same_routes(before, {version: 100.0})
        and _unfinished_rollout_of(ws, model, version)
    )
    if champion is None or (champion == version and not done):
        raise ActionRefused(
            f"{version} is already production for {model}"
            if champion == version
            else f"{model} has no production version to compare with"
        )
    path = " → ".join(f"{s:g}%" for s in stages)
    # Recorded up front: a rollout killed between stages leaves traffic split, and
    # `rollbook audit pending` must be able to say how to finish or undo it.
    finish = (
        f"rollbook rollout {model} {version} --stages {','.join(f'{x:g}' for x in stages)}"
        f" --dwell {dwell_minutes:g}"
        + (f" --margin {g.margin:g}" if g.margin != Guardrails.margin else "")
        + (f" --alpha {g.alpha:g}" if g.alpha != Guardrails.alpha else "")
        + " --yes"
    )
    return Plan(
        action=ActionKind.ROLLOUT,
        model=model,
        summary=f"rollout {model} {version}: {path}",
        rule="progressive",
        why=f"{version} is judged against the champion {champion} at each stage; the first "
        "failure steps back one stage, the second aborts; a severe signal aborts at once",
        routes_before=before,
        routes_after={version: 100.0},
        pointer_before=champion,
        pointer_after=version,
        version=version,
        stages=tuple(stages),
        dwell_minutes=dwell_minutes,
        guardrails=dict(g.__dict__),
        finish=finish,
        # the pointer too: a rollout cut short after its registry step has moved it
        undo=traffic_command(model, {champion: 100.0})
        + f" && rollbook pointer {model} {champion} --yes",
        noop_reason=f"{version} already serves 100% of {model} and is production" if done else "",
    )


def _unfinished_rollout_of(ws: Workspace, model: str, version: str) -> bool:
    from console.actions.pending import incomplete_actions

    return any(
        e.get("action") == ActionKind.ROLLOUT and (e.get("plan") or {}).get("version") == version
        for e in incomplete_actions(ws, model)
    )


def execute_rollout(
    ws: Workspace,
    plan: Plan,
    rec: ActionRecorder,
    res: ActionResult,
    *,
    timeout: float,
    wait: Callable[[float], None] | None = None,
    **_: Any,
) -> None:
    """Advance the plan's version stage by stage. ``wait(seconds)`` lets the canary collect
    traffic (default: advance a ManualClock, else wait on the environment's clock)."""
    g = Guardrails(**plan.guardrails) if plan.guardrails else Guardrails()
    reg, t = ws.backends.registry, ws.backends.traffic
    model, version = plan.model, plan.version or ""
    champion = plan.pointer_before or ""
    stages, dwell_minutes = plan.stages, plan.dwell_minutes or 10.0
    sleep = wait or _waiter(ws)
    back_home = f"rollbook traffic {model} {champion}=100 --yes"

    def route(weight: float) -> None:
        weights = {champion: 100.0 - weight, version: weight} if weight < 100 else {version: 100.0}
        weights = {k: v for k, v in weights.items() if v > 0}
        with rec.step(f"traffic {weight:g}%", before=call(t.routes, model, timeout=timeout)) as s:
            call(
                t.set_routes,
                model,
                weights,
                actor=ws.actor,
                timeout=timeout,
                what="traffic.set_routes",
            )
            s.after = call(t.routes, model, timeout=timeout, what="traffic.routes")
            if not same_routes(s.after, weights):
                raise RollbookError(
                    f"traffic read back {format_routes(s.after)}, expected {format_routes(weights)}"
                )

    def abort(why: str) -> None:
        try:
            route(0.0)  # everything back on the champion, read back
        except RollbookError as exc:
            rec.event(
                "partial",
                f"ABORT could not restore traffic: {exc.message}",
                finish=back_home,
                undo=back_home,
            )
            res.status = ActionStatus.PARTIAL
            res.message = f"aborted, but traffic is not restored: {why}"
            res.finish = res.undo = back_home
            return
        rec.event(
            "failed",
            f"rollout of {version} aborted: {why}",
            **{"from": champion, "to": champion, "aborted": version},
        )
        res.status = ActionStatus.FAILED
        res.message = f"rollout aborted, traffic back on {champion}: {why}"

    strikes, i = 0, 0
    while i < len(stages):
        weight = stages[i]
        try:
            route(weight)
        except RollbookError as exc:
            return abort(f"traffic change to {weight:g}% failed: {exc.message}")
        for extra in range(1 + INCONCLUSIVE_WAITS):
            sleep(dwell_minutes * 60)
            minutes = dwell_minutes * (extra + 1)
            j = (
                judge(ws, model, champion, version, weight, minutes, g)
                if weight < 100
                else _judge_full(ws, model, version, minutes, g)
            )
            if not j.inconclusive:
                break
            if extra < INCONCLUSIVE_WAITS:  # too early to tell: not a strike, wait again
                rec.event(
                    "decision",
                    f"stage {weight:g}%: nothing measured on {version} yet "
                    f"after {minutes:g} min — waiting another {dwell_minutes:g} min",
                    stage=j.to_dict(),
                    strikes=strikes,
                )
        else:
            return abort(
                f"no traffic measured on {version} at {weight:g}% after "
                f"{dwell_minutes * (1 + INCONCLUSIVE_WAITS):g} min: is it receiving "
                "requests, and are its metrics scraped?"
            )
        verdict = "passed" if j.passed else ("SEVERE" if j.severe else "failed")
        rec.event(
            "decision",
            f"stage {weight:g}%: {verdict}" + (f" — {'; '.join(j.reasons)}" if j.reasons else ""),
            stage=j.to_dict(),
            strikes=strikes + (0 if j.passed else 1),
        )
        if j.passed:
            i += 1
            continue
        if j.severe:
            return abort(f"severe signal at {weight:g}%: {'; '.join(j.reasons)}")
        strikes += 1
        if strikes >= 2:
            return abort(f"second failure at {weight:g}% (two strikes): {'; '.join(j.reasons)}")
        back = stages[i - 1] if i > 0 else 0.0
        rec.event(
            "decision",
            f"first strike: stepping back to {back:g}%",
            stage=j.to_dict(),
            strikes=strikes,
        )
        if i > 0:
            i -= 1  # the loop re-enters the lower stage, judges it, then advances again
            continue
        try:  # failed at the first stage: back to the champion alone, then try again
            route(0.0)
        except RollbookError as exc:
            return abort(f"stepping back failed: {exc.message}")
        sleep(dwell_minutes * 60)
    try:
        with rec.step("registry", before=champion) as s:
            call(
                reg.set_production,
                model,
                version,
                actor=ws.actor,
                reason=f"rollout complete ({' → '.join(f'{x:g}%' for x in stages)})",
                timeout=timeout,
                what="registry.set_production",
            )
            s.after = call(reg.production_version, model, timeout=timeout)
    except RollbookError as exc:
        finish = f"rollbook pointer {model} {version} --yes"
        rec.event(
            "partial",
            f"PARTIALLY APPLIED: traffic is on {version} but the registry "
            f"still names {champion}: {exc.message}",
            finish=finish,
            undo=back_home,
        )
        res.status = ActionStatus.PARTIAL
        res.message = "traffic on the new version; registry not moved"
        res.finish, res.undo = finish, back_home
        return
    res.read_back = ReadBack(routes={version: 100.0}, production=s.after)
    rec.event(
        "finished",
        f"rolled {version} out to 100% of {model}; production is {version}",
        **{"from": champion, "to": version, "strikes": strikes},
    )
    res.status = ActionStatus.APPLIED
    res.message = f"{version} serves 100% of {model} and is production" + (
        f" (after {strikes} strike)" if strikes else ""
    )


def rollout(
    ws: Workspace,
    model: str,
    version: str,
    *,
    stages: tuple[float, ...] = DEFAULT_STAGES,
    dwell_minutes: float = 10.0,
    guardrails: Guardrails | None = None,
    incident_id: str | None = None,
    confirmed_by: str | None = None,
    automatic: bool = False,
    dry_run: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    wait: Callable[[float], None] | None = None,
) -> ActionResult:
    from console import mitigation

    return mitigation.run(
        ws,
        mitigation.Request(
            ActionKind.ROLLOUT,
            model,
            version=version,
            stages=stages,
            dwell_minutes=dwell_minutes,
            guardrails=guardrails,
        ),
        dry_run=dry_run,
        incident_id=incident_id,
        confirmed_by=confirmed_by,
        automatic=automatic,
        timeout=timeout,
        wait=wait,
    )


def guardrail_breaches(w: dict[str, float | None], g: Guardrails) -> tuple[list[str], bool]:
    """What one version's window breaks: ``(reasons, severe)``. Severe — an error-rate spike
    (over twice the limit), a latency SLO breach, constant output — aborts at once."""
    reasons: list[str] = []
    severe = False
    err, p99, div = w["error_rate"], w["latency_p99_ms"], w["output_diversity"]
    if err is not None and err > 2 * g.error_rate_max:
        severe = True
        reasons.append(f"error-rate spike: {err:.1%} (> 2 × {g.error_rate_max:.0%})")
    elif err is not None and err > g.error_rate_max:
        reasons.append(f"error rate {err:.1%} above {g.error_rate_max:.0%}")
    if p99 is not None and p99 > g.latency_p99_ms_max:
        severe = True
        reasons.append(f"latency SLO breach: p99 {p99:.0f} ms (> {g.latency_p99_ms_max:.0f} ms)")
    if div is not None and div < g.output_diversity_min:
        severe = True
        reasons.append(f"constant output: diversity {div:.3f}")
    return reasons, severe


def _judge_full(
    ws: Workspace, model: str, version: str, minutes: float, g: Guardrails
) -> StageJudgement:
    """At 100 % there is no champion traffic to compare with: guardrails only."""
    w = _window(ws, model, version, minutes)
    reasons, severe = guardrail_breaches(w, g)
    return StageJudgement(100.0, not reasons, severe, reasons, {"canary": w, "minutes": minutes})


def _waiter(ws: Workspace) -> Callable[[float], None]:
    clock = ws.clock
    if isinstance(clock, ManualClock):
        manual = clock

        def advance(seconds: float) -> None:
            manual.advance(seconds=seconds)

        return advance
    return lambda seconds: wait_on_clock(ws, seconds)


FIRST_LOOK_S = 0.05  # wall seconds before the clock's rate is known


def wait_on_clock(ws: Workspace, seconds: float, *, poll: float = 1.0) -> None:
    """Wait until the workspace's clock has moved ``seconds`` on: wall time on a live
    environment, simulated time in a sped-up simulated world (a 10-minute dwell in a world
    running at 60× takes 10 s). The clock's rate (simulated seconds per wall second) is
    measured on the way, so a fast world's wait does not overshoot by a whole ``poll``: at
    3000× a one-minute dwell takes 0.02 s, not one second (50 simulated minutes)."""
    start_wall, start = time.monotonic(), ws.now().timestamp()
    end = start + seconds
    first = True
    while (left := end - (now := ws.now().timestamp())) > 0:
        elapsed = time.monotonic() - start_wall
        rate = (now - start) / elapsed if elapsed > 0 and now > start else 0.0
        wall_left = left / rate if rate > 0 else (min(left, FIRST_LOOK_S) if first else left)
        time.sleep(max(0.0, min(poll, wall_left)))
        first = False
