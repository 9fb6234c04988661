"""The kserve and sagemaker contract cases, on their emulators (``emulators.py``): kmock's
Kubernetes API emulator with a test controller playing KServe, and moto's SageMaker server."""

from __future__ import annotations

import contextlib

from tests.contract.cases import MODEL, TrafficCase

NAMESPACE = "models"
URIS = {v: f"s3://models/churn/{v}" for v in ("v11", "v12", "v13")}


def _embedded(path: str) -> dict:
    return {"plugin": "embedded", "path": path}


# ---- kserve on kmock's Kubernetes emulator ---------------------------------------------------
def kserve_case(request, open_ws, world_path, tmp_path, monkeypatch) -> TrafficCase:
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


def sagemaker_case(request, open_ws, world_path, tmp_path, monkeypatch) -> TrafficCase:
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
