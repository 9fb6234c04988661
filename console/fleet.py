"""Where the fleet stands: one ModelStatus per model, for `rollbook status` and the TUI."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from console.backends.types import Alert

# one formatting module serves every screen and command (re-exported: older imports)
from console.formatting import HEALTH_WORDS, format_routes, format_signal  # noqa: F401

if TYPE_CHECKING:
    from console.serving import Split
from console.workspace import Workspace

T = TypeVar("T")

KEY_SIGNALS = (
    "request_rate",
    "error_rate",
    "latency_p99_ms",
    "prediction_mean",
    "positive_rate",
    "output_diversity",
)
HEALTH_ORDER = {"healthy": 0, "degraded": 1, "critical": 2, "unknown": 3}


@dataclass(frozen=True)
class ModelStatus:
    model: str
    serving_pattern: str
    production_version: str | None
    routes: dict[str, float]
    health: str  # healthy | degraded | critical | unknown
    signals: dict[str, float | None]
    key_signal: str
    alerts: list[Alert] = field(default_factory=list)
    open_incidents: list[str] = field(default_factory=list)
    batch_paused: bool = False
    error: str | None = None  # backend problem while reading this model
    as_of: datetime | None = None
    killswitch: str | None = None  # the fallback level a kill switch left it on, if any
    #: role -> what went wrong reading it ("alerts", "metrics", "registry", "traffic")
    backend_errors: dict[str, str] = field(default_factory=dict)
    split: Split | None = None  # the registry disagrees with what serves

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "serving_pattern": self.serving_pattern,
            "production_version": self.production_version,
            "routes": self.routes,
            "health": self.health,
            "key_signal": self.key_signal,
            "signals": self.signals,
            "alerts": [a.to_dict() for a in self.alerts],
            "open_incidents": self.open_incidents,
            "batch_paused": self.batch_paused,
            "error": self.error,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "killswitch": self.killswitch,
            "backend_errors": dict(self.backend_errors),
            "split": self.split.to_dict() if self.split else None,
        }


def active_killswitches(ws: Workspace) -> dict[str, str]:
    """model → fallback level, for every model a kill switch still holds."""
    from console.actions.killswitch import standing_killswitches

    return {
        model: str(p.get("level") or "fallback") for model, p in standing_killswitches(ws).items()
    }


#: Deadline (seconds) for each backend call the status makes: a hung backend marks its part
#: DEGRADED instead of holding the whole answer.
STATUS_DEADLINE_S = 5.0


def health_from(
    alerts: list[Alert], signals: dict[str, float | None], thresholds: Mapping[str, float]
) -> str:
    """Critical with a critical alert; degraded with any other firing alert or a key signal
    past its threshold (an alert with a ``for:`` duration fires minutes after the signal
    crossed); else healthy."""
    if any(a.severity in ("critical", "page") for a in alerts):
        return "critical"
    if alerts or signal_breaches(signals, thresholds):
        return "degraded"
    return "healthy"


def signal_breaches(signals: dict[str, float | None], thresholds: Mapping[str, float]) -> list[str]:
    """The key signals past their thresholds, as ``"error_rate 13.0% > 5.0%"``."""
    out = []
    err = signals.get("error_rate")
    if err is not None and err > thresholds.get("error_rate_max", 0.05):
        out.append(
            f"error_rate {format_signal('error_rate', err)} > "
            f"{format_signal('error_rate', thresholds.get('error_rate_max', 0.05))}"
        )
    p99 = signals.get("latency_p99_ms")
    if p99 is not None and p99 > thresholds.get("latency_p99_ms_max", 100.0):
        out.append(
            f"latency_p99_ms {p99:.0f}ms > {thresholds.get('latency_p99_ms_max', 100):.0f}ms"
        )
    div = signals.get("output_diversity")
    if div is not None and div < thresholds.get("output_diversity_min", 0.1):
        out.append(
            f"output_diversity {format_signal('output_diversity', div)} < "
            f"{format_signal('output_diversity', thresholds.get('output_diversity_min', 0.1))}"
        )
    return out


def _query_each(
    metrics: Any, signal: str, models: list[str], at: datetime
) -> dict[str, float | None]:
    """``signal`` for every model, one ``query`` each (a backend without ``query_fleet``)."""
    return {name: metrics.query(signal, name, at=at) for name in models}


def _read_each(
    read: Callable[[str], T], models: list[str], *, deadline: float, what: str
) -> tuple[dict[str, T], dict[str, str]]:
    """``read(model)`` for every model, all of them inside one deadline-bound call: (answers,
    model -> error message). One thread per fleet read, not one per model: at 5,000 models
    the per-call threads were most of the fleet's refresh (15,000 threads every 2 s), and a
    hung backend held the answer one deadline per model.

    A model whose read fails gets its own error (the same words ``call`` uses); when the
    deadline passes, the models already read keep their answers, the reading stops at the
    next model, and every model not read gets the deadline's error with how many were."""
    from console.actions.calls import call
    from console.errors import RollbookError

    answers: dict[str, T] = {}
    errors: dict[str, str] = {}
    stop = threading.Event()

    def read_all() -> None:
        for name in models:
            if stop.is_set():
                return
            try:
                answers[name] = read(name)
            except RollbookError as exc:
                errors[name] = exc.message
            except Exception as exc:  # noqa: BLE001 - one model's failure is that model's
                errors[name] = f"{what} failed: {type(exc).__name__}: {exc}"

    try:
        call(read_all, timeout=deadline, what=what)
    except RollbookError as exc:
        stop.set()
        done_answers, done_errors = dict(answers), dict(errors)  # the reader may still write
        late = f"{exc.message} (read {len(done_answers) + len(done_errors)} of {len(models)})"
        return done_answers, {
            **{n: late for n in models if n not in done_answers and n not in done_errors},
            **done_errors,
        }
    return answers, errors


