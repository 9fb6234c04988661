"""The emulators the kserve and sagemaker plugins are tested against — emulators, not the
real services: no Kubernetes API server or SageMaker can run on these machines.

- **Kubernetes API: kmock's ``KubernetesEmulator``** (PyPI ``kmock``), an aiohttp server on a
  free 127.0.0.1 port that stores, lists, watches and patches any resource (JSON merge patch and
  JSON patch, ``test`` ops included). It does not validate objects against the CRD schemas, keeps
  no ``metadata.generation``, answers a failed JSON-patch ``test`` with 500 where Kubernetes
  answers 422, and runs no controller. So the tests also check the exact patch bodies the
  plugin sends, and ``KServeController`` below plays the KServe controller's part — the one
  thing here that is ours, not the emulator's: it turns an InferenceService's spec into the
  status KServe would write (revisions, ``status.components.predictor.traffic``, conditions).
- **SageMaker: moto in server mode** (``moto.server.ThreadedMotoServer`` on a free 127.0.0.1
  port). It implements ``CreateEndpoint``, ``DescribeEndpoint`` and
  ``UpdateEndpointWeightsAndCapacities`` (which it applies at once, so the endpoint is never
  seen ``Updating``; the tests that need ``Updating`` set it on moto's backend themselves). It
  does not implement ``UpdateEndpoint``: that call's request shape is checked with botocore's
  ``Stubber`` instead (``test_sagemaker.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

GROUP, VERSION, PLURAL = "serving.kserve.io", "v1beta1", "inferenceservices"
GRAPHS = ("v1alpha1", "inferencegraphs")


class KubernetesApiEmulator:
    """kmock's KubernetesEmulator served from a background event loop, so the synchronous
    ``kubernetes`` client (urllib3) can talk to it over real HTTP."""

    def __init__(self) -> None:
        import kmock

        self._kmock = kmock
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._run(self._start())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _start(self) -> None:
        self.handler = self._kmock.KubernetesEmulator()
        await self.handler.__aenter__()
        self.server = self._kmock.Server(self.handler)  # host 127.0.0.1, a free port
        await self.server.__aenter__()

    async def _stop(self) -> None:
        await self.server.__aexit__(None, None, None)
        await self.handler.__aexit__(None, None, None)

    @property
    def url(self) -> str:
        return str(self.server.url).rstrip("/")

    def requests(self) -> list:
        """Every request the emulator received, oldest first (kmock's request log)."""
        return list(self.handler)

    def patches(self, name: str | None = None, *, status: bool = False) -> list:
        """PATCH requests (to ``/status`` when ``status``), for one object when ``name``."""
        return [
            r
            for r in self.requests()
            if str(r.method.value) == "PATCH"
            and (name is None or r.name == name)
            and (r.subresource == "status") == status
        ]

    def write_kubeconfig(self, path: Path, namespace: str = "models") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "oncall", "user": {"token": "emulator-token"}}],
            "contexts": [
                {
                    "name": "emulator",
                    "context": {"cluster": "emulator", "user": "oncall", "namespace": namespace},
                }
            ],
            "current-context": "emulator",
        }
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    def stop(self) -> None:
        self._run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class KServeController(threading.Thread):
    """Plays the KServe controller against the emulator (kmock runs none): each spec change of
    an InferenceService (``storageUri``, ``canaryTrafficPercent``) is turned, ``delay`` seconds
    after it is seen, into the status KServe writes — a new revision ``<name>-predictor-0000N``
    for a new ``storageUri``; traffic ``canaryTrafficPercent`` on the latest revision and the
    rest on the previous rolled-out one (all on the latest when unset); Ready conditions.
    ``paused`` stops it (a controller that does not get to the change); ``unready`` makes a
    service's ``PredictorReady`` False."""

    def __init__(self, api_client: Any, namespace: str, *, delay: float = 0.15) -> None:
        super().__init__(daemon=True)
        from kubernetes import client

        self.objects = client.CustomObjectsApi(api_client)
        self.namespace = namespace
        self.delay = delay
        self.paused = threading.Event()
        self.unready: dict[str, str] = {}  # service -> message
        self._halt = threading.Event()
        self._seen: dict[str, tuple] = {}
        self._noticed: dict[str, float] = {}
        self._count: dict[str, int] = {}
        self._latest: dict[str, str] = {}
        self._rolled_out: dict[str, str] = {}
        self.reconciled = 0

    def run(self) -> None:
        while not self._halt.is_set():
            if not self.paused.is_set():
                # the emulator may stop under it at the end of a test
                with contextlib.suppress(Exception):
                    self.reconcile()
            time.sleep(0.02)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def reconcile(self) -> None:
        items = self.objects.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL
        ).get("items", [])
        for obj in items:
            name = obj["metadata"]["name"]
            predictor = obj["spec"]["predictor"]
            spec = (
                predictor["model"]["storageUri"],
                predictor.get("canaryTrafficPercent"),
                self.unready.get(name),
            )
            if self._seen.get(name) == spec:
                continue
            noticed = self._noticed.setdefault(name, time.monotonic())
            if time.monotonic() - noticed < self.delay:
                continue
            self._apply(name, spec, obj)
            self._noticed.pop(name, None)

    def _apply(self, name: str, spec: tuple, obj: dict) -> None:
        uri, canary, unready = spec
        previous = self._seen.get(name)
        if previous is None or previous[0] != uri:
            self._count[name] = self._count.get(name, 0) + 1
            self._latest[name] = f"{name}-predictor-{self._count[name]:05d}"
        latest = self._latest[name]
        rolled = self._rolled_out.get(name)
        if canary is None or canary == 100 or rolled in (None, latest):
            traffic = [{"revisionName": latest, "percent": 100, "latestRevision": True}]
            self._rolled_out[name] = latest
        else:
            traffic = [
                {
                    "revisionName": latest,
                    "percent": canary,
                    "latestRevision": True,
                    "tag": "latest",
                },
                {
                    "revisionName": rolled,
                    "percent": 100 - canary,
                    "latestRevision": False,
                    "tag": "prev",
                },
            ]
        ready = {"type": "PredictorReady", "status": "True"}
        if unready:
            ready = {"type": "PredictorReady", "status": "False", "reason": unready}
        body = {
            "status": {
                "url": f"http://{name}.{self.namespace}.example.com",
                "components": {
                    "predictor": {
                        "traffic": traffic,
                        "latestCreatedRevision": latest,
                        "latestRolledoutRevision": self._rolled_out[name],
                    }
                },
                "conditions": [
                    {"type": "Ready", "status": "False" if unready else "True"},
                    ready,
                    {"type": "LatestDeploymentReady", "status": "True"},
                ],
            }
        }
        self.objects.patch_namespaced_custom_object_status(
            GROUP, VERSION, self.namespace, PLURAL, name, body
        )
        self._seen[name] = spec
        self.reconciled += 1

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every InferenceService's spec has been reconciled."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = self.objects.list_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL
            ).get("items", [])
            done = all(
                self._seen.get(o["metadata"]["name"])
                == (
                    o["spec"]["predictor"]["model"]["storageUri"],
                    o["spec"]["predictor"].get("canaryTrafficPercent"),
                    self.unready.get(o["metadata"]["name"]),
                )
                for o in items
            )
            if done:
                return
            time.sleep(0.02)
        raise AssertionError("the KServe controller emulation did not settle")


def inference_service(name: str, namespace: str, uri: str) -> dict:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "InferenceService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": uri}}},
    }


def splitter_graph(name: str, namespace: str, weights: dict[str, int]) -> dict:
    return {
        "apiVersion": f"{GROUP}/{GRAPHS[0]}",
        "kind": "InferenceGraph",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "nodes": {
                "root": {
                    "routerType": "Splitter",
                    "steps": [{"serviceName": s, "weight": w} for s, w in weights.items()],
                }
            }
        },
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


class MotoSageMaker:
    """moto's server mode on a free 127.0.0.1 port (SageMaker emulated, not the service)."""

    ACCOUNT, REGION = "123456789012", "us-east-1"

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def reset(self) -> None:
        import httpx

        httpx.post(self.url + "/moto-api/reset", timeout=5).raise_for_status()

    def endpoint(self, name: str) -> Any:
        """moto's in-process record of an endpoint, for a test that plays SageMaker's part
        (an endpoint ``Updating``, a variant without instances)."""
        from moto.backends import get_backend

        return get_backend("sagemaker")[self.ACCOUNT][self.REGION].endpoints[name]

    def stop(self) -> None:
        self.server.stop()
