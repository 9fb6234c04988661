"""Fixtures over the real servers (see ``realstack``): one session starts every installed
program at once; per-test fixtures put the shared state back (MLflow's ``churn`` model,
HAProxy weights, model server behaviour).

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``), so the
integration tests and the plugin contract (``tests/contract``) share one session stack
instead of each starting its own MLflow and HAProxy."""

from __future__ import annotations

import contextlib

import pytest

from tests.integration.realstack import (
    MODEL,
    SessionStack,
    metrics_options,
    registry_options,
    reset_churn_routes,
    traffic_options,
    write_config,
)


@pytest.fixture(scope="session")
def real(tmp_path_factory):
    stack = SessionStack(tmp_path_factory.mktemp("real-stack"))
    try:
        stack.launch()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def model_servers(real):
    servers = real.models_ready()
    for s in servers.values():
        if not s.proc.alive():  # a test stopped it: bring it back on the same port
            s.launch().wait()
        s.admin(error_rate=0.0, delay_ms=0.0, null_rate=0.0)
    return servers


@pytest.fixture
def mlflow_server(real):
    server = real.ready("mlflow")
    if not server.proc.alive():  # a fault test stopped it
        server.launch()
        server.wait()
    return server


@pytest.fixture
def prometheus_server(real, model_servers):
    return real.ready("prometheus")


@pytest.fixture
def alertmanager_server(real):
    return real.ready("alertmanager")


@pytest.fixture
def haproxy_server(real, model_servers):
    server = real.ready("haproxy")
    reset_churn_routes(server)
    return server


@pytest.fixture
def churn_registry(mlflow_server):
    """A fresh ``churn`` in MLflow: versions 1 and 2 with lineage (gates passed), the
    ``champion`` alias on 2."""
    from console.backends.types import Lineage
    from plugins.http_common.api import ApiError, JsonApi
    from plugins.mlflow import seed

    api = JsonApi("MLflow", mlflow_server.url, timeout=10)
    with contextlib.suppress(ApiError):
        api.delete("/api/2.0/mlflow/registered-models/delete", {"name": MODEL})
    seed.ensure_model(
        api,
        MODEL,
        description="churn scores",
        tags={"rollbook.owner": "retention-ds", "rollbook.features": "tenure,aov_90d"},
    )
    versions = []
    for i, commit in enumerate(("4f1c2ab", "9e77d10"), start=1):
        versions.append(
            seed.register_version(
                api,
                MODEL,
                source=f"s3://models/{MODEL}/{i}",
                lineage=Lineage(
                    code_commit=commit,
                    data_snapshot_hash=f"sha256:{i}{i}",
                    feature_version="fs-3",
                    params={"depth": 5 + i},
                    validation_metrics={"auc": 0.86 + i / 100},
                    gates={"auc_min": True},
                    artifact_hash=f"sha256:a{i}",
                ),
            )
        )
    seed.set_alias(api, MODEL, "champion", versions[1])
    yield {"api": api, "versions": versions}
    api.close()


@pytest.fixture
def open_ws(rollbook_home):
    """Write a config for the given roles and open a workspace on it; closed at teardown."""
    from console.config import load
    from console.workspace import open_workspace

    opened = []

    def _open(roles: dict[str, dict]):
        write_config(rollbook_home, roles)
        ws = open_workspace("local", config=load())
        opened.append(ws)
        return ws

    yield _open
    for ws in opened:
        ws.close()


@pytest.fixture
def real_ws(
    open_ws, churn_registry, mlflow_server, prometheus_server, alertmanager_server, haproxy_server
):
    """Rollbook on the whole real stack: MLflow, Prometheus + Alertmanager, HAProxy."""
    return open_ws(
        {
            "registry": registry_options(mlflow_server),
            "metrics": metrics_options(prometheus_server, alertmanager_server),
            "traffic": traffic_options(haproxy_server),
        }
    )
