"""MLflow model registry over its REST API (``/api/2.0/mlflow/…``); no ``mlflow`` import.

The production pointer is an alias (default ``champion``). Older setups that never set the
alias still work: the newest version in MLflow's ``Production`` stage stands in for it
(``pointer = "stage"`` makes the stage the pointer for good). MLflow keeps no history of an
alias; "which version served before" comes first from Rollbook's own audit log, then from
the ``rollbook.promoted`` / ``rollbook.demoted`` tags Rollbook writes on each pointer move
(``stage_history``; a tag keeps a version's latest move only), then from version order.

MLflow's versions are numbers: any other version name is NotFound here, before a request
(the server would answer 400 INVALID_PARAMETER_VALUE, not "no such version").

Quirks of the real server handled here: a missing alias answers HTTP 400
``INVALID_PARAMETER_VALUE`` (not 404); ``DELETE …/alias`` takes its parameters as a JSON
body; version search lists no aliases (the registered model does).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from console.backends.interfaces import Registry
from console.backends.types import STAGES, ArtifactHash, ModelInfo, ModelVersion, StageChange
from console.errors import ActionRefused, BackendError, NotFound, RollbookError
from plugins.http_common.api import ApiError, JsonApi
from plugins.mlflow import tags as T
from plugins.mlflow.artifacts import PROXY, ArtifactProxy, Unavailable, proxied_path

API = "/api/2.0/mlflow"
MLFLOW_STAGES = ("None", "Staging", "Production", "Archived")
PAGE = 1000
DOCUMENT_MAX_BYTES = 64 * 1024 * 1024  # a reference profile is kilobytes; refuse a runaway
ARTIFACT_CHECK_MAX_MB = 512  # above this an artifact is not downloaded to be hashed
ARTIFACT_CHECK_TIMEOUT_S = 8.0  # under the rollback preflight's default 10 s deadline

Pointer = Literal["alias", "stage"]


def is_missing_alias(exc: ApiError) -> bool:
    """MLflow answers a lookup of an alias that is not set with 400 INVALID_PARAMETER_VALUE
    ("Registered model alias champion not found."), not 404."""
    if exc.status == 404 and exc.code == "RESOURCE_DOES_NOT_EXIST":
        return "alias" in exc.detail.lower()
    return (
        exc.status == 400
        and exc.code == "INVALID_PARAMETER_VALUE"
        and "alias" in exc.detail.lower()
        and "not found" in exc.detail.lower()
    )


def is_not_found(exc: ApiError) -> bool:
    return exc.status == 404 or exc.code == "RESOURCE_DOES_NOT_EXIST"


def _segment(part: str) -> str:
    """One path segment of a document's artifact path (no separators, no dot-dot)."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in part).strip(".")
    return cleaned or "_"


def _require_number(model: str, version: str) -> str:
    """MLflow numbers its versions; a name such as ``v99`` can name none of them."""
    v = str(version).strip()
    if not v.isdigit():
        raise NotFound(
            f"model {model!r} has no version {version!r} in MLflow",
            hint="MLflow versions are numbers (1, 2, 3 …); list them with: "
            f"rollbook status {model}",
        )
    return v


def parse_move_tag(value: str) -> tuple[datetime, str, str] | None:
    """``"<ISO time> by <actor>[: <reason>]"`` (``rollbook.promoted`` / ``.demoted``) as
    ``(time, actor, reason)``; None for a value written by hand in another shape."""
    when, sep, rest = value.partition(" by ")
    if not sep:
        return None
    try:
        at = datetime.fromisoformat(when.strip())
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    actor, _, reason = rest.partition(": ")
    return at, actor.strip(), reason.strip()


def _ts(ms: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, UTC)
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0, UTC)


def _version_key(v: dict[str, Any]) -> tuple[int, str]:
    s = str(v.get("version", ""))
    return (int(s), s) if s.isdigit() else (1 << 62, s)


def _quote(name: str) -> str:
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


