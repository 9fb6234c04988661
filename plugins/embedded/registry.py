"""Registry role: models, versions with lineage, stages, and the production pointer."""

from __future__ import annotations

import json

from console.backends.interfaces import Registry
from console.backends.types import STAGES, Lineage, ModelInfo, ModelVersion, StageChange
from console.errors import InvalidInput, NotFound
from plugins.embedded.guard import guarded
from plugins.embedded.world import EmbeddedWorld, from_ts


class EmbeddedRegistry(Registry):
    """The production pointer (``models.production``) and stages are separate: moving the
    pointer (emergency rollback) leaves stages alone and is recorded in the stage history as
    a pointer event — a StageChange whose from/to stage is the version's unchanged stage and
    whose reason reads ``production pointer v13 → v12: <reason>``."""

    capabilities = frozenset({"stage_history", "tags", "artifact_hash"})

    def __init__(self, world: EmbeddedWorld) -> None:
        self.world = world

    def _require_model(self, model: str) -> str:
        row = self.world.q("SELECT production FROM models WHERE name = ?", (model,))
        if not row:
            names = [r[0] for r in self.world.q("SELECT name FROM models ORDER BY position")]
            raise NotFound(f"unknown model {model!r}", hint=f"models: {', '.join(names)}")
        return row[0][0]

    def _stage(self, model: str, version: str) -> str:
        self._require_model(model)
        row = self.world.q(
            "SELECT stage FROM versions WHERE model = ? AND version = ?", (model, version)
        )
        if not row:
            known = [
                r[0]
                for r in self.world.q(
                    "SELECT version FROM versions WHERE model = ? ORDER BY created_at", (model,)
                )
            ]
            raise NotFound(
                f"model {model!r} has no version {version!r}", hint=f"versions: {', '.join(known)}"
            )
        return row[0][0]

    @guarded("registry")
    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(name, desc, pattern, owner, key, tuple(json.loads(features)))
            for name, desc, pattern, owner, key, features in self.world.q(
                "SELECT name, description, serving_pattern, owner, key_signal, features"
                " FROM models ORDER BY position"
            )
        ]

    @guarded("registry")
    def versions(self, model: str) -> list[ModelVersion]:
        self._require_model(model)
        return [
            ModelVersion(
                model,
                version,
                stage,
                from_ts(created),
                Lineage.from_dict(json.loads(lineage)),
                json.loads(tags or "{}"),
            )
            for version, stage, created, lineage, tags in self.world.q(
                "SELECT version, stage, created_at, lineage, tags FROM versions"
                " WHERE model = ? ORDER BY created_at, version",
                (model,),
            )
        ]

    @guarded("registry")
    def production_version(self, model: str) -> str | None:
        return self._require_model(model)

    @guarded("registry")
    def set_production(self, model: str, version: str, *, actor: str, reason: str) -> None:
        stage = self._stage(model, version)
        old = self._require_model(model)
        at = self.world.now_ts()
        with self.world.tx() as conn:
            conn.execute("UPDATE models SET production = ? WHERE name = ?", (version, model))
            conn.execute(
                "INSERT INTO stage_history (model, version, from_stage, to_stage, at, actor,"
                " reason) VALUES (?,?,?,?,?,?,?)",
                (
                    model,
                    version,
                    stage,
                    stage,
                    at,
                    actor,
                    f"production pointer {old} → {version}: {reason}".rstrip(": "),
                ),
            )

    @guarded("registry")
    def transition_stage(
        self, model: str, version: str, stage: str, *, actor: str, reason: str = ""
    ) -> None:
        if stage not in STAGES:
            raise InvalidInput(f"unknown stage {stage!r}", hint=f"stages: {', '.join(STAGES)}")
        old = self._stage(model, version)
        with self.world.tx() as conn:
            conn.execute(
                "UPDATE versions SET stage = ? WHERE model = ? AND version = ?",
                (stage, model, version),
            )
            conn.execute(
                "INSERT INTO stage_history (model, version, from_stage, to_stage, at, actor,"
                " reason) VALUES (?,?,?,?,?,?,?)",
                (model, version, old, stage, self.world.now_ts(), actor, reason),
            )

    @guarded("registry")
    def stage_history(self, model: str) -> list[StageChange]:
        self._require_model(model)
        return [
            StageChange(model, v, frm, to, from_ts(at), actor or "", reason or "")
            for v, frm, to, at, actor, reason in self.world.q(
                "SELECT version, from_stage, to_stage, at, actor, reason FROM stage_history"
                " WHERE model = ? ORDER BY at, id",
                (model,),
            )
        ]

    @guarded("registry")
    def tag_version(self, model: str, version: str, key: str, value: str) -> None:
        self._stage(model, version)
        with self.world.tx() as conn:
            (tags,) = conn.execute(
                "SELECT tags FROM versions WHERE model = ? AND version = ?", (model, version)
            ).fetchone()
            merged = {**json.loads(tags or "{}"), str(key): str(value)}
            conn.execute(
                "UPDATE versions SET tags = ? WHERE model = ? AND version = ?",
                (json.dumps(merged, sort_keys=True), model, version),
            )

    @guarded("registry")
    def artifact_hash(self, model: str, version: str) -> str | None:
        self._stage(model, version)
        row = self.world.q(
            "SELECT artifact_hash FROM versions WHERE model = ? AND version = ?", (model, version)
        )
        return row[0][0] if row else None
