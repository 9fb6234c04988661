"""Where the fleet stands: one ModelStatus per model, for `rollbook status` and the TUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.backends.types import Alert
from console.workspace import Workspace

KEY_SIGNALS = (
    "request_rate",
    "error_rate",
    "latency_p99_ms",
    "prediction_mean",
    "positive_rate",
    "output_diversity",
)
HEALTH_ORDER = {"healthy": 0, "degraded": 1, "critical": 2, "unknown": 3}
# Health as an icon and a word: never conveyed by colour alone.
HEALTH_WORDS = {
    "healthy": "✔ ok",
    "degraded": "▲ degraded",
    "critical": "✖ CRITICAL",
    "unknown": "? unknown",
}


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
        }


def format_signal(signal: str, value: float | None) -> str:
    """A signal's value for people: rates as %, latencies in ms, the rest as numbers."""
    if value is None:
        return "—"
    if signal in ("error_rate", "positive_rate", "output_diversity") or signal.startswith(
        ("null_rate", "false_positive")
    ):
        return f"{value * 100:.1f}%"
    if signal.startswith("latency"):
        return f"{value:.0f}ms"
    return f"{value:,.1f}"


def format_routes(routes: dict[str, float]) -> str:
    """``v13:90% v14:10%`` (largest first; fallback routes without their prefix)."""
    return (
        " ".join(
            f"{k.removeprefix('fallback:')}:{v:g}%"
            for k, v in sorted(routes.items(), key=lambda kv: -kv[1])
            if v
        )
        or "—"
    )


def health_from_alerts(alerts: list[Alert]) -> str:
    if any(a.severity == "critical" for a in alerts):
        return "critical"
    return "degraded" if alerts else "healthy"


def active_killswitches(ws: Workspace) -> dict[str, str]:
    """model → fallback level, for every model a kill switch still holds."""
    from console.actions.killswitch import standing_killswitches

    return {
        model: str(p.get("level") or "fallback") for model, p in standing_killswitches(ws).items()
    }


def fleet_status(ws: Workspace, model: str | None = None) -> list[ModelStatus]:
    """Read every model (or one). A backend error on one model marks that row ``unknown``
    with the error; the others are still reported."""
    from console.errors import NotFound, RollbookError

    b = ws.backends
    now = ws.now()
    infos = b.registry.models()
    if model is not None:
        infos = [m for m in infos if m.name == model]
        if not infos:
            raise NotFound(f"no model {model!r}", hint="see the fleet with: rollbook status")
    try:
        alerts = b.metrics.active_alerts()
        alerts_error = None
    except RollbookError as exc:
        alerts, alerts_error = [], str(exc)
    switched = active_killswitches(ws)
    open_by_model: dict[str, list[str]] = {}
    for inc in ws.store.list(open_only=True, env=ws.env.name):
        open_by_model.setdefault(inc.model, []).append(inc.id)
    out = []
    for info in infos:
        mine = [a for a in alerts if a.model == info.name]
        try:
            prod = b.registry.production_version(info.name)
            routes = b.traffic.routes(info.name)
            signals = {s: b.metrics.query(s, info.name, at=now) for s in KEY_SIGNALS}
            if info.key_signal not in signals:
                signals[info.key_signal] = b.metrics.query(info.key_signal, info.name, at=now)
            paused = b.traffic.batch_paused(info.name)
            health = "unknown" if alerts_error else health_from_alerts(mine)
            error = alerts_error
        except RollbookError as exc:
            prod, routes, signals, paused = None, {}, {}, False
            health, error = "unknown", str(exc)
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
                error,
                now,
                switched.get(info.name),
            )
        )
    return out
