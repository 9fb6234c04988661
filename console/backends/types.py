"""Plain data exchanged between the core and backend plugins. Times are UTC-aware."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

STAGES = ("None", "Staging", "Shadow", "Canary", "Production", "Archived")
ServingPattern = Literal["batch", "realtime"]

# Route keys that are not model versions: the kill switch's fallback levels.
FALLBACK_RULES = "fallback:rules"
FALLBACK_MANUAL = "fallback:manual"


def whole_percent(pct: float, route: str, backend: str) -> int:
    """A route's weight as the whole percentage 0–100 a serving backend can set (HAProxy,
    KServe, SageMaker), or :class:`InvalidInput` naming the backend and the route."""
    from console.errors import InvalidInput

    if abs(pct - round(pct)) > 1e-6 or not 0 <= pct <= 100:
        raise InvalidInput(
            f"{backend} weights are whole percentages 0–100; got {pct:g} for {route}"
        )
    return int(round(pct))


def check_total(plan: dict[str, int]) -> None:
    """The whole percentages of a change together make 100, or :class:`InvalidInput`."""
    from console.errors import InvalidInput

    if sum(plan.values()) != 100:
        raise InvalidInput(f"weights sum to {sum(plan.values())}, not 100")


@dataclass(frozen=True)
class Lineage:
    """Where a model version came from; diffing two answers "what moved"."""

    code_commit: str = ""
    data_snapshot_hash: str = ""
    data_description: str = ""
    data_sources: tuple[str, ...] = ()
    feature_version: str = ""
    feature_importance: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    artifact_hash: str = ""
    validation_metrics: dict[str, float] = field(default_factory=dict)
    gates: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data_sources"] = list(self.data_sources)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Lineage:
        d = dict(d or {})
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if "data_sources" in known:
            known["data_sources"] = tuple(known["data_sources"] or ())
        return cls(**known)

    @property
    def gates_passed(self) -> bool:
        return bool(self.gates) and all(self.gates.values())

    @property
    def gates_failed(self) -> list[str]:
        """The gates recorded as failed (none recorded is not a failure: "not recorded")."""
        return [g for g, ok in self.gates.items() if not ok]


@dataclass(frozen=True)
class ArtifactHash:
    """The stored artifact's hash as the registry computes it now (``value``), or None with
    ``reason`` saying why it cannot tell (e.g. "source s3://… is not served by MLflow's
    artifact proxy")."""

    value: str | None
    reason: str = ""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str = ""
    serving_pattern: ServingPattern = "realtime"
    owner: str = ""
    key_signal: str = "error_rate"  # the signal the fleet view sparklines
    features: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = list(self.features)
        return d


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: str
    stage: str
    created_at: datetime
    lineage: Lineage = field(default_factory=Lineage)
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
            "created_at": self.created_at.isoformat(),
            "lineage": self.lineage.to_dict(),
            "tags": dict(self.tags),
        }


@dataclass(frozen=True)
class StageChange:
    model: str
    version: str
    from_stage: str
    to_stage: str
    at: datetime
    actor: str = ""
    reason: str = ""


@dataclass(frozen=True)
class RouteChange:
    """One change of a model's traffic weights, as the traffic backend recorded it."""

    model: str
    at: datetime
    routes: dict[str, float]
    actor: str = ""


@dataclass(frozen=True)
class FallbackLevel:
    """One rung of the kill switch's ladder: a route key and what it means."""

    level: str  # "previous" | "rules" | "manual"
    route: str  # a version, or FALLBACK_RULES / FALLBACK_MANUAL
    description: str = ""


@dataclass(frozen=True)
class Health:
    target: str
    healthy: bool
    detail: str = ""
    latency_ms: float | None = None


@dataclass(frozen=True)
class Alert:
    name: str
    model: str
    fingerprint: str
    starts_at: datetime
    severity: str = "warning"
    state: str = "firing"  # firing | resolved
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    value: float | None = None

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.name

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["starts_at"] = self.starts_at.isoformat()
        return d


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float | None  # None when the backend had no sample or it was NaN/inf
