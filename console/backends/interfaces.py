"""The four backend roles. Small abstract classes: a few required methods, optional ones with
safe defaults, and ``capabilities`` naming what the optional ones can do.

Signals (``Metrics``) are named strings: ``request_rate`` (req/min), ``error_rate`` (0–1),
``latency_p50_ms``/``latency_p95_ms``/``latency_p99_ms``, ``prediction_mean``,
``positive_rate`` (0–1), ``output_diversity`` (unique ratio 0–1), ``null_rate:<feature>``
(0–1), and business signals a plugin documents (``revenue_per_hour``, ``fraud_loss_rate``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from console.backends.types import (
    Alert,
    ArtifactHash,
    FallbackLevel,
    Health,
    ModelInfo,
    ModelVersion,
    Point,
    RouteChange,
    StageChange,
)

if TYPE_CHECKING:
    import pandas as pd

    from console.backends.aggregates import LogAggregates

ROLES = ("registry", "metrics", "traffic", "predictions", "world")


class Backend(ABC):  # noqa: B024 - a common base; the roles below declare the abstract methods
    #: Optional features this backend implements, e.g. {"stage_history", "tags"}.
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Safe to call twice."""


class Registry(Backend):
    """Models, versions with lineage, and the production pointer."""

    @abstractmethod
    def models(self) -> list[ModelInfo]: ...

    @abstractmethod
    def versions(self, model: str) -> list[ModelVersion]:
        """All versions of ``model``, oldest first. Raises ``NotFound`` for an unknown model."""

    @abstractmethod
    def production_version(self, model: str) -> str | None:
        """The version the production pointer (alias/stage) names, or None."""

    @abstractmethod
    def set_production(self, model: str, version: str, *, actor: str, reason: str) -> None:
        """Move the production pointer. Emergency rollback uses this, not a stage transition."""

    @abstractmethod
    def transition_stage(
        self, model: str, version: str, stage: str, *, actor: str, reason: str = ""
    ) -> None:
        """Set a version's stage (validation of allowed transitions lives in the core)."""

    def version(self, model: str, version: str) -> ModelVersion:
        from console.errors import NotFound

        for v in self.versions(model):
            if v.version == version:
                return v
        raise NotFound(f"model {model!r} has no version {version!r}")

    def stage_history(self, model: str) -> list[StageChange]:
        """Stage changes oldest first; empty when the backend keeps none (capability
        ``stage_history``)."""
        return []

    def tag_version(self, model: str, version: str, key: str, value: str) -> None:
        """Tag a version (capability ``tags``); a no-op elsewhere."""

    def store_document(self, model: str, version: str, name: str, data: bytes) -> str | None:
        """Keep a small document (a reference profile) with a version, where every console
        of the team can read it (capability ``documents``): its URI, for a tag. None where
        the registry keeps none (the caller keeps its local copy only)."""
        return None

    def read_document(self, uri: str) -> bytes:
        """A document ``store_document`` kept, by its URI (capability ``documents``)."""
        from console.errors import NotFound

        raise NotFound(f"this registry keeps no documents ({uri})")

    def artifact_hash(self, model: str, version: str) -> str | None:
        """Hash of the stored artifact as the registry sees it now (capability
        ``artifact_hash``), to compare with the lineage record. None if unknown."""
        return None

    def artifact_check(self, model: str, version: str) -> ArtifactHash:
        """``artifact_hash`` with, when there is none, the reason. Rollback preflight calls
        this; override it when the registry can say why (default: no reason)."""
        return ArtifactHash(self.artifact_hash(model, version))


class Metrics(Backend):
    """Signals per model and version, and active alerts."""

    @abstractmethod
    def query(
        self, signal: str, model: str, *, version: str | None = None, at: datetime | None = None
    ) -> float | None:
        """Latest value at ``at`` (default now) for the model, or one version of it.
        None when there is no data."""

    @abstractmethod
    def query_range(
        self,
        signal: str,
        model: str,
        start: datetime,
        end: datetime,
        *,
        step_seconds: int = 60,
        version: str | None = None,
    ) -> list[Point]: ...

    def query_fleet(self, signal: str, *, at: datetime | None = None) -> dict[str, float | None]:
        """One query for every model at once: model -> value. Default: one call per model."""
        raise NotImplementedError

    @abstractmethod
    def active_alerts(self) -> list[Alert]: ...


