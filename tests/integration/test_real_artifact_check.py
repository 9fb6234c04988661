"""Rollback preflight's artifact check against the real MLflow server: versions registered
from uploaded files verify; a file re-uploaded with other bytes fails the check (both hashes
named) and refuses the rollback unless overridden; sources the artifact proxy does not serve,
artifacts above the size limit and a check past its deadline are "not available", saying why.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from console.actions.rollback import plan_rollback, preflight, rollback
from console.backends.types import Lineage
from plugins.mlflow import seed
from plugins.mlflow.artifacts import proxied_path
from plugins.mlflow.digest import directory_digest, local_files
from plugins.mlflow.registry import API
from tests.integration.realstack import (
    MODEL,
    metrics_options,
    registry_options,
    traffic_options,
)

pytestmark = pytest.mark.integration

GATES = {"auc_min": True}


def model_dir(root: Path, version: str, weights: bytes = b"") -> Path:
    d = root / f"model-{version}"
    (d / "data").mkdir(parents=True)
    (d / "MLmodel").write_text(f"flavors: {{}}\nversion: {version}\n")
    (d / "data" / "model.json").write_text(f'{{"version": "{version}", "depth": 6}}')
    (d / "data" / "weights.bin").write_bytes(weights or bytes(range(256)) * 64)
    return d


@pytest.fixture
def churn_artifacts(mlflow_server, tmp_path):
    """``churn`` versions 1 and 2 registered from uploaded directories (``runs:/…`` sources,
    ``rollbook.artifact_hash`` = their digest), the ``champion`` alias on 2."""
    from plugins.http_common.api import ApiError, JsonApi

    api = JsonApi("MLflow", mlflow_server.url, timeout=10)
    with contextlib.suppress(ApiError):
        api.delete(f"{API}/registered-models/delete", {"name": MODEL})
    seed.ensure_model(api, MODEL)
    dirs = {v: model_dir(tmp_path, v) for v in ("1", "2")}
    for v, d in dirs.items():
        got = seed.register_directory(
            api, MODEL, d, lineage=Lineage(code_commit=f"c{v}", gates=GATES)
        )
        assert got == v
    seed.set_alias(api, MODEL, "champion", "2")
    yield {"api": api, "dirs": dirs, "tmp": tmp_path}
    api.close()


@pytest.fixture
def stack_ws(open_ws, mlflow_server, prometheus_server, alertmanager_server, haproxy_server):
    def _open(**registry_over):
        return open_ws(
            {
                "registry": registry_options(mlflow_server, **registry_over),
                "metrics": metrics_options(prometheus_server, alertmanager_server),
                "traffic": traffic_options(haproxy_server),
            }
        )

    return _open


def artifact(checks):
    return next(c for c in checks if c.name == "artifact")


def version_info(api, version: str) -> dict:
    return api.get(f"{API}/model-versions/get", {"name": MODEL, "version": version})[
        "model_version"
    ]


def test_uploaded_version_verifies_and_a_tampered_file_refuses_the_rollback(
    churn_artifacts, stack_ws, haproxy_server, model_servers
):
    ws = stack_ws()
    api, local = churn_artifacts["api"], churn_artifacts["dirs"]["1"]
    recorded = directory_digest(local)
    assert ws.backends.registry.version(MODEL, "1").lineage.artifact_hash == recorded
    assert ws.backends.registry.artifact_hash(MODEL, "1") == recorded
    check = artifact(preflight(ws, MODEL, "1"))
    assert check.ok and check.detail == "artifact hash matches lineage"

    # someone replaces one file in the artifact store: re-upload it with other bytes
    mv = version_info(api, "1")
    assert mv["source"] == f"runs:/{mv['run_id']}/model"
    root = seed.run_proxy_root(api, mv["run_id"])
    seed.upload_file(api, f"{root}/model/data/weights.bin", b"not the weights that were tested")
    tampered = churn_artifacts["tmp"] / "tampered"
    shutil.copytree(local, tampered)
    (tampered / "data" / "weights.bin").write_bytes(b"not the weights that were tested")
    now = directory_digest(tampered)
    assert ws.backends.registry.artifact_hash(MODEL, "1") == now != recorded

    plan = plan_rollback(ws, MODEL, "1")
    check = artifact(plan.checks)
    assert not check.ok and plan.blocked
    assert check.detail == f"artifact hash {now[:12]} ≠ lineage {recorded[:12]}"
    res = rollback(ws, MODEL, to="1")
    assert res.status == "refused" and res.exit_code == 1
    assert "artifact:" in res.message and "--override artifact" in res.message
    assert ws.backends.traffic.routes(MODEL) == {"2": 100.0}  # nothing moved
    assert ws.backends.registry.production_version(MODEL) == "2"

    res = rollback(ws, MODEL, to="1", overrides=("artifact",))
    assert res.status == "applied" and res.verified, res.message
    assert artifact(res.checks).overridden
    req = [e for e in ws.store.events(res.incident_id) if e.kind == "action.requested"][-1]
    assert req.payload["overrides"] == ["artifact"]
    assert ws.backends.registry.production_version(MODEL) == "1"


def test_source_outside_the_proxy_is_not_available(churn_artifacts, stack_ws):
    api = churn_artifacts["api"]
    v3 = seed.register_version(
        api,
        MODEL,
        source="s3://models/churn/3",
        lineage=Lineage(artifact_hash="ab" * 32, gates=GATES),
    )
    ws = stack_ws()
    check = artifact(preflight(ws, MODEL, v3))
    assert check.ok
    assert check.detail == (
        "artifact hash not available to compare: source s3://models/churn/3 is not served by "
        "MLflow's artifact proxy"
    )
    # a version without a recorded hash is not even fetched
    v4 = seed.register_version(api, MODEL, source="s3://models/churn/4", lineage=Lineage())
    check = artifact(preflight(ws, MODEL, v4))
    assert check.ok and check.detail.endswith(": the lineage records none")


def test_artifact_above_the_size_limit_is_not_downloaded(churn_artifacts, stack_ws):
    ws = stack_ws(artifact_check_max_mb=0.01)  # 10 kB; version 1 holds about 16 kB
    reg = ws.backends.registry
    streamed = []
    original = reg.api.stream

    def counting_stream(path, *a, **kw):
        streamed.append(path)
        return original(path, *a, **kw)

    reg.api.stream = counting_stream
    check = artifact(preflight(ws, MODEL, "1"))
    assert check.ok and streamed == []
    assert check.detail == (
        "artifact hash not available to compare: artifact 16 kB above the 10 kB check limit "
        "(artifact_check_max_mb); not downloaded"
    )


def test_a_check_past_its_deadline_is_not_available(churn_artifacts, stack_ws):
    ws = stack_ws(artifact_check_timeout=0.001)
    check = artifact(preflight(ws, MODEL, "1"))
    assert check.ok and "artifact check stopped after 0.001s" in check.detail, check.detail


def test_other_source_forms_verify(churn_artifacts, mlflow_server):
    """``mlflow-artifacts:/…`` (with its run), a single file, and an MLflow 3 logged model
    (``models:/m-<id>``) all resolve through the proxy; a path with no files does not."""
    from plugins.http_common.api import JsonApi
    from plugins.mlflow.registry import MlflowRegistry

    api, tmp = churn_artifacts["api"], churn_artifacts["tmp"]
    local = model_dir(tmp, "x", weights=b"w" * 5000)
    run = seed.create_run(api)
    seed.upload_artifacts(api, run["run_id"], local, "model")
    art_uri = run["artifact_uri"]
    direct = seed.register_version(
        api,
        MODEL,
        source=f"{art_uri}/model",
        run_id=run["run_id"],
        lineage=Lineage(artifact_hash=directory_digest(local)),
    )
    one_file = seed.register_version(
        api,
        MODEL,
        source=f"{art_uri}/model/data/weights.bin",
        run_id=run["run_id"],
        lineage=Lineage(artifact_hash=directory_digest(local / "data" / "weights.bin")),
    )
    missing = seed.register_version(
        api, MODEL, source=f"runs:/{run['run_id']}/nothing-here", run_id=run["run_id"]
    )
    logged = api.post(f"{API}/logged-models", {"experiment_id": "0", "name": "churn-lm"})
    info = logged["model"]["info"]
    root = proxied_path(info["artifact_uri"], api.base_url)
    for rel, path in local_files(local):
        seed.upload_file(api, f"{root}/{rel}", path)
    from_logged = seed.register_version(
        api,
        MODEL,
        source=f"models:/{info['model_id']}",
        model_id=info["model_id"],
        lineage=Lineage(artifact_hash=directory_digest(local)),
    )

    reg = MlflowRegistry(JsonApi("MLflow", mlflow_server.url, timeout=10))
    try:
        for v in (direct, one_file, from_logged):
            got = reg.artifact_check(MODEL, v)
            assert got.value == reg.version(MODEL, v).lineage.artifact_hash, (v, got)
        got = reg.artifact_check(MODEL, missing)
        assert got.value is None and "no artifact files at" in got.reason, got
    finally:
        reg.close()
