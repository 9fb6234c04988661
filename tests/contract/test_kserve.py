"""The kserve plugin beyond the contract, on kmock's Kubernetes API emulator (an emulator, not
a cluster: it stores and patches objects but validates nothing and runs no controller, so these
tests check the exact JSON patches sent, and ``KServeController`` plays KServe's part)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console import mitigation
from console.backends.plugin import PluginContext
from console.backends.types import FALLBACK_RULES
from console.enums import ActionKind, ActionStatus
from console.errors import BackendError, ConfigError, InvalidInput
from tests.contract.emulated import NAMESPACE, URIS, kserve_case
from tests.contract.emulators import GRAPHS, GROUP, PLURAL, VERSION

ISVC_PATH = f"/apis/{GROUP}/{VERSION}/namespaces/{NAMESPACE}/{PLURAL}/churn"


@pytest.fixture
def kserve(request, open_ws, world_path, tmp_path, monkeypatch):
    return kserve_case(request, open_ws, world_path, tmp_path, monkeypatch)


def _isvc(case) -> dict:
    return case.extra["objects"].get_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, "churn"
    )


def _ops(patch) -> list[dict]:
    """A JSON patch with the time-stamped annotation values parsed (or replaced by "…")."""
    out = []
    for op in patch.data:
        op = dict(op)
        if op["path"].endswith("rollbook.dev~1desired"):
            op["value"] = {k: v for k, v in json.loads(op["value"]).items() if k != "at"}
        elif op["path"].endswith("rollbook.dev~1changed-by"):
            assert op["value"].startswith("tester at ")
            op["value"] = "…"
        elif op["path"].endswith("rollbook.dev~1revisions"):
            op["value"] = json.loads(op["value"])
        out.append(op)
    return out


def test_a_canary_of_another_version_is_one_json_patch(kserve):
    emulator = kserve.extra["emulator"]
    kserve.traffic.set_routes("churn", {"v13": 90, "v12": 10}, actor="tester")
    (patch,) = emulator.patches("churn")
    assert patch.url.path == ISVC_PATH
    assert patch.headers["Content-Type"] == "application/json-patch+json"
    ann = "/metadata/annotations/rollbook.dev~1"
    assert _ops(patch) == [
        # refused by the API server if someone changed the model since it was read
        {"op": "test", "path": "/spec/predictor/model/storageUri", "value": URIS["v13"]},
        {"op": "replace", "path": "/spec/predictor/model/storageUri", "value": URIS["v12"]},
        {"op": "add", "path": "/spec/predictor/canaryTrafficPercent", "value": 10},
        {"op": "add", "path": "/metadata/annotations", "value": {}},
        {"op": "add", "path": ann + "revisions", "value": {"churn-predictor-00001": "v13"}},
        {
            "op": "add",
            "path": ann + "desired",
            "value": {
                "canary": 10,
                "expect": {"latest": 10, "not": ["churn-predictor-00001"]},
                "routes": {"v12": 10, "v13": 90},
                "storageUri": URIS["v12"],
            },
        },
        {"op": "add", "path": ann + "changed-by", "value": "…"},
        {"op": "add", "path": ann + "previous-storage-uri", "value": URIS["v13"]},
    ]
    status = _isvc(kserve)["status"]["components"]["predictor"]["traffic"]
    assert [(t["revisionName"], t["percent"]) for t in status] == [
        ("churn-predictor-00002", 10),
        ("churn-predictor-00001", 90),
    ]


def test_rollback_of_a_canary_sets_canary_traffic_percent_to_0(kserve):
    emulator = kserve.extra["emulator"]
    kserve.traffic.set_routes("churn", {"v13": 90, "v12": 10}, actor="tester")
    res = mitigation.run(kserve.ws, mitigation.Request(ActionKind.ROLLBACK, "churn"))
    assert res.status is ActionStatus.APPLIED and res.plan.rule == "remove_canary"
    patch = emulator.patches("churn")[-1]
    spec_ops = [op for op in patch.data if op["path"].startswith("/spec")]
    assert spec_ops == [
        {"op": "test", "path": "/spec/predictor/model/storageUri", "value": URIS["v12"]},
        {"op": "add", "path": "/spec/predictor/canaryTrafficPercent", "value": 0},
    ]
    obj = _isvc(kserve)
    assert obj["spec"]["predictor"]["model"]["storageUri"] == URIS["v12"]  # kept, at 0 %
    traffic = obj["status"]["components"]["predictor"]["traffic"]
    assert [(t["revisionName"], t["percent"], t["latestRevision"]) for t in traffic] == [
        ("churn-predictor-00002", 0, True),
        ("churn-predictor-00001", 100, False),
    ]
    assert kserve.traffic.routes("churn") == {"v13": 100.0}
    # the revisions annotation keeps naming the canary's revision after it stopped serving
    revisions = json.loads(obj["metadata"]["annotations"]["rollbook.dev/revisions"])
    assert revisions == {"churn-predictor-00001": "v13", "churn-predictor-00002": "v12"}
    # the next canary goes beside the revision that serves everything after the rollback
    kserve.traffic.set_routes("churn", {"v13": 90, "v11": 10}, actor="tester")
    spec_ops = [op for op in emulator.patches("churn")[-1].data if op["path"].startswith("/spec")]
    assert spec_ops == [
        {"op": "test", "path": "/spec/predictor/model/storageUri", "value": URIS["v12"]},
        {"op": "replace", "path": "/spec/predictor/model/storageUri", "value": URIS["v11"]},
        {"op": "add", "path": "/spec/predictor/canaryTrafficPercent", "value": 10},
    ]
    assert kserve.traffic.routes("churn") == {"v13": 90.0, "v11": 10.0}


def test_rollback_to_an_older_version_restores_its_storage_uri(kserve):
    emulator = kserve.extra["emulator"]
    res = mitigation.run(kserve.ws, mitigation.Request(ActionKind.ROLLBACK, "churn", to="v12"))
    assert res.status is ActionStatus.APPLIED, res.message
    spec_ops = [op for op in emulator.patches("churn")[-1].data if op["path"].startswith("/spec")]
    assert spec_ops == [
        {"op": "test", "path": "/spec/predictor/model/storageUri", "value": URIS["v13"]},
        {"op": "replace", "path": "/spec/predictor/model/storageUri", "value": URIS["v12"]},
    ]
    annotations = _isvc(kserve)["metadata"]["annotations"]
    assert annotations["rollbook.dev/previous-storage-uri"] == URIS["v13"]
    assert kserve.traffic.routes("churn") == {"v12": 100.0}


def test_a_rollout_kserve_has_not_reported_is_pending_not_unchanged(kserve):
    controller = kserve.extra["controller"]
    kserve.traffic.readback_timeout = 0.5
    controller.paused.set()
    with pytest.raises(BackendError, match="did not roll out"):
        kserve.traffic.set_routes("churn", {"v12": 100}, actor="tester")
    # the spec asks for v12 while the status still shows v13: neither answer would be true
    with pytest.raises(BackendError, match="has not rolled out yet"):
        kserve.traffic.routes("churn")
    controller.paused.clear()
    controller.settle()
    assert kserve.traffic.routes("churn") == {"v12": 100.0}


def test_a_change_made_outside_rollbook_is_read_as_it_is(kserve):
    """After Rollbook's change, someone edits the spec: the annotation no longer describes it,
    and the routes read are KServe's status (an unknown revision named as such)."""
    objects, controller = kserve.extra["objects"], kserve.extra["controller"]
    kserve.traffic.set_routes("churn", {"v12": 100}, actor="tester")
    objects.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        NAMESPACE,
        PLURAL,
        "churn",
        {"spec": {"predictor": {"model": {"storageUri": "s3://models/churn/hotfix"}}}},
    )
    controller.settle()
    assert kserve.traffic.routes("churn") == {"revision:churn-predictor-00003": 100.0}