class Traffic(Backend):
    """Routes per model: route key (a version or a fallback key) -> weight (0–100)."""

    @abstractmethod
    def routes(self, model: str) -> dict[str, float]: ...

    @abstractmethod
    def set_routes(self, model: str, weights: Mapping[str, float], *, actor: str) -> None:
        """Replace the model's weights. Weights are percentages summing to 100."""

    def fallbacks(self, model: str) -> list[FallbackLevel]:
        """The kill switch ladder below the primary, best first (capability ``fallback``)."""
        return []

    def route_history(self, model: str, since: datetime) -> list[RouteChange]:
        """Weight changes at or after ``since``, oldest first (capability ``route_history``).
        Empty when the backend keeps no history: Rollbook's own audit log still knows the
        changes made through it."""
        return []

    @abstractmethod
    def probe(self, model: str, route: str) -> Health:
        """Health of one route (a version or a fallback key)."""

    # Optional: batch jobs (capability ``batch``).
    def pause_batch(self, model: str, *, actor: str) -> None:
        from console.errors import ActionRefused

        raise ActionRefused(f"this traffic backend cannot pause batch jobs for {model!r}")

    def resume_batch(self, model: str, *, actor: str) -> None:
        from console.errors import ActionRefused

        raise ActionRefused(f"this traffic backend cannot resume batch jobs for {model!r}")

    def batch_paused(self, model: str) -> bool:
        return False


class PredictionLog(Backend):
    """Feature and prediction samples, and (capability ``aggregates``) the same questions
    answered by the engine that holds the log."""

    @abstractmethod
    def samples(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        segment: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """One row per logged request: ``ts`` (UTC), ``version``, the model's raw input
        columns and features, segment columns, ``prediction`` (score) and ``label`` when
        known. Empty frame (with columns) when nothing was logged."""

    def aggregates(self, model: str) -> LogAggregates | None:
        """The pushdown view of ``model``'s log (capability ``aggregates``): row and null
        counts, types, category and bin counts, grid histograms and moments computed where
        the log lives (:mod:`console.backends.aggregates`). ``None`` (the default) makes
        the checks read :meth:`samples` instead, up to their sample limit."""
        return None

    def features(self, model: str) -> list[str]:
        """``model``'s feature columns as the log's configuration names them (empty: the
        registry's lineage, else every input column, decides)."""
        return []


class World(Backend):
    """A simulated production world that faults can be injected into (the embedded plugin,
    or a staging environment whose plugins support injection). Optional role ``world``."""

    @abstractmethod
    def scenarios(self) -> dict[str, str]:
        """Injectable fault names -> one-line description."""

    @abstractmethod
    def inject(self, scenario: str, *, onset: datetime | None = None) -> dict:
        """Start ``scenario`` at ``onset`` (default: the scenario's own lead time before now).
        Returns facts about it: {"scenario", "model", "onset" (a UTC datetime),
        "bad_version", "good_version", "feature", ...}. Injecting an active scenario again
        changes nothing."""

    @abstractmethod
    def clear(self, scenario: str) -> None:
        """The underlying cause is fixed (e.g. the pipeline fix deployed)."""

    @abstractmethod
    def active_faults(self) -> list[dict]: ...

    @abstractmethod
    def now(self) -> datetime:
        """The world's current time."""

    def advance(self, until: datetime | None = None) -> None:  # noqa: B027
        """Simulate up to ``until`` (default now). Backends also catch up lazily on read."""

    def set_speed(self, speed: float) -> None:
        """Simulated seconds per wall-clock second, without a jump in time. Optional."""
        raise NotImplementedError

    def break_backend(
        self,
        role: str,
        method: str,
        *,
        mode: str = "error",
        times: int = 1,
        delay_s: float = 0.0,
        route: str | None = None,
    ) -> None:
        """Fault-injection for tests and drills: the next ``times`` calls of ``role.method``
        fail (``mode="error"`` raises BackendError, ``"timeout"`` sleeps ``delay_s`` then
        raises; ``"unhealthy"`` makes ``traffic.probe`` report unhealthy, for ``route`` only
        when given). ``times < 0`` means until repaired. Optional."""
        raise NotImplementedError