def _fleet_signals(
    ws: Workspace, models: list[str], now: datetime, signals: list[str], deadline: float
) -> tuple[dict[str, dict[str, float | None]], str | None]:
    """model -> signal -> value, read with one call per signal for the whole fleet where the
    backend can; the first failure (or a deadline passed) stops reading and is returned, so
    a hung metrics backend costs one deadline, not one per model and signal."""
    from console.actions.calls import call
    from console.errors import RollbookError

    m = ws.backends.metrics
    out: dict[str, dict[str, float | None]] = {name: {} for name in models}
    try:
        for sig in signals:
            try:
                values = call(
                    m.query_fleet,
                    sig,
                    at=now,
                    timeout=deadline,
                    what=f"metrics {sig}",
                    wrap_errors=False,
                )
            except NotImplementedError:
                # one deadline for the whole fleet, not one thread and deadline per model
                values = call(
                    _query_each, m, sig, models, now, timeout=deadline, what=f"metrics {sig}"
                )
            for name in models:
                out[name][sig] = values.get(name)
    except RollbookError as exc:
        return out, f"metrics: {exc.message}"
    return out, None


def fleet_status(ws: Workspace, model: str | None = None) -> list[ModelStatus]:
    """Read every model (or one), each backend on its own and behind its own deadline: a
    failing backend marks its part of every row DEGRADED (``backend_errors``) and the rest is
    still reported. A registry that disagrees with traffic is flagged (``split``).

    Each per-model read (production version, routes, batch pause) is made for the whole
    fleet inside one deadline of ``STATUS_DEADLINE_S``: a hung backend costs one deadline,
    not one per model, and a backend too slow for the fleet leaves the models it did not
    reach DEGRADED, saying how many it read."""
    from console.actions.calls import call
    from console.errors import NotFound, RollbookError
    from console.serving import split_of

    b = ws.backends
    now = ws.now()
    deadline = STATUS_DEADLINE_S
    infos = b.registry.models()
    if model is not None:
        infos = [m for m in infos if m.name == model]
        if not infos:
            raise NotFound(f"no model {model!r}", hint="see the fleet with: rollbook status")
    try:
        alerts = call(b.metrics.active_alerts, timeout=deadline, what="alerts")
        alerts_error = None
    except RollbookError as exc:
        alerts, alerts_error = [], f"alerts: {exc.message}"
    switched = active_killswitches(ws)
    open_by_model: dict[str, list[str]] = {}
    for inc in ws.store.list(open_only=True, env=ws.env.name):
        open_by_model.setdefault(inc.model, []).append(inc.id)
    wanted = list(dict.fromkeys([*KEY_SIGNALS, *(i.key_signal for i in infos)]))
    names = [i.name for i in infos]
    signals_by, metrics_error = _fleet_signals(ws, names, now, wanted, deadline)
    prods, prod_errors = _read_each(
        b.registry.production_version, names, deadline=deadline, what="registry.production"
    )
    routes_by, traffic_errors = _read_each(
        b.traffic.routes, names, deadline=deadline, what="traffic.routes"
    )
    paused_by, paused_errors = _read_each(
        b.traffic.batch_paused, names, deadline=deadline, what="traffic.batch_paused"
    )
    alerts_by: dict[str, list[Alert]] = {}  # grouped once: not a scan of every alert per model
    for a in alerts:
        alerts_by.setdefault(a.model, []).append(a)
    out = []
    for info in infos:
        mine = alerts_by.get(info.name, [])
        errors: dict[str, str] = {}
        if alerts_error:
            errors["alerts"] = alerts_error
        if metrics_error:
            errors["metrics"] = metrics_error
        prod = prods.get(info.name)
        if info.name in prod_errors:
            errors["registry"] = f"registry: {prod_errors[info.name]}"
        routes = routes_by.get(info.name, {})
        paused = paused_by.get(info.name, False)
        traffic_error = traffic_errors.get(info.name) or paused_errors.get(info.name)
        if traffic_error:
            errors["traffic"] = f"traffic: {traffic_error}"
        signals = signals_by.get(info.name, {})
        health = health_from(mine, signals, ws.config.thresholds)
        if (alerts_error or metrics_error) and health == "healthy":
            health = "unknown"  # never "ok" on what could not be read
        split = None
        if "registry" not in errors and "traffic" not in errors:
            split = split_of(info.name, prod, routes, killswitch=info.name in switched)
        out.append(
            ModelStatus(
                info.name,
                info.serving_pattern,
                prod,
                routes,
                health,
                signals,
                info.key_signal,
                mine,
                open_by_model.get(info.name, []),
                paused,
                "; ".join(errors.values()) or None,
                now,
                switched.get(info.name),
                errors,
                split,
            )
        )
    return out