def test_the_kill_switch_moves_the_router_not_the_service(kserve):
    emulator = kserve.extra["emulator"]
    res = mitigation.run(
        kserve.ws, mitigation.Request(ActionKind.KILLSWITCH, "churn", level="rules")
    )
    assert res.status is ActionStatus.APPLIED, res.message
    assert emulator.patches("churn") == []
    (patch,) = emulator.patches("churn-router")
    assert patch.url.path.endswith(f"/{GRAPHS[1]}/churn-router")
    assert patch.data == [
        {"op": "test", "path": "/spec/nodes/root/steps/0/serviceName", "value": "churn"},
        {"op": "add", "path": "/spec/nodes/root/steps/0/weight", "value": 0},
        {"op": "test", "path": "/spec/nodes/root/steps/1/serviceName", "value": "churn-rules"},
        {"op": "add", "path": "/spec/nodes/root/steps/1/weight", "value": 100},
        {"op": "test", "path": "/spec/nodes/root/steps/2/serviceName", "value": "churn-review"},
        {"op": "add", "path": "/spec/nodes/root/steps/2/weight", "value": 0},
    ]
    assert kserve.traffic.routes("churn") == {FALLBACK_RULES: 100.0}


def test_splits_kserve_cannot_make_are_refused_before_any_write(kserve):
    emulator = kserve.extra["emulator"]
    with pytest.raises(InvalidInput, match="latest revision and the previous"):
        kserve.traffic.set_routes("churn", {"v11": 50, "v12": 50}, actor="tester")
    with pytest.raises(InvalidInput, match="all of a model's traffic or none"):
        kserve.traffic.set_routes("churn", {"v13": 50, FALLBACK_RULES: 50}, actor="tester")
    assert emulator.patches() == []


def test_rbac_refusals_name_the_permissions(kserve):
    emulator = kserve.extra["emulator"]
    emulator.handler["get", ISVC_PATH] << 403  # the emulator answers 403 to reads of churn
    with pytest.raises(BackendError, match="HTTP 403") as err:
        kserve.traffic.routes("churn")
    assert "RBAC" in (err.value.hint or "")


def _make(options: dict, tmp_path: Path):
    from plugins.kserve import make_traffic

    return make_traffic(PluginContext("prod", tmp_path), options)


def test_config_errors_name_the_key(k8s_emulator, tmp_path):
    kubeconfig = str(k8s_emulator.write_kubeconfig(tmp_path / "kc.yaml"))
    with pytest.raises(ConfigError, match="versions"):
        _make({"kubeconfig": kubeconfig, "models": {"churn": {}}}, tmp_path)
    with pytest.raises(ConfigError, match="router"):
        _make(
            {
                "kubeconfig": kubeconfig,
                "models": {"churn": {"versions": {"1": "s3://a"}, "fallbacks": {"rules": "r"}}},
            },
            tmp_path,
        )
    with pytest.raises(ConfigError, match="no context"):
        _make({"kubeconfig": kubeconfig, "context": "nope", "models": {}}, tmp_path)
    t = _make(
        {"kubeconfig": kubeconfig, "models": {"churn": {"versions": {"1": "s3://a"}}}}, tmp_path
    )
    assert t.models["churn"].namespace == NAMESPACE  # from the kubeconfig context
    t.close()
