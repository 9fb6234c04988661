"""Resolving model-version sources to MLflow's artifact proxy and the limits of the artifact
check, without a server (MockTransport where only parsing is under test).
``test_real_artifact_check`` runs the same against the real MLflow server."""

from __future__ import annotations

import httpx
import pytest

from console.backends.plugin import PluginContext
from console.errors import ConfigError
from plugins.http_common.api import JsonApi
from plugins.mlflow.artifacts import ArtifactProxy, Unavailable, proxied_path, size_text

BASE = "http://mlflow.test"


# ---- sources → proxy paths ----------------------------------------------------------------
@pytest.mark.parametrize(
    "uri, path",
    [
        ("mlflow-artifacts:/0/abc/artifacts/model", "0/abc/artifacts/model"),
        ("mlflow-artifacts://other:5000/0/abc/artifacts", "0/abc/artifacts"),
        (f"{BASE}/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/m", "0/abc/artifacts/m"),
        ("http://elsewhere/api/2.0/mlflow-artifacts/artifacts/0/x", None),
        ("s3://bucket/models/churn/1", None),
        ("/var/mlflow/artifacts/0/abc", None),
        ("file:///var/mlflow/artifacts/0/abc", None),
    ],
)
def test_proxied_path(uri, path):
    assert proxied_path(uri, BASE) == path


def test_relative_segments_are_refused():
    with pytest.raises(Unavailable):
        proxied_path("mlflow-artifacts:/0/../../etc", BASE)


def mock_api(handler) -> JsonApi:
    return JsonApi("MLflow", BASE, transport=httpx.MockTransport(handler))


def test_runs_and_logged_model_sources_resolve_through_their_artifact_uri():
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.endswith("/runs/get"):
            uri = {"r1": "mlflow-artifacts:/0/r1/artifacts", "r2": "/srv/mlruns/0/r2/artifacts"}
            return httpx.Response(
                200, json={"run": {"info": {"artifact_uri": uri[req.url.params["run_id"]]}}}
            )
        if "/logged-models/" in req.url.path:
            return httpx.Response(
                200,
                json={
                    "model": {"info": {"artifact_uri": "mlflow-artifacts:/0/models/m-1/artifacts"}}
                },
            )
        if req.url.path.endswith("/model-versions/get"):
            return httpx.Response(200, json={"model_version": {"source": "runs:/r1/model"}})
        return httpx.Response(404)

    proxy = ArtifactProxy(mock_api(handler), max_bytes=10, budget_s=5)
    assert proxy.proxy_path("runs:/r1/model") == "0/r1/artifacts/model"
    assert proxy.proxy_path("runs:/r1") == "0/r1/artifacts"
    assert proxy.proxy_path("models:/m-1") == "0/models/m-1/artifacts"
    assert proxy.proxy_path("models:/churn/3") == "0/r1/artifacts/model"
    with pytest.raises(Unavailable, match="run r2 keeps its artifacts at /srv/mlruns"):
        proxy.proxy_path("runs:/r2/model")
    with pytest.raises(Unavailable, match="not served by MLflow's artifact proxy"):
        proxy.proxy_path("models:/churn@champion")


def test_listed_size_above_the_limit_downloads_nothing():
    downloads = []

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/api/2.0/mlflow-artifacts/artifacts":
            return httpx.Response(
                200,
                json={"files": [{"path": "w.bin", "is_dir": False, "file_size": 2_100_000_000}]},
            )
        downloads.append(req.url.path)
        return httpx.Response(200, content=b"x")

    proxy = ArtifactProxy(mock_api(handler), max_bytes=512_000_000, budget_s=5)
    with pytest.raises(Unavailable, match=r"artifact 2\.1 GB above the 512 MB check limit"):
        proxy.digest("mlflow-artifacts:/0/r/artifacts/model")
    assert downloads == []


def test_a_proxy_failure_is_a_reason_not_a_crash():
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error_code": "INTERNAL_ERROR", "message": "disk gone"})

    proxy = ArtifactProxy(mock_api(handler), max_bytes=10, budget_s=5)
    with pytest.raises(Unavailable, match="reading the artifact from MLflow failed.*disk gone"):
        proxy.digest("mlflow-artifacts:/0/r/artifacts/model")


@pytest.mark.parametrize(
    "n, text", [(12, "12 B"), (740_000, "740 kB"), (512_000_000, "512 MB"), (2.1e9, "2.1 GB")]
)
def test_size_text(n, text):
    assert size_text(n) == text


@pytest.mark.parametrize(
    "options, ok",
    [
        ({"artifact_check_max_mb": 0}, True),
        ({"artifact_check_max_mb": 64, "artifact_check_timeout": 2.5}, True),
        ({"artifact_check_max_mb": -1}, False),
        ({"artifact_check_max_mb": "512"}, False),
        ({"artifact_check_timeout": 0}, False),
        ({"artifact_check_timeout": True}, False),
    ],
)
def test_artifact_check_options(tmp_path, options, ok):
    from plugins.mlflow import make_registry

    ctx = PluginContext(env_name="t", data_dir=tmp_path, config_path=tmp_path / "c.toml")
    opts = {"url": BASE, **options}
    if not ok:
        with pytest.raises(ConfigError, match="artifact_check_"):
            make_registry(ctx, opts)
        return
    reg = make_registry(ctx, opts)
    try:
        if options.get("artifact_check_max_mb") == 0:
            check = reg.artifact_check("churn", "1")  # no request is made
            assert check.value is None and "turned off" in check.reason
        else:
            assert reg.artifact_max_bytes == 64_000_000 and reg.artifact_budget_s == 2.5
    finally:
        reg.close()
