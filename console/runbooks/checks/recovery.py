"""Checks that wait: a signal back within its threshold, an alert cleared. On a manual
clock (tests, ``--auto`` drills) they advance simulated time poll by poll; on a live clock
they sleep between reads until their own deadline."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from console.errors import BackendError, InvalidInput
from console.runbooks.checks.signals import compare, fmt, mean_over, query
from console.runbooks.context import StepContext
from console.runbooks.registry import CheckOutcome, Param, check

#: On a live clock a waiting check holds the terminal at most this long (wall seconds), then
#: reports "not yet": run the step again later.
LIVE_WAIT_S = 20.0


class Waiter:
    """Polls until ``deadline`` (simulated): advances a manual clock by ``poll`` seconds
    per round; on a live clock sleeps, and gives up after ``LIVE_WAIT_S`` wall seconds."""

    def __init__(self, ctx: StepContext, deadline_minutes: float, poll: float) -> None:
        self.ctx, self.poll = ctx, poll
        self.manual = ctx.manual_clock
        self.started = ctx.now()
        self.deadline = self.started + timedelta(minutes=deadline_minutes)
        self.wall_start = time.monotonic()
        self.gave_up_early = False

    def again(self) -> bool:
        """Wait one round; False when the time is up."""
        if self.ctx.now() >= self.deadline:
            return False
        if self.manual is not None:
            self.manual.advance(seconds=self.poll)
            return True
        if time.monotonic() - self.wall_start >= LIVE_WAIT_S:
            self.gave_up_early = True
            return False
        time.sleep(min(self.poll, 5.0))
        return True

    @property
    def minutes(self) -> float:
        return (self.ctx.now() - self.started).total_seconds() / 60.0

    def not_yet(self) -> str:
        return " — not yet; run the step again" if self.gave_up_early else ""


@check(
    "recovery",
    params={
        "signal": Param("string", True, "signal to watch"),
        "op": Param("string", False, "comparison that holds once recovered (default <=)"),
        "threshold": Param("number", False, "recovered when `value op threshold`"),
        "tolerance_pct": Param("number", False, "or: within this % of the pre-incident baseline"),
        "version": Param("string", False, "watch one version"),
        "deadline_minutes": Param("number", False, "give up after (default 15)"),
        "poll_seconds": Param("number", False, "between reads (default 60)"),
        "consecutive": Param("number", False, "good reads in a row needed (default 2)"),
    },
    timeout_s=None,
)
def recovery(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Poll a signal until it is back within its threshold (or near its baseline). On a
    manual clock (tests, --auto drills) simulated time is advanced poll by poll."""
    signal, op = params["signal"], params.get("op", "<=")
    poll = float(params.get("poll_seconds", 60))
    need = int(params.get("consecutive", 2))
    deadline_min = float(params.get("deadline_minutes", 15))
    baseline = None
    if "threshold" in params:
        target = float(params["threshold"])

        def good(v: float | None) -> bool:
            return bool(compare(v, op, target))

        rule = f"{op} {fmt(signal, target)}"
    elif "tolerance_pct" in params:
        start, end = ctx.reference_window(1.0)
        baseline = mean_over(ctx, signal, start, end, version=params.get("version"))
        if baseline is None:
            raise BackendError(f"no baseline for {signal} before the incident")
        tol = abs(baseline) * float(params["tolerance_pct"]) / 100.0

        def good(v: float | None) -> bool:
            return v is not None and abs(v - baseline) <= tol

        rule = f"within {params['tolerance_pct']}% of {fmt(signal, baseline)}"
    else:
        raise InvalidInput(
            "recovery needs a threshold or a tolerance_pct",
            hint="e.g. threshold: 0.02 with op: '<='",
        )
    wait = Waiter(ctx, deadline_min, poll)
    readings: list[dict[str, Any]] = []
    streak = 0
    while True:
        value = query(ctx, signal, version=params.get("version"))
        readings.append({"at": ctx.now().isoformat(), "value": value})
        streak = streak + 1 if good(value) else 0
        if streak >= need or not wait.again():
            break
    took = wait.minutes
    recovered = streak >= need
    summary = (
        f"{signal} recovered to {fmt(signal, value)} ({rule}) after {took:.1f} min"
        if recovered
        else f"{signal} still {fmt(signal, value)} after {took:.1f} min (needs {rule})"
        + wait.not_yet()
    )
    return CheckOutcome(
        summary,
        {"recovered": recovered, "value": value, "minutes": took, "baseline": baseline},
        {"signal": signal, "rule": rule, "readings": readings[-30:], "minutes": round(took, 2)},
        recovered,
        no_data=all(r["value"] is None for r in readings),
    )


@check(
    "alert_cleared",
    params={
        "alert": Param("string", False, "alert name, * for any (default: the opening one)"),
        "deadline_minutes": Param("number", False, "give up after (default 30)"),
        "poll_seconds": Param("number", False, "between reads (default 60)"),
    },
    timeout_s=None,
)
def alert_cleared(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """Poll until the alert stops firing for the model — the most generic "recovered".
    Alerts on trailing windows (an hourly z-score) clear only as their window moves on."""
    name = params.get("alert") or (ctx.incident.data.get("alert") or {}).get("name")
    if name == "*":
        name = None  # any alert for the model
    wait = Waiter(
        ctx, float(params.get("deadline_minutes", 30)), float(params.get("poll_seconds", 60))
    )

    def firing() -> list[str]:
        return [
            a.name
            for a in ctx.backends.metrics.active_alerts()
            if a.model == ctx.model and a.state == "firing" and (not name or a.name == name)
        ]

    still = firing()
    while still and wait.again():
        still = firing()
    took = wait.minutes
    what = name or f"every {ctx.model} alert"
    summary = (
        f"{what} cleared after {took:.1f} min"
        if not still
        else f"{what} still firing after {took:.1f} min{wait.not_yet()}"
    )
    return CheckOutcome(
        summary,
        {"cleared": not still, "minutes": took, "still": still},
        {"alert": name, "still_firing": still, "minutes": round(took, 2)},
        not still,
    )
