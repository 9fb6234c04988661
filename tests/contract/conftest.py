"""The plugin contract's cases: ``traffic_case`` runs every traffic test against the embedded
plugin, the real HAProxy (started by ``tests/integration/fixtures.py``), kserve on kmock's
Kubernetes emulator and sagemaker on moto's server; ``registry_case`` against the embedded
registry and the real MLflow. Emulated, not real: see ``emulators.py``."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from tests.contract.cases import MODEL, RegistryCase, TrafficCase
from tests.contract.emulated import kserve_case, sagemaker_case

TRAFFIC_PLUGINS = (
    "embedded",
    pytest.param("haproxy", marks=pytest.mark.integration),
    "kserve",
    "sagemaker",
)
REGISTRY_PLUGINS = ("embedded", pytest.param("mlflow", marks=pytest.mark.integration))


@pytest.fixture(scope="session")
def seeded_world(tmp_path_factory) -> Path:
    """One embedded world seeded per session; each test works on a copy of its file."""
    from plugins.embedded.world import EmbeddedWorld

    path = tmp_path_factory.mktemp("contract-world") / "world.db"
    EmbeddedWorld(path).close()
    return path


@pytest.fixture
def world_path(seeded_world, tmp_path) -> str:
    copy = tmp_path / "world.db"
    shutil.copy(seeded_world, copy)
    return str(copy)


@pytest.fixture(scope="session")
def moto_sagemaker():
    from tests.contract.emulators import MotoSageMaker

    server = MotoSageMaker()
    yield server
    server.stop()


@pytest.fixture
def k8s_emulator():
    from tests.contract.emulators import KubernetesApiEmulator

    emulator = KubernetesApiEmulator()
    yield emulator
    emulator.stop()


def _embedded(path: str) -> dict:
    return {"plugin": "embedded", "path": path}


@pytest.fixture(params=TRAFFIC_PLUGINS)
def traffic_case(request, open_ws, world_path, tmp_path, monkeypatch):
    return {
        "embedded": _embedded_case,
        "haproxy": _haproxy_case,
        "kserve": kserve_case,
        "sagemaker": sagemaker_case,
    }[request.param](request, open_ws, world_path, tmp_path, monkeypatch)


# ---- embedded -------------------------------------------------------------------------------
def _embedded_case(request, open_ws, world_path, tmp_path, monkeypatch) -> TrafficCase:
    ws = open_ws(
        {role: _embedded(world_path) for role in ("registry", "metrics", "traffic", "world")}
    )
    world = ws.backends.traffic.world

    def writes() -> int:
        return world.q("SELECT COUNT(*) FROM route_log WHERE model = ?", (MODEL,))[0][0]

    @contextlib.contextmanager
    def mid_change():
        # The embedded write is one transaction: the change lands whole, then every read of
        # the routes fails (the world's own fault injection) — the state is unknown.
        record = world.record_routes

        def then_break(*args, **kwargs):
            record(*args, **kwargs)
            world.break_backend("traffic", "routes", times=-1)

        monkeypatch.setattr(world, "record_routes", then_break)
        try:
            yield
        finally:
            monkeypatch.setattr(world, "record_routes", record)
            world.repair_backend("traffic", "routes")

    @contextlib.contextmanager
    def unhealthy(route: str):
        world.break_backend("traffic", "probe", mode="unhealthy", times=-1, route=route)
        try:
            yield
        finally:
            world.repair_backend("traffic", "probe")

    return TrafficCase("embedded", ws, "v12", "v13", writes, mid_change, unhealthy)


# ---- HAProxy (the real server) ---------------------------------------------------------------
def _haproxy_case(request, open_ws, world_path, tmp_path, monkeypatch) -> TrafficCase:
    from console.errors import BackendError
    from tests.integration.realstack import registry_options, traffic_options

    haproxy = request.getfixturevalue("haproxy_server")
    request.getfixturevalue("churn_registry")
    mlflow = request.getfixturevalue("mlflow_server")
    servers = request.getfixturevalue("model_servers")
    ws = open_ws(
        {
            "registry": registry_options(mlflow),
            "metrics": _embedded(world_path),
            "traffic": traffic_options(haproxy),
        }
    )
    api = ws.backends.traffic.api
    sent: list[str] = []
    real_set = api.set_command
    limit: dict[str, int | None] = {"n": None}

    def set_command(cmd: str) -> None:
        # counts every write; with a limit, HAProxy's runtime API refuses the commands past
        # it (injected here: the earlier commands reached the real server and took effect)
        if limit["n"] is not None and len(sent) >= limit["n"]:
            raise BackendError(f"HAProxy refused `{cmd}`: injected failure")
        sent.append(cmd)
        real_set(cmd)

    monkeypatch.setattr(api, "set_command", set_command)

    @contextlib.contextmanager
    def mid_change():
        # new routes go up first (weight, then ready), so two commands put the old version
        # beside the new one: traffic really is split when the rest is refused
        limit["n"] = len(sent) + 2
        try:
            yield
        finally:
            limit["n"] = None

    @contextlib.contextmanager
    def unhealthy(route: str):
        server = servers[route]
        server.admin(error_rate=1.0)  # the model server answers 500 to everything
        try:
            yield
        finally:
            server.admin(error_rate=0.0)

    # MLflow's versions are integers ("v99" trips a registry bug: see the registry contract)
    return TrafficCase(
        "haproxy", ws, "1", "2", lambda: len(sent), mid_change, unhealthy, unknown="99"
    )


# ---- registries ------------------------------------------------------------------------------
@pytest.fixture(params=REGISTRY_PLUGINS)
def registry_case(request, open_ws, world_path, monkeypatch) -> RegistryCase:
    if request.param == "embedded":
        ws = open_ws(
            {role: _embedded(world_path) for role in ("registry", "metrics", "traffic", "world")}
        )
        world = ws.backends.registry.world

        @contextlib.contextmanager
        def broken_pointer():
            world.break_backend("registry", "set_production", times=-1)
            try:
                yield
            finally:
                world.repair_backend("registry", "set_production")

        return RegistryCase("embedded", ws, "v12", "v13", broken_pointer)

    from console.errors import BackendError
    from tests.integration.realstack import registry_options, traffic_options

    haproxy = request.getfixturevalue("haproxy_server")
    request.getfixturevalue("churn_registry")
    mlflow = request.getfixturevalue("mlflow_server")
    ws = open_ws(
        {
            "registry": registry_options(mlflow),
            "metrics": _embedded(world_path),
            "traffic": traffic_options(haproxy),
        }
    )

    api = ws.backends.registry.api
    post = api.post

    @contextlib.contextmanager
    def broken_pointer():
        # MLflow answers 503 to the alias write (injected in the plugin's HTTP client: reads
        # still reach the real server). Stopping the real server mid-rollback is covered by
        # tests/integration/test_real_rollback.py, at 10+ s a restart.
        def refuse(path, *args, **kwargs):
            if path.endswith("/registered-models/alias"):
                raise BackendError(f"MLflow POST {path}: HTTP 503 (injected)")
            return post(path, *args, **kwargs)

        monkeypatch.setattr(api, "post", refuse)
        try:
            yield
        finally:
            monkeypatch.setattr(api, "post", post)

    return RegistryCase("mlflow", ws, "1", "2", broken_pointer)
