"""The sagemaker plugin beyond the contract: on moto's SageMaker server (an emulator, not the
service: it applies weight updates at once, so the tests that need an endpoint ``Updating``
set it on moto's backend themselves), and with botocore's ``Stubber`` for ``UpdateEndpoint``,
which moto does not implement — there the request shape is what is checked."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from console import mitigation
from console.backends.plugin import PluginContext
from console.enums import ActionKind, ActionStatus
from console.errors import BackendError, ConfigError, InvalidInput
from plugins.sagemaker.traffic import EndpointModel, SageMakerTraffic
from tests.contract.emulated import (
    VARIANTS,
    aws_test_credentials,
    create_endpoint,
    sagemaker_options,
)


@pytest.fixture
def moto(moto_sagemaker, monkeypatch):
    moto_sagemaker.reset()
    aws_test_credentials(monkeypatch)
    create_endpoint(
        boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_sagemaker.url)
    )
    return moto_sagemaker


def _make(options: dict, tmp_path: Path) -> SageMakerTraffic:
    from plugins.sagemaker import make_traffic

    opts = {k: v for k, v in options.items() if k != "plugin"}
    return make_traffic(PluginContext("prod", tmp_path), opts)


def _calls(t: SageMakerTraffic) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []
    t.client.meta.events.register(
        "provide-client-params.sagemaker.*",
        lambda params, model, **_: seen.append((model.name, dict(params))),
    )
    return seen


def test_weights_are_one_update_of_every_variant(moto, tmp_path):
    t = _make(sagemaker_options(moto.url), tmp_path)
    calls = _calls(t)
    t.set_routes("churn", {"v13": 75, "v12": 25}, actor="tester")
    updates = [p for name, p in calls if name == "UpdateEndpointWeightsAndCapacities"]
    assert updates == [
        {
            "EndpointName": "churn-prod",
            "DesiredWeightsAndCapacities": [
                {"VariantName": "churn-v12", "DesiredWeight": 25.0},
                {"VariantName": "churn-v13", "DesiredWeight": 75.0},
                {"VariantName": "churn-rules", "DesiredWeight": 0.0},
                {"VariantName": "churn-review", "DesiredWeight": 0.0},
            ],
        }
    ]
    assert [n for n, _ in calls if n == "DescribeEndpoint"]  # read back
    assert t.routes("churn") == {"v13": 75.0, "v12": 25.0}


def test_set_routes_waits_while_the_endpoint_is_updating(moto, tmp_path):
    t = _make(sagemaker_options(moto.url), tmp_path)
    endpoint = moto.endpoint("churn-prod")
    before = {v["VariantName"]: v.get("CurrentWeight") for v in endpoint.production_variants}
    seen: list[str] = []

    def updating(**_):
        # plays SageMaker mid-update (moto applied it at once): the new weights are Desired,
        # the old ones still Current, the endpoint Updating
        endpoint.endpoint_status = "Updating"
        for v in endpoint.production_variants:
            v["DesiredWeight"] = v.get("CurrentWeight")
            v["CurrentWeight"] = before[v["VariantName"]]

    def describe(**_):
        # ... until the plugin has looked twice: then the update completes
        if seen.count("Updating") == 2:
            for v in endpoint.production_variants:
                v["CurrentWeight"] = v["DesiredWeight"]
            endpoint.endpoint_status = "InService"
        seen.append(endpoint.endpoint_status)

    events = t.client.meta.events
    events.register("after-call.sagemaker.UpdateEndpointWeightsAndCapacities", updating)
    events.register("before-call.sagemaker.DescribeEndpoint", describe)
    t.set_routes("churn", {"v12": 100}, actor="tester")
    assert seen[-3:] == ["Updating", "Updating", "InService"]
    assert t.routes("churn") == {"v12": 100.0}


def test_an_endpoint_stuck_updating_is_an_error_after_the_deadline(moto, tmp_path):
    t = _make(sagemaker_options(moto.url, readback_timeout=0.4), tmp_path)
    endpoint = moto.endpoint("churn-prod")
    t.client.meta.events.register(
        "after-call.sagemaker.UpdateEndpointWeightsAndCapacities",
        lambda **_: setattr(endpoint, "endpoint_status", "Updating"),
    )
    with pytest.raises(BackendError, match="still Updating after 0.4s") as err:
        t.set_routes("churn", {"v12": 100}, actor="tester")
    assert "may still apply" in (err.value.hint or "")


def test_an_update_past_the_actions_deadline_is_partial_not_unchanged(moto, open_ws, world_path):
    """The core's per-call deadline passes while the endpoint is still Updating: the routes
    cannot be read as "unchanged" (they are moving), so the action is partially applied."""
    ws = open_ws(
        {
            "registry": {"plugin": "embedded", "path": world_path},
            "metrics": {"plugin": "embedded", "path": world_path},
            "traffic": sagemaker_options(moto.url, readback_timeout=2),
        }
    )
    endpoint = moto.endpoint("churn-prod")

    def stuck(**_):  # plays SageMaker: the update takes longer than the action's deadline
        endpoint.endpoint_status = "Updating"
        for v in endpoint.production_variants:
            v["DesiredWeight"] = v.get("CurrentWeight")
            v["CurrentWeight"] = 1.0 if v["VariantName"] == "churn-v13" else 0.0

    ws.backends.traffic.client.meta.events.register(
        "after-call.sagemaker.UpdateEndpointWeightsAndCapacities", stuck
    )
    request = mitigation.Request(ActionKind.TRAFFIC, "churn", weights={"v12": 100})
    res = mitigation.run(ws, request, timeout=1)
    assert res.status is ActionStatus.PARTIAL, res.message
    with pytest.raises(BackendError, match="Updating: weights moving from"):
        ws.backends.traffic.routes("churn")
    assert res.finish == "rollbook traffic churn v12=100 --yes"
    assert res.undo == "rollbook traffic churn v13=100 --yes"


def test_a_failed_update_says_why(moto, tmp_path):
    t = _make(sagemaker_options(moto.url), tmp_path)
    endpoint = moto.endpoint("churn-prod")

    def fail(**_):
        endpoint.endpoint_status = "Failed"
        endpoint.failure_reason = "capacity error (emulated)"

    t.client.meta.events.register("after-call.sagemaker.UpdateEndpointWeightsAndCapacities", fail)
    with pytest.raises(BackendError, match="Failed: capacity error"):
        t.set_routes("churn", {"v12": 100}, actor="tester")


def test_an_endpoint_not_in_service_is_left_alone(moto, tmp_path):
    t = _make(sagemaker_options(moto.url), tmp_path)
    calls = _calls(t)
    moto.endpoint("churn-prod").endpoint_status = "Updating"
    with pytest.raises(BackendError, match="is Updating; nothing was changed"):
        t.set_routes("churn", {"v12": 100}, actor="tester")
    assert [n for n, _ in calls if n.startswith("Update")] == []


def test_a_version_off_the_endpoint_takes_all_or_nothing(moto, tmp_path):
    t = _make(sagemaker_options(moto.url), tmp_path)
    calls = _calls(t)
    with pytest.raises(InvalidInput, match="no variant for v11"):
        t.set_routes("churn", {"v11": 50, "v13": 50}, actor="tester")
    assert [n for n, _ in calls if n.startswith("Update")] == []


def test_rollback_to_an_endpoint_config_through_update_endpoint():
    """moto does not implement UpdateEndpoint: botocore's Stubber checks the request the plugin
    sends and answers as SageMaker documents (Updating, then InService on the new config)."""
    client = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    model = EndpointModel(
        "churn-prod",
        variants=VARIANTS,
        fallbacks={"previous": "v12"},
        configs={"v11": "churn-prod-v11"},
    )
    t = SageMakerTraffic(client, {"churn": model}, readback_timeout=5, poll_interval=0.01)

    def described(status: str, config: str, variants: dict[str, float]) -> dict:
        return {
            "EndpointName": "churn-prod",
            "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-prod",
            "EndpointConfigName": config,
            "EndpointStatus": status,
            "CreationTime": "2026-11-22T06:00:00Z",
            "LastModifiedTime": "2026-11-22T06:00:00Z",
            "ProductionVariants": [
                {"VariantName": n, "CurrentWeight": w, "DesiredWeight": w}
                for n, w in variants.items()
            ],
        }

    old = {"churn-v12": 0.0, "churn-v13": 1.0}
    with Stubber(client) as stub:
        stub.add_response(
            "describe_endpoint",
            described("InService", "churn-prod-1", old),
            {"EndpointName": "churn-prod"},
        )
        stub.add_response(
            "update_endpoint",
            {"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-prod"},
            {"EndpointName": "churn-prod", "EndpointConfigName": "churn-prod-v11"},
        )
        stub.add_response(
            "describe_endpoint",
            described("Updating", "churn-prod-1", old),
            {"EndpointName": "churn-prod"},
        )
        for _ in range(2):  # the read-back, then routes() after it
            stub.add_response(
                "describe_endpoint",
                described("InService", "churn-prod-v11", {"churn-v11": 1.0}),
                {"EndpointName": "churn-prod"},
            )
        t.set_routes("churn", {"v11": 100}, actor="tester")
        assert t.routes("churn") == {"v11": 100.0}
        stub.assert_no_pending_responses()


def test_credentials_come_only_from_the_aws_chain(moto, tmp_path, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    t = _make(sagemaker_options(moto.url), tmp_path)
    with pytest.raises(BackendError, match="no AWS credentials") as err:
        t.routes("churn")
    assert "environment" in (err.value.hint or "")


def test_config_errors_name_the_key(tmp_path, monkeypatch):
    aws_test_credentials(monkeypatch)
    with pytest.raises(ConfigError, match="region"):
        _make({**sagemaker_options("http://127.0.0.1:9"), "region": None}, tmp_path)
    bad = sagemaker_options("http://127.0.0.1:9")
    bad["models"]["churn"]["configs"] = {"v5": "churn-prod-v5"}
    with pytest.raises(ConfigError, match="configs"):
        _make(bad, tmp_path)
