"""Register models and versions with Rollbook's lineage tags (the local stack, drills and
tests use it; so can a training pipeline that wants Rollbook to see its lineage).
``register_directory`` also uploads the artifact through MLflow's artifact proxy and tags
the version with its digest, so rollback preflight can check it."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

from console.backends.types import Lineage
from console.errors import BackendError
from plugins.http_common.api import ApiError, JsonApi
from plugins.mlflow import tags as T
from plugins.mlflow.artifacts import PROXY, proxied_path
from plugins.mlflow.digest import CHUNK, directory_digest, local_files
from plugins.mlflow.registry import API


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in tags.items()]


def ensure_model(
    api: JsonApi, name: str, *, description: str = "", tags: Mapping[str, str] | None = None
) -> None:
    """Create the registered model unless it exists (then only its tags are set)."""
    try:
        api.post(
            f"{API}/registered-models/create",
            {"name": name, "description": description, "tags": _tag_list(tags or {})},
        )
    except ApiError as exc:
        if exc.code != "RESOURCE_ALREADY_EXISTS":
            raise
        for k, v in (tags or {}).items():
            api.post(f"{API}/registered-models/set-tag", {"name": name, "key": k, "value": v})


def register_version(
    api: JsonApi,
    model: str,
    *,
    source: str,
    lineage: Lineage | None = None,
    stage: str | None = None,
    description: str = "",
    tags: Mapping[str, str] | None = None,
    run_id: str = "",
    model_id: str = "",
) -> str:
    """Create a model version tagged with its lineage; returns MLflow's version number.

    ``source`` is a URI MLflow accepts without a run (e.g. ``s3://bucket/path``), or one a
    run owns (``runs:/<run_id>/…``, ``mlflow-artifacts:/…`` under the run's root: pass
    ``run_id``), or a logged model's ``models:/m-<id>`` (pass ``model_id``). MLflow refuses
    local paths unless a run owns them. ``register_directory`` uploads and registers."""
    all_tags = {**T.tags_from_lineage(lineage or Lineage()), **(tags or {})}
    if stage:
        all_tags[T.STAGE] = stage
    req = {"name": model, "source": source, "description": description}
    if run_id:
        req["run_id"] = run_id
    if model_id:
        req["model_id"] = model_id
    body = api.post(f"{API}/model-versions/create", {**req, "tags": _tag_list(all_tags)})
    return str(body["model_version"]["version"])


def set_alias(api: JsonApi, model: str, alias: str, version: str) -> None:
    api.post(
        f"{API}/registered-models/alias", {"name": model, "alias": alias, "version": str(version)}
    )


def create_run(api: JsonApi, *, experiment_id: str = "0", run_name: str = "") -> dict:
    """Start a run (MLflow's ``Default`` experiment unless told); returns its ``info``."""
    body = {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)}
    if run_name:
        body["run_name"] = run_name
    return api.post(f"{API}/runs/create", body)["run"]["info"]


def run_proxy_root(api: JsonApi, run_id: str) -> str:
    """The proxy path of a run's artifact root. Raises BackendError when the server keeps
    the run's artifacts where its proxy does not serve them."""
    info = api.get(f"{API}/runs/get", {"run_id": run_id})["run"]["info"]
    uri = info.get("artifact_uri") or ""
    path = proxied_path(uri, api.base_url)
    if path is None:
        raise BackendError(
            f"run {run_id} keeps its artifacts at {uri!r}, which MLflow's artifact proxy does "
            "not serve",
            hint="start the server with --artifacts-destination DIR (and --serve-artifacts)",
        )
    return path


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def upload_file(api: JsonApi, proxy_path: str, content: bytes | os.PathLike[str]) -> None:
    """Write one file through the artifact proxy (``PUT …/mlflow-artifacts/artifacts/<path>``),
    from bytes or streamed from a local file. An existing file is replaced."""
    body = _chunks(Path(content)) if isinstance(content, os.PathLike) else content
    api.put_bytes(f"{PROXY}/{quote(proxy_path.strip('/'), safe='/')}", body)


def upload_artifacts(
    api: JsonApi, run_id: str, local: str | os.PathLike[str], artifact_path: str = "model"
) -> str:
    """Upload a local directory (or one file) under the run's ``artifact_path``; returns the
    run-relative path of what was uploaded (``model``, or ``model/<file>`` for a file)."""
    root = run_proxy_root(api, run_id)
    local = Path(local)
    for rel, path in local_files(local):
        upload_file(api, f"{root}/{artifact_path}/{rel}", path)
    return f"{artifact_path}/{local.name}" if local.is_file() else artifact_path


def register_directory(
    api: JsonApi,
    model: str,
    local: str | os.PathLike[str],
    *,
    lineage: Lineage | None = None,
    artifact_path: str = "model",
    experiment_id: str = "0",
    stage: str | None = None,
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> str:
    """Log a local directory (or file) as a new run's artifacts and register it as a version
    of ``model`` with source ``runs:/<run_id>/<artifact_path>`` and its digest
    (``plugins.mlflow.digest``) as ``rollbook.artifact_hash``; returns the version number.

    The server must serve artifacts through its proxy (``--artifacts-destination``)."""
    digest = directory_digest(local)
    run = create_run(api, experiment_id=experiment_id)
    run_id = run["run_id"]
    sub = upload_artifacts(api, run_id, local, artifact_path)
    api.post(
        f"{API}/runs/update",
        {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)},
    )
    lineage = dataclasses.replace(lineage or Lineage(), artifact_hash=digest)
    return register_version(
        api,
        model,
        source=f"runs:/{run_id}/{sub}",
        run_id=run_id,
        lineage=lineage,
        stage=stage,
        description=description,
        tags=tags,
    )