class MlflowRegistry(Registry):
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {"tags", "aliases", "artifact_hash", "production_history", "documents"}
    )

    def __init__(
        self,
        api: JsonApi,
        *,
        alias: str = "champion",
        pointer: Pointer = "alias",
        models: tuple[str, ...] = (),
        sync_stages: bool | None = None,
        clock=None,
        artifact_check_max_mb: float = ARTIFACT_CHECK_MAX_MB,
        artifact_check_timeout: float = ARTIFACT_CHECK_TIMEOUT_S,
    ) -> None:
        self.api = api
        self.artifact_max_bytes = int(artifact_check_max_mb * 1_000_000)
        self.artifact_budget_s = artifact_check_timeout
        self.alias = alias
        self.pointer = pointer
        self.only_models = models
        # Mirror Rollbook stage changes into MLflow's own stages (None/Staging/Production/
        # Archived) — on by default only where the stage is the pointer.
        self.sync_stages = pointer == "stage" if sync_stages is None else sync_stages
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[threading.Thread] = []
        #: Problems that did not fail an operation (e.g. an audit tag that could not be set).
        self.warnings: list[str] = []

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for audit tags still being written (``close`` does this too)."""
        deadline = time.monotonic() + timeout
        for job in self._pending:
            job.join(max(0.0, deadline - time.monotonic()))
        self._pending = [t for t in self._pending if t.is_alive()]

    def close(self) -> None:
        self.flush(timeout=5.0)
        self.api.close()

    # ---- reads ------------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        out = []
        for rm in self._registered_models():
            if self.only_models and rm.get("name") not in self.only_models:
                continue
            tags = T.tag_dict(rm.get("tags"))
            out.append(
                ModelInfo(
                    name=rm["name"], description=rm.get("description") or "", **T.model_fields(tags)
                )
            )
        return sorted(out, key=lambda m: m.name)

    def versions(self, model: str) -> list[ModelVersion]:
        rm = self._registered_model(model)
        target = self._pointer_from(rm, model)
        raw = []
        token = None
        while True:
            params: dict[str, Any] = {"filter": f"name={_quote(model)}", "max_results": PAGE}
            if token:
                params["page_token"] = token
            body = self.api.get(f"{API}/model-versions/search", params)
            raw.extend(body.get("model_versions") or [])
            token = body.get("next_page_token")
            if not token:
                break
        raw.sort(key=_version_key)
        return [self._version(model, v, target) for v in raw]

    def version(self, model: str, version: str) -> ModelVersion:
        version = _require_number(model, version)
        try:
            body = self.api.get(
                f"{API}/model-versions/get", {"name": model, "version": str(version)}
            )
        except ApiError as exc:
            if is_not_found(exc):
                raise NotFound(
                    f"model {model!r} has no version {version!r} in MLflow",
                    hint=f"list them with: rollbook status {model}",
                ) from None
            raise
        mv = body["model_version"]
        # One call in the common case: the version lists its own aliases. Only a version in
        # MLflow's Production stage needs the pointer looked up (it may be the stage fallback
        # or a version the pointer has left).
        if self.pointer == "alias" and self.alias in (mv.get("aliases") or []):
            target = str(mv.get("version"))
        elif mv.get("current_stage") == "Production" or self.pointer == "stage":
            target = self.production_version(model)
        else:
            target = None
        return self._version(model, mv, target)

    def production_version(self, model: str) -> str | None:
        if self.pointer == "alias":
            try:
                body = self.api.get(
                    f"{API}/registered-models/alias", {"name": model, "alias": self.alias}
                )
                return str(body["model_version"]["version"])
            except ApiError as exc:
                if not is_missing_alias(exc):
                    if is_not_found(exc):
                        raise NotFound(f"no model {model!r} in MLflow") from None
                    raise
            # No alias yet: an older setup promoting with stages.
        return self._production_by_stage(model)

    def artifact_hash(self, model: str, version: str) -> str | None:
        return self.artifact_check(model, version).value

    def artifact_check(self, model: str, version: str) -> ArtifactHash:
        """The digest (``plugins.mlflow.digest``) of the version's artifact as MLflow's
        artifact proxy serves it now. MLflow keeps no checksum of its own, so the files are
        listed and streamed; None, with the reason, when the source is not behind the proxy,
        the artifact is above ``artifact_check_max_mb``, the check runs past
        ``artifact_check_timeout`` or the server fails."""
        if self.artifact_max_bytes <= 0:
            return ArtifactHash(None, "artifact check turned off (artifact_check_max_mb = 0)")
        try:
            version = _require_number(model, version)
            body = self.api.get(
                f"{API}/model-versions/get", {"name": model, "version": str(version)}
            )
            mv = body.get("model_version") or {}
        except RollbookError as exc:
            return ArtifactHash(None, f"cannot read {model} {version} from MLflow: {exc.message}")
        proxy = ArtifactProxy(
            self.api, max_bytes=self.artifact_max_bytes, budget_s=self.artifact_budget_s
        )
        try:
            return ArtifactHash(proxy.digest(mv.get("source") or ""))
        except Unavailable as why:
            return ArtifactHash(None, str(why))

    def stage_history(self, model: str) -> list[StageChange]:
        """Production moves, oldest first, from the ``rollbook.promoted`` and
        ``rollbook.demoted`` tags Rollbook writes on each pointer move (each tag holds a
        version's latest move), and, for a version in MLflow's own ``Production`` stage with
        no such tag, its stage's last update (a promotion made with the plain ``mlflow``
        client). Versions whose tags say nothing add nothing. Only production moves: the
        capability is ``production_history``, not the full ``stage_history``."""
        target = None
        changes: list[StageChange] = []
        for v in self.versions(model):
            promoted = parse_move_tag(v.tags.get(T.PROMOTED, ""))
            demoted = parse_move_tag(v.tags.get(T.DEMOTED, ""))
            if promoted:
                at, actor, reason = promoted
                changes.append(StageChange(model, v.version, "", "Production", at, actor, reason))
            if demoted:
                at, actor, reason = demoted
                changes.append(
                    StageChange(model, v.version, "Production", "Archived", at, actor, reason)
                )
            if promoted is None and v.stage == "Production":
                target = v
        if target is not None:
            raw = self._raw_version(model, target.version)
            if raw.get("current_stage") == "Production":
                at = _ts(raw.get("last_updated_timestamp"))
                changes.append(StageChange(model, target.version, "", "Production", at, "mlflow"))
        changes.sort(key=lambda c: c.at)
        return changes

    def read_document(self, uri: str) -> bytes:
        """A document kept by ``store_document`` (an ``mlflow-artifacts:`` URI), read through
        the artifact proxy; at most ``DOCUMENT_MAX_BYTES``."""
        path = proxied_path(uri, self.api.base_url)
        if path is None:
            raise NotFound(
                f"{uri} is not served by MLflow's artifact proxy",
                hint="documents are kept under mlflow-artifacts:/rollbook/",
            )
        chunks, size = [], 0
        try:
            with self.api.stream(f"{PROXY}/{quote(path, safe='/')}") as resp:
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > DOCUMENT_MAX_BYTES:
                        raise BackendError(f"{uri} is larger than {DOCUMENT_MAX_BYTES:,} bytes")
                    chunks.append(chunk)
        except ApiError as exc:
            if is_not_found(exc):
                raise NotFound(f"MLflow keeps nothing at {uri}") from None
            raise
        return b"".join(chunks)

    # ---- writes -----------------------------------------------------------------------
    def store_document(self, model: str, version: str, name: str, data: bytes) -> str | None:
        """Upload ``data`` through the artifact proxy (the server must run with
        ``--artifacts-destination``) to ``rollbook/<model>/<version>/<name>``; its
        ``mlflow-artifacts:`` URI."""
        version = _require_number(model, version)
        path = "/".join(_segment(x) for x in ("rollbook", model, version, name))
        self.api.put_bytes(f"{PROXY}/{quote(path, safe='/')}", data)
        return f"mlflow-artifacts:/{path}"

    def set_production(self, model: str, version: str, *, actor: str, reason: str) -> None:
        version = _require_number(model, version)
        with self._lock:
            before = self.production_version(model)
            if self.pointer == "alias":
                try:
                    self.api.post(
                        f"{API}/registered-models/alias",
                        {"name": model, "alias": self.alias, "version": version},
                    )
                except ApiError as exc:
                    if is_not_found(exc):
                        raise NotFound(
                            f"model {model!r} has no version {version!r} in MLflow",
                            hint="the alias was not moved",
                        ) from None
                    raise
            else:
                self._transition(model, version, "Production", archive_existing=True)
        # The pointer has moved: that is the operation. The audit tags are for people reading
        # the MLflow UI, so they are written off the rollback's critical path.
        job = threading.Thread(
            target=self._audit_tags,
            args=(model, version, before, actor, reason),
            daemon=True,
            name="rollbook-mlflow-audit-tags",
        )
        self._pending = [t for t in self._pending if t.is_alive()] + [job]
        job.start()

    def transition_stage(
        self, model: str, version: str, stage: str, *, actor: str, reason: str = ""
    ) -> None:
        if stage not in STAGES:
            raise ActionRefused(f"unknown stage {stage!r}", hint=f"stages: {', '.join(STAGES)}")
        if stage == "Production" and self.pointer == "alias":
            raise ActionRefused(
                f"in MLflow the production pointer is the {self.alias!r} alias",
                hint=f"move it with: rollbook pointer {model} {version}",
            )
        self.tag_version(model, version, T.STAGE, stage)
        if self.sync_stages and stage in MLFLOW_STAGES:
            self._transition(model, version, stage, archive_existing=False)

    def tag_version(self, model: str, version: str, key: str, value: str) -> None:
        version = _require_number(model, version)
        try:
            self.api.post(
                f"{API}/model-versions/set-tag",
                {"name": model, "version": str(version), "key": key, "value": str(value)},
            )
        except ApiError as exc:
            if is_not_found(exc):
                raise NotFound(f"model {model!r} has no version {version!r} in MLflow") from None
            raise

    def tag_incident(self, model: str, version: str, incident_id: str, role: str) -> None:
        """Mark a version as involved in an incident (``rollbook.incident.<ID>`` = role)."""
        self.tag_version(model, version, T.INCIDENT + incident_id, role)

    def clear_alias(self, model: str) -> None:
        """Remove the production alias (MLflow reads the DELETE's parameters from a JSON
        body). Used by drills and tests; a missing alias is not an error."""
        if self.pointer != "alias":
            raise ActionRefused("this registry uses stages, not an alias, as the pointer")
        try:
            self.api.delete(f"{API}/registered-models/alias", {"name": model, "alias": self.alias})
        except ApiError as exc:
            if not is_missing_alias(exc):
                raise

    # ---- helpers ----------------------------------------------------------------------
    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def _raw_version(self, model: str, version: str) -> dict[str, Any]:
        try:
            body = self.api.get(f"{API}/model-versions/get", {"name": model, "version": version})
        except ApiError as exc:
            if is_not_found(exc):
                return {}
            raise
        return body.get("model_version") or {}

    def _registered_models(self) -> list[dict[str, Any]]:
        out, token = [], None
        while True:
            params: dict[str, Any] = {"max_results": PAGE}
            if token:
                params["page_token"] = token
            body = self.api.get(f"{API}/registered-models/search", params)
            out.extend(body.get("registered_models") or [])
            token = body.get("next_page_token")
            if not token:
                return out

    def _registered_model(self, model: str) -> dict[str, Any]:
        if self.only_models and model not in self.only_models:
            raise NotFound(
                f"model {model!r} is not among this environment's MLflow models",
                hint=f"configured: {', '.join(self.only_models)}",
            )
        try:
            return self.api.get(f"{API}/registered-models/get", {"name": model})["registered_model"]
        except ApiError as exc:
            if is_not_found(exc):
                raise NotFound(
                    f"no model {model!r} in MLflow", hint="see the models with: rollbook status"
                ) from None
            raise
        except KeyError:
            raise BackendError(
                f"MLflow answered registered-models/get for {model!r} without a registered_model"
            ) from None

    def _pointer_from(self, rm: dict[str, Any], model: str) -> str | None:
        if self.pointer == "alias":
            for a in rm.get("aliases") or []:
                if a.get("alias") == self.alias:
                    return str(a.get("version"))
        return self._production_by_stage(model, rm.get("latest_versions"))

    def _production_by_stage(self, model: str, candidates: list | None = None) -> str | None:
        if candidates is None:
            try:
                body = self.api.post(
                    f"{API}/registered-models/get-latest-versions",
                    {"name": model, "stages": ["Production"]},
                )
            except ApiError as exc:
                if is_not_found(exc):
                    raise NotFound(f"no model {model!r} in MLflow") from None
                raise
            candidates = body.get("model_versions") or []
        prod = [v for v in candidates if v.get("current_stage") == "Production"]
        return str(max(prod, key=_version_key)["version"]) if prod else None

    def _version(self, model: str, v: dict[str, Any], target: str | None) -> ModelVersion:
        tags = T.tag_dict(v.get("tags"))
        name = str(v.get("version"))
        if name == target:
            stage = "Production"
        else:
            stage = tags.get(T.STAGE) or v.get("current_stage") or "None"
            if stage == "Production":  # was production, the pointer has moved on
                stage = "Archived"
            if stage not in STAGES:
                stage = "None"
        return ModelVersion(
            model=model,
            version=name,
            stage=stage,
            created_at=_ts(v.get("creation_timestamp")),
            lineage=T.lineage_from_tags(tags),
            tags=tags,
        )

    def _transition(self, model: str, version: str, stage: str, *, archive_existing: bool) -> None:
        version = _require_number(model, version)
        try:
            self.api.post(
                f"{API}/model-versions/transition-stage",
                {
                    "name": model,
                    "version": str(version),
                    "stage": stage,
                    "archive_existing_versions": archive_existing,
                },
            )
        except ApiError as exc:
            if is_not_found(exc):
                raise NotFound(f"model {model!r} has no version {version!r} in MLflow") from None
            raise

    def _audit_tags(
        self, model: str, version: str, before: str | None, actor: str, reason: str
    ) -> None:
        # Convenience for people reading the MLflow UI; the audit log is the record, so a
        # failure here must not turn a completed pointer move into a failed one.
        now = self._now().isoformat(timespec="seconds")
        by = actor or "?"
        writes = [(version, T.PROMOTED, f"{now} by {by}" + (f": {reason}" if reason else ""))]
        if before and before != version:
            writes.append((before, T.DEMOTED, f"{now} by {by}"))
        for v, key, value in writes:
            try:
                self.tag_version(model, v, key, value)
            except (BackendError, NotFound) as exc:
                self.warnings.append(f"could not tag {model} {v} {key}: {exc}")
