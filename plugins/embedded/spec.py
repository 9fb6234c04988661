"""Building blocks of the fleet spec: model and version records, lineage and stage paths.

Times are offsets (seconds) before the moment the world is first seeded, so every world tells
the same story relative to its own "now".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from console.backends.types import ModelInfo

DAY = 86400.0
HOUR = 3600.0


@dataclass(frozen=True)
class VersionSpec:
    version: str
    stage: str
    created_ago_s: float
    #: (from_stage, to_stage, seconds before seed, actor, reason)
    history: tuple[tuple[str, str, float, str, str], ...]
    lineage: dict[str, Any]


@dataclass(frozen=True)
class ModelSpec:
    info: ModelInfo
    versions: tuple[VersionSpec, ...]
    production: str
    #: route changes inside the seeded day: (seconds before seed, {route: weight})
    route_changes: tuple[tuple[float, dict[str, float]], ...]
    raw_columns: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    extra_signals: tuple[str, ...] = ()
    samples_per_minute: int = 10

    @property
    def name(self) -> str:
        return self.info.name

    def signals(self) -> list[str]:
        base = [
            "request_rate",
            "error_rate",
            "latency_p50_ms",
            "latency_p95_ms",
            "latency_p99_ms",
            "prediction_mean",
            "positive_rate",
            "output_diversity",
        ]
        return base + [f"null_rate:{f}" for f in self.info.features] + list(self.extra_signals)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _commit(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def lineage(
    model: str,
    version: str,
    *,
    data: str,
    sources: tuple[str, ...],
    features: str,
    importance: dict[str, float],
    params: dict[str, Any],
    python: str,
    packages: dict[str, str],
    metrics: dict[str, float],
    code: str = "",
) -> dict:
    return {
        "code_commit": _commit(f"{model}/{code or version}"),
        "data_snapshot_hash": _sha(f"{model}/{data}")[:16],
        "data_description": data,
        "data_sources": list(sources),
        "feature_version": features,
        "feature_importance": importance,
        "params": params,
        "environment": {"python": python, "packages": packages},
        "artifact_hash": _sha(f"rollbook-embedded/{model}/{version}/artifact"),
        "validation_metrics": metrics,
        "gates": {
            "validation_metrics": True,
            "bias_check": True,
            "latency_budget": True,
            "schema_check": True,
        },
    }


def promoted(
    created: float,
    production: float,
    actor: str,
    *,
    canary: bool = True,
    archived: float | None = None,
    by: str = "",
) -> tuple:
    steps = [
        ("None", "Staging", created, "ci-bot", "registered by training pipeline"),
        (
            "Staging",
            "Shadow" if not canary else "Canary",
            created - 0.5 * DAY,
            actor,
            "validation gates passed",
        ),
    ]
    steps.append((steps[-1][1], "Production", production, actor, "promotion after review"))
    if archived is not None:
        steps.append(("Production", "Archived", archived, "ci-bot", f"superseded by {by}"))
    return tuple(steps)
