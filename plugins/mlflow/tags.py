"""The MLflow tags Rollbook reads and writes. MLflow stores strings only; one tag per fact
keeps them readable in the MLflow UI.

Read from a **model version** (its lineage; write them when you register the version):

=================================  ==========================================================
``rollbook.code_commit``           git commit the model was trained from
``rollbook.data_hash``             hash of the training data snapshot
``rollbook.data_description``      what that snapshot is, in words
``rollbook.data_sources``          comma-separated tables/paths it was built from
``rollbook.feature_version``       feature pipeline / feature store version
``rollbook.artifact_hash``         digest of the model artifact when it was registered
                                   (see below); rollback preflight recomputes it
``rollbook.param.<name>``          a training parameter (numbers parsed)
``rollbook.env.<name>``            environment: ``python``, key package versions
``rollbook.metric.<name>``         a validation metric (a number)
``rollbook.gate.<name>``           a release gate's result: true/false (also passed/failed)
``rollbook.importance.<feature>``  a feature's importance (a number)
``rollbook.stage``                 Rollbook's stage (None, Staging, Shadow, Canary, …), since
                                   MLflow's own stages know no Shadow or Canary
=================================  ==========================================================

**The artifact digest** (``rollbook.artifact_hash``; ``plugins.mlflow.digest`` computes it
from a local directory): SHA-256 over the artifact's files sorted by their relative POSIX
path, feeding for each file ``relpath + "\0" + sha256hex(content) + "\n"`` (UTF-8); the
value is the lowercase hex digest, 64 characters (a ``sha256:`` prefix is accepted and
dropped). A single-file artifact's relpath is its file name. Rollback preflight recomputes it
through MLflow's artifact proxy from the version's ``source`` (``mlflow-artifacts:/…``,
``runs:/<run_id>/…``, ``models:/m-<id>``) and refuses a mismatch unless overridden.

Read from a **registered model**: ``rollbook.owner``, ``rollbook.serving_pattern``
(batch | realtime), ``rollbook.key_signal``, ``rollbook.features`` (comma-separated).

Written by Rollbook: ``rollbook.stage`` (stage transitions); on a production pointer move,
``rollbook.promoted`` = ``"<UTC time> by <actor>: <reason>"`` on the new version and
``rollbook.demoted`` = ``"<UTC time> by <actor>"`` on the one it replaced (two writes, so
the move stays fast; the audit log remains the record); ``rollbook.incident.<INCIDENT-ID>``
= the version's role in that incident (e.g. ``rolled back from``, ``rollback target``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from console.backends.types import Lineage

PREFIX = "rollbook."
CODE_COMMIT = "rollbook.code_commit"
DATA_HASH = "rollbook.data_hash"
DATA_DESCRIPTION = "rollbook.data_description"
DATA_SOURCES = "rollbook.data_sources"
FEATURE_VERSION = "rollbook.feature_version"
ARTIFACT_HASH = "rollbook.artifact_hash"
PARAM = "rollbook.param."
ENV = "rollbook.env."
METRIC = "rollbook.metric."
GATE = "rollbook.gate."
IMPORTANCE = "rollbook.importance."
STAGE = "rollbook.stage"
INCIDENT = "rollbook.incident."
PROMOTED = "rollbook.promoted"
DEMOTED = "rollbook.demoted"

OWNER = "rollbook.owner"
SERVING_PATTERN = "rollbook.serving_pattern"
KEY_SIGNAL = "rollbook.key_signal"
FEATURES = "rollbook.features"

_TRUE = {"true", "1", "yes", "pass", "passed", "ok"}
_FALSE = {"false", "0", "no", "fail", "failed"}


def tag_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """MLflow's ``[{"key": k, "value": v}, …]`` as a dict (a missing value is "")."""
    return {str(t.get("key")): str(t.get("value") or "") for t in tags or () if t.get("key")}


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _scalar(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _split(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip())


def gate_result(value: str) -> bool | None:
    v = value.strip().lower()
    return True if v in _TRUE else False if v in _FALSE else None


def artifact_digest_tag(value: str) -> str:
    """A recorded artifact digest as compared: ``sha256:<64 hex>`` and upper-case hex are
    read as the bare lowercase hex digest; any other value is kept as written."""
    v = value.strip()
    bare = v[len("sha256:") :] if v.lower().startswith("sha256:") else v
    if len(bare) == 64 and all(c in "0123456789abcdefABCDEF" for c in bare):
        return bare.lower()
    return value


def lineage_from_tags(tags: Mapping[str, str]) -> Lineage:
    """Lineage from version tags. Unparseable metric or gate values are skipped, never
    fatal: a hand-written tag must not hide the rest of the registry."""
    params, env, metrics, gates, importance = {}, {}, {}, {}, {}
    for key, value in tags.items():
        if key.startswith(PARAM):
            params[key[len(PARAM) :]] = _scalar(value)
        elif key.startswith(ENV):
            env[key[len(ENV) :]] = value
        elif key.startswith(METRIC):
            if (n := _number(value)) is not None:
                metrics[key[len(METRIC) :]] = n
        elif key.startswith(GATE):
            if (g := gate_result(value)) is not None:
                gates[key[len(GATE) :]] = g
        elif key.startswith(IMPORTANCE) and (n := _number(value)) is not None:
            importance[key[len(IMPORTANCE) :]] = n
    return Lineage(
        code_commit=tags.get(CODE_COMMIT, ""),
        data_snapshot_hash=tags.get(DATA_HASH, ""),
        data_description=tags.get(DATA_DESCRIPTION, ""),
        data_sources=_split(tags.get(DATA_SOURCES, "")),
        feature_version=tags.get(FEATURE_VERSION, ""),
        feature_importance=importance,
        params=params,
        environment=env,
        artifact_hash=artifact_digest_tag(tags.get(ARTIFACT_HASH, "")),
        validation_metrics=metrics,
        gates=gates,
    )


def tags_from_lineage(lineage: Lineage) -> dict[str, str]:
    """The inverse of ``lineage_from_tags``: what to tag a version with when registering it."""
    out = {
        CODE_COMMIT: lineage.code_commit,
        DATA_HASH: lineage.data_snapshot_hash,
        DATA_DESCRIPTION: lineage.data_description,
        DATA_SOURCES: ",".join(lineage.data_sources),
        FEATURE_VERSION: lineage.feature_version,
        ARTIFACT_HASH: lineage.artifact_hash,
    }
    out = {k: v for k, v in out.items() if v}
    out.update(
        {PARAM + k: v if isinstance(v, str) else json.dumps(v) for k, v in lineage.params.items()}
    )
    out.update({ENV + k: str(v) for k, v in lineage.environment.items()})
    out.update({METRIC + k: repr(float(v)) for k, v in lineage.validation_metrics.items()})
    out.update({GATE + k: "true" if v else "false" for k, v in lineage.gates.items()})
    out.update({IMPORTANCE + k: repr(float(v)) for k, v in lineage.feature_importance.items()})
    return out


def model_fields(tags: Mapping[str, str]) -> dict[str, Any]:
    """ModelInfo fields from registered-model tags."""
    out: dict[str, Any] = {}
    if tags.get(OWNER):
        out["owner"] = tags[OWNER]
    if tags.get(SERVING_PATTERN) in ("batch", "realtime"):
        out["serving_pattern"] = tags[SERVING_PATTERN]
    if tags.get(KEY_SIGNAL):
        out["key_signal"] = tags[KEY_SIGNAL]
    if tags.get(FEATURES):
        out["features"] = _split(tags[FEATURES])
    return out
