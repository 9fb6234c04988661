"""The plugin contract's cases: ``traffic_case`` runs every traffic test against the embedded
plugin, the real HAProxy (started by ``tests/integration/fixtures.py``), kserve on kmock's
Kubernetes emulator and sagemaker on moto's server; ``registry_case`` against the embedded
registry and the real MLflow. Emulated, not real: see ``emulators.py``."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from tests.contract.cases import MODEL, RegistryCase, TrafficCase, nothing

TRAFFIC_PLUGINS = (
    "embedded",
    pytest.param("haproxy", marks=pytest.mark.integration),
    "kserve",
    "sagemaker",
)
REGISTRY_PLUGINS = ("embedded", pytest.param("mlflow", marks=pytest.mark.integration))
NAMESPACE = "models"
URIS = {v: f"s3://models/churn/{v}" for v in ("v11", "v12", "v13")}


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
        "kserve": _kserve_case,
        "sagemaker": _sagemaker_case,
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


# ---- kserve on kmock's Kubernetes emulator ---------------------------------------------------
def _kserve_case(request, open_ws, world_path, tmp_path, monkeypatch) -> TrafficCase:
    from kubernetes import client, config

    from tests.contract.emulators import (
        GRAPHS,
        GROUP,
        PLURAL,
        VERSION,
        KServeController,
        inference_service,
        splitter_graph,
    )

    emulator = request.getfixturevalue("k8s_emulator")
    kubeconfig = emulator.write_kubeconfig(tmp_path / "kubeconfig.yaml", NAMESPACE)
    admin = config.new_client_from_config(config_file=str(kubeconfig))
    objects = client.CustomObjectsApi(admin)
    for name, uri in (
        (MODEL, URIS["v13"]),
        ("churn-rules", "s3://models/churn-rules/1"),
        ("churn-review", "s3://models/churn-review/1"),
    ):
        objects.create_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, inference_service(name, NAMESPACE, uri)
        )
    objects.create_namespaced_custom_object(
        GROUP,
        GRAPHS[0],
        NAMESPACE,
        GRAPHS[1],
        splitter_graph(
            "churn-router", NAMESPACE, {MODEL: 100, "churn-rules": 0, "churn-review": 0}
        ),
    )
    controller = KServeController(admin, NAMESPACE)
    controller.start()
    request.addfinalizer(controller.stop)
    request.addfinalizer(admin.close)
    controller.settle()
    ws = open_ws(
        {
            "registry": _embedded(world_path),
            "metrics": _embedded(world_path),
            "traffic": {
                "plugin": "kserve",
                "kubeconfig": str(kubeconfig),
                "readback_timeout": 10,
                "poll_interval": 0.05,
                "models": {
                    MODEL: {
                        "service": MODEL,
                        "versions": URIS,
                        "router": "churn-router",
                        "fallbacks": {
                            "previous": "v12",
                            "rules": "churn-rules",
                            "manual": "churn-review",
                        },
                    }
                },
            },
        }
    )

    @contextlib.contextmanager
    def mid_change():
        # the spec patch lands; the controller does not get to it before the read-back's
        # deadline (shortened here), then does (when the block ends)
        traffic, timeout = ws.backends.traffic, ws.backends.traffic.readback_timeout
        traffic.readback_timeout = 0.5
        controller.paused.set()
        try:
            yield
        finally:
            traffic.readback_timeout = timeout
            controller.paused.clear()
            controller.settle()

    @contextlib.contextmanager
    def unhealthy(route: str):
        controller.unready[MODEL] = "RevisionMissing: container failed to start (emulated)"
        controller.settle()
        try:
            yield
        finally:
            controller.unready.pop(MODEL)
            controller.settle()

    return TrafficCase(
        "kserve",
        ws,
        "v12",
        "v13",
        lambda: len(emulator.patches()),
        mid_change,
        unhealthy,
        extra={"emulator": emulator, "controller": controller, "objects": objects},
    )


# ---- sagemaker on moto's server --------------------------------------------------------------
VARIANTS = {"v11": "churn-v11", "v12": "churn-v12", "v13": "churn-v13"}


def create_endpoint(sm, endpoint: str = "churn-prod") -> None:
    """Endpoint ``churn-prod``: v12, v13 (all the traffic), the rules and review variants;
    config ``churn-prod-v11`` holds v11 alone (a version that left the endpoint)."""
    for variant in [*VARIANTS.values(), "churn-rules", "churn-review"]:
        sm.create_model(
            ModelName=variant,
            ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"},
        )

    def variant(name: str, weight: float) -> dict:
        return {
            "VariantName": name,
            "ModelName": name,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": weight,
        }

    weights = {"churn-v12": 0.0, "churn-v13": 1.0, "churn-rules": 0.0, "churn-review": 0.0}
    sm.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-1",
        ProductionVariants=[variant(n, w) for n, w in weights.items()],
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-v11", ProductionVariants=[variant("churn-v11", 1.0)]
    )
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-1")


def sagemaker_options(url: str, **over) -> dict:
    return {
        "plugin": "sagemaker",
        "region": "us-east-1",
        "endpoint_url": url,
        "readback_timeout": 2,
        "poll_interval": 0.05,
        "models": {
            MODEL: {
                "endpoint": "churn-prod",
                "variants": VARIANTS,
                "fallbacks": {"previous": "v12", "rules": "churn-rules", "manual": "churn-review"},
                "configs": {"v11": "churn-prod-v11"},
            }
        },
        **over,
    }


def aws_test_credentials(monkeypatch) -> None:
    """Credentials only from the environment, as in production (moto accepts any)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


def _sagemaker_case(request, open_ws, world_path, tmp_path, monkeypatch) -> TrafficCase:
    import boto3
    from botocore.exceptions import ClientError

    moto = request.getfixturevalue("moto_sagemaker")
    moto.reset()
    aws_test_credentials(monkeypatch)
    sm = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto.url)
    create_endpoint(sm)
    ws = open_ws(
        {
            "registry": _embedded(world_path),
            "metrics": _embedded(world_path),
            "traffic": sagemaker_options(moto.url),
        }
    )
    events = ws.backends.traffic.client.meta.events
    calls: list[str] = []
    events.register("before-call.sagemaker.*", lambda model, **_: calls.append(model.name))
    broken = {"describe": False, "armed": False}

    def after_update(**_):
        if broken["armed"]:
            broken["describe"] = True

    def describe(**_):
        if broken["describe"]:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded (injected)"}},
                "DescribeEndpoint",
            )

    events.register("after-call.sagemaker.UpdateEndpointWeightsAndCapacities", after_update)
    events.register("before-call.sagemaker.DescribeEndpoint", describe)

    @contextlib.contextmanager
    def mid_change():
        # the weight update reaches moto and is applied; every DescribeEndpoint after it is
        # throttled (injected in botocore's event hooks), so nothing can be read back
        broken["armed"] = True
        try:
            yield
        finally:
            broken.update(armed=False, describe=False)

    @contextlib.contextmanager
    def unhealthy(route: str):
        row = next(
            v
            for v in moto.endpoint("churn-prod").production_variants
            if v["VariantName"] == VARIANTS[route]
        )
        count = row.get("CurrentInstanceCount")
        row["CurrentInstanceCount"] = 0  # plays SageMaker: the variant lost its instances
        try:
            yield
        finally:
            row["CurrentInstanceCount"] = count

    def writes() -> int:
        return sum(1 for c in calls if c.startswith("Update"))

    return TrafficCase(
        "sagemaker", ws, "v12", "v13", writes, mid_change, unhealthy, extra={"moto": moto}
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


__all__ = ["nothing"]
