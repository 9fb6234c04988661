"""Register models and versions with Rollbook's lineage tags (the local stack, drills and
tests use it; so can a training pipeline that wants Rollbook to see its lineage)."""

from __future__ import annotations

from collections.abc import Mapping

from console.backends.types import Lineage
from plugins.http_api import ApiError, JsonApi
from plugins.mlflow import tags as T
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
) -> str:
    """Create a model version tagged with its lineage; returns MLflow's version number.

    ``source`` must be a URI MLflow accepts without a run (e.g. ``s3://bucket/path``);
    MLflow refuses local paths unless a run owns them."""
    all_tags = {**T.tags_from_lineage(lineage or Lineage()), **(tags or {})}
    if stage:
        all_tags[T.STAGE] = stage
    body = api.post(
        f"{API}/model-versions/create",
        {"name": model, "source": source, "description": description, "tags": _tag_list(all_tags)},
    )
    return str(body["model_version"]["version"])


def set_alias(api: JsonApi, model: str, alias: str, version: str) -> None:
    api.post(
        f"{API}/registered-models/alias", {"name": model, "alias": alias, "version": str(version)}
    )
