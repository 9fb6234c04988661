"""KServe traffic: an InferenceService's revisions (and fallback InferenceServices behind an
InferenceGraph splitter) as routes.

KServe splits an InferenceService's traffic between two revisions at most: the latest one
takes ``spec.predictor.canaryTrafficPercent`` (all of it when unset) and the previous rolled-out
one the rest; ``status.components.predictor.traffic`` says what actually serves. So a change is
one of: set the canary percent (``{latest: x, previous: 100 - x}``, and rollback's ``0``),
remove it (all on the latest), or put a version's ``storageUri`` back (a new revision, all of the
traffic or a canary share of it). Anything else is refused before any write.

Annotations on the InferenceService (the plugin's memory; the audit log keeps the rest):

- ``rollbook.dev/revisions``: JSON revision name → version, recorded when a revision stops
  being the latest, so routes keep naming versions after a rollout;
- ``rollbook.dev/previous-storage-uri``: the ``storageUri`` before Rollbook last replaced it;
- ``rollbook.dev/desired``: what Rollbook last asked for; while the spec still says so and the
  status does not show it yet, the rollout is pending and ``routes`` says so (an error), rather
  than reporting the old traffic as if nothing had changed;
- ``rollbook.dev/changed-by``: who changed it, and when.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from console.backends.interfaces import Traffic
from console.backends.types import FALLBACK_RULES, FallbackLevel, Health, check_total, whole_percent
from console.errors import BackendError, InvalidInput, NotFound
from plugins.kserve.model import (
    A_CHANGED,
    A_DESIRED,
    A_PREVIOUS_URI,
    A_REVISIONS,
    GRAPH,
    GROUP,
    ISVC,
    REQUEST_TIMEOUT_S,
    UNMAPPED,
    UNMAPPED_SERVICE,
    Revision,
    ServiceModel,
    ServiceState,
    json_pointer,
    read_state,
    shows,
)


class KServeTraffic(Traffic):
    capabilities: ClassVar[frozenset[str]] = frozenset({"fallback", "probe"})

    def __init__(
        self,
        api_client: Any,
        models: Mapping[str, ServiceModel],
        *,
        readback_timeout: float = 120.0,
        poll_interval: float = 2.0,
    ) -> None:
        from kubernetes import client

        self.api_client = api_client
        self.objects = client.CustomObjectsApi(api_client)
        self.models = dict(models)
        self.readback_timeout = readback_timeout
        self.poll_interval = poll_interval
        self._lock = threading.Lock()

    def close(self) -> None:
        close = getattr(self.api_client, "close", None)
        if close is not None:
            close()

    # ---- Kubernetes calls ------------------------------------------------------------------
    def _k8s(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=REQUEST_TIMEOUT_S, **kwargs)
        except ApiException as exc:
            if exc.status in (401, 403):
                raise BackendError(
                    f"Kubernetes refused {what}: HTTP {exc.status} {exc.reason}",
                    hint="the service account or user needs the RBAC rules listed in the "
                    "README's kserve section",
                ) from exc
            if exc.status == 404:
                raise BackendError(f"{what}: not found in Kubernetes (HTTP 404)") from exc
            if exc.status in (409, 422):
                raise BackendError(
                    f"{what}: the object changed since it was read (HTTP {exc.status}); "
                    "nothing was changed",
                    hint="read the routes again and re-plan",
                ) from exc
            raise BackendError(f"{what} failed: HTTP {exc.status} {exc.reason}") from exc
        except HTTPError as exc:
            raise BackendError(f"cannot reach the Kubernetes API for {what}: {exc}") from exc

    def _get(self, kind: tuple[str, str], namespace: str, name: str) -> dict:
        version, plural = kind
        return self._k8s(
            f"get {plural}/{name} in {namespace}",
            self.objects.get_namespaced_custom_object,
            GROUP,
            version,
            namespace,
            plural,
            name,
        )

    def _patch(self, kind: tuple[str, str], namespace: str, name: str, ops: list) -> None:
        version, plural = kind
        self._k8s(
            f"patch {plural}/{name} in {namespace}",
            self.objects.patch_namespaced_custom_object,
            GROUP,
            version,
            namespace,
            plural,
            name,
            ops,
            _content_type="application/json-patch+json",
        )

    def _model(self, model: str) -> ServiceModel:
        try:
            return self.models[model]
        except KeyError:
            raise NotFound(
                f"no InferenceService is configured for model {model!r}",
                hint=f"add [env.<name>.traffic.models.{model}] with service and versions",
            ) from None

    def _state(self, sm: ServiceModel) -> ServiceState:
        return read_state(self._get(ISVC, sm.namespace, sm.service))

    def _key(self, sm: ServiceModel, st: ServiceState, rev: Revision) -> str:
        """The route a revision serves: a version when known, else ``revision:<name>``."""
        if rev.name in st.revisions:
            return st.revisions[rev.name]
        if rev.latest and st.current:
            version = sm.version_of_uri(st.uri)
            if version is not None:
                return version
        return UNMAPPED + rev.name

    def _settled(self, sm: ServiceModel, st: ServiceState) -> None:
        """Raise BackendError while a rollout is pending: routes read now would not be
        what serves in a moment."""
        where = f"InferenceService {sm.namespace}/{sm.service}"
        if not st.current:
            raise BackendError(
                f"{where}: KServe has not reconciled the latest spec yet",
                hint="a rollout is in progress: read the routes again in a moment",
            )
        if not st.traffic:
            raise BackendError(
                f"{where} reports no traffic in status.components.predictor.traffic",
                hint="is it Ready? kubectl describe inferenceservice",
            )
        try:
            desired = json.loads(st.annotations.get(A_DESIRED) or "null")
        except ValueError:
            desired = None
        if not isinstance(desired, dict):
            return
        ours = desired.get("storageUri") == st.uri and desired.get("canary") == st.canary
        if ours and not shows(st.traffic, desired.get("expect", {})):
            shown = ", ".join(f"{r.name} {r.percent}%" for r in st.traffic)
            raise BackendError(
                f"{where}: the change Rollbook made at {desired.get('at', '?')} "
                f"({desired.get('routes')}) has not rolled out yet; status shows {shown}",
                hint="KServe may still roll it out: read the routes again, or see "
                "kubectl describe inferenceservice",
            )

    def _isvc_routes(self, sm: ServiceModel) -> dict[str, float]:
        st = self._state(sm)
        self._settled(sm, st)
        out: dict[str, float] = {}
        for rev in st.traffic:
            if rev.percent > 0:
                key = self._key(sm, st, rev)
                out[key] = out.get(key, 0.0) + float(rev.percent)
        return out

    # ---- the router (an InferenceGraph whose root node is a Splitter) -----------------------
    def _router_steps(self, sm: ServiceModel) -> tuple[dict, list[dict]]:
        graph = self._get(GRAPH, sm.namespace, str(sm.router))
        root = graph.get("spec", {}).get("nodes", {}).get("root") or {}
        if root.get("routerType") != "Splitter":
            raise BackendError(
                f"InferenceGraph {sm.namespace}/{sm.router}: the root node is not a Splitter",
                hint="the router must split by weight between the service and its fallbacks",
            )
        return graph, list(root.get("steps") or [])

    def _router_shares(self, sm: ServiceModel) -> dict[str, float]:
        """service -> weight % of the router's root splitter."""
        _, steps = self._router_steps(sm)
        out: dict[str, float] = {}
        for s in steps:
            name = str(s.get("serviceName") or s.get("nodeName") or s.get("serviceUrl"))
            out[name] = out.get(name, 0.0) + float(s.get("weight") or 0)
        return out

    def _route_router(self, sm: ServiceModel, target: str) -> None:
        """All of the router's weight on ``target`` (an InferenceService), read back."""
        graph, steps = self._router_steps(sm)
        names = [s.get("serviceName") for s in steps]
        if target not in names:
            raise BackendError(
                f"InferenceGraph {sm.namespace}/{sm.router} has no step to {target}; "
                "nothing was changed",
                hint=f"its root splitter routes to: {', '.join(map(str, names))}",
            )
        want = [100 if n == target else 0 for n in names]
        if [int(s.get("weight") or 0) for s in steps] != want:
            ops: list[dict] = []
            for i, (name, w) in enumerate(zip(names, want, strict=True)):
                base = f"/spec/nodes/root/steps/{i}"
                ops.append({"op": "test", "path": f"{base}/serviceName", "value": name})
                ops.append({"op": "add", "path": f"{base}/weight", "value": w})
            self._patch(GRAPH, sm.namespace, str(sm.router), ops)
        deadline = time.monotonic() + self.readback_timeout
        while True:
            graph, steps = self._router_steps(sm)
            gen = graph.get("metadata", {}).get("generation")
            status = graph.get("status") or {}
            seen = status.get("observedGeneration")
            ready = next(
                (
                    c.get("status")
                    for c in status.get("conditions") or []
                    if c.get("type") == "Ready"
                ),
                "True",
            )
            current = gen is None or seen is None or int(seen) >= int(gen)
            weights = [int(s.get("weight") or 0) for s in steps]
            if current and ready == "True" and weights == want:
                return
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"InferenceGraph {sm.namespace}/{sm.router} not Ready with the new weights "
                    f"after {self.readback_timeout:g}s (weights {weights}, Ready {ready})",
                    hint="the change may still apply: read the routes back before retrying",
                )
            time.sleep(self.poll_interval)

    # ---- Traffic ----------------------------------------------------------------------------
    def routes(self, model: str) -> dict[str, float]:
        sm = self._model(model)
        if not sm.router:
            return self._isvc_routes(sm)
        by_service = {svc: route for route, svc in sm.fallback_services().items()}
        out: dict[str, float] = {}
        for svc, w in self._router_shares(sm).items():
            if w <= 0:
                continue
            if svc == sm.service:
                for key, pct in self._isvc_routes(sm).items():
                    out[key] = out.get(key, 0.0) + pct * w / 100.0
            else:
                key = by_service.get(svc, UNMAPPED_SERVICE + svc)
                out[key] = out.get(key, 0.0) + w
        return {k: round(v, 4) for k, v in out.items()}

    def set_routes(self, model: str, weights: Mapping[str, float], *, actor: str) -> None:
        sm = self._model(model)
        fallback_services = sm.fallback_services()
        plan: dict[str, int] = {}
        for route, pct in weights.items():
            known = route in sm.versions or route in fallback_services or route.startswith(UNMAPPED)
            if not known:
                known_routes = sorted(set(sm.versions) | set(fallback_services))
                raise InvalidInput(
                    f"{model} has no KServe route {route!r}",
                    hint=f"known routes: {', '.join(known_routes)}",
                )
            plan[route] = whole_percent(pct, route, "KServe")
        check_total(plan)
        serving = {r: w for r, w in plan.items() if w > 0}
        to_fallback = [r for r in serving if r in fallback_services]
        if to_fallback and len(serving) > 1:
            raise InvalidInput(
                "with KServe a fallback InferenceService takes all of a model's traffic or none",
                hint=f"e.g. {to_fallback[0]}=100",
            )
        with self._lock:
            if to_fallback:
                self._route_router(sm, fallback_services[to_fallback[0]])
            else:
                st = self._state(sm)
                self._settled(sm, st)
                change = self._change(sm, st, serving, actor)
                if change is not None:
                    self._patch(ISVC, sm.namespace, sm.service, change[0])
                    self._wait(sm, change[1], serving)
                if sm.router:
                    self._route_router(sm, sm.service)
            got = self.routes(model)
        keys = set(got) | set(serving)
        if any(abs(got.get(k, 0.0) - serving.get(k, 0.0)) > 0.01 for k in keys):
            raise BackendError(f"KServe reads back {got} for {model}, expected {serving}")

    def _change(
        self, sm: ServiceModel, st: ServiceState, serving: dict[str, int], actor: str
    ) -> tuple[list[dict], dict] | None:
        """The JSON patch that makes the InferenceService serve ``serving``, and the traffic
        its status must show then; None when it already does. InvalidInput for a split KServe
        cannot make (before any write)."""
        latest, previous = st.latest, st.previous
        now_latest = self._key(sm, st, latest) if latest else None
        now_previous = self._key(sm, st, previous) if previous else None
        revisions = dict(st.revisions)
        if latest is not None and now_latest and not now_latest.startswith(UNMAPPED):
            revisions[latest.name] = now_latest  # remembered before it stops being the latest
        everything = [r.name for r in st.traffic]
        uri, canary = st.uri, st.canary
        expect: dict[str, Any] | None = None
        # the version all traffic is on now, if any (the latest, or the previous one after a
        # rollback to 0 %): a canary of another version goes beside it
        all_on = next((self._key(sm, st, r) for r in st.traffic if r.percent == 100), None)
        if len(serving) == 1:
            (route,) = serving
            if route == now_latest:
                canary, expect = None, {"latest": 100}
            elif route == now_previous:
                canary, expect = 0, {"latest": 0}  # rollback: all on the previous revision
            elif route in sm.versions:
                uri, canary = sm.versions[route], None
                expect = {"latest": 100, "not": everything}
        elif len(serving) == 2:
            if set(serving) == {now_latest, now_previous}:
                w = serving[str(now_latest)]
                canary, expect = w, {"latest": w}
            elif all_on in serving:
                (other,) = set(serving) - {all_on}
                if other in sm.versions and other != now_latest:
                    # a canary of another version: KServe makes its revision the latest, with
                    # this share, beside the revision rolled out last (the one serving all)
                    uri, canary = sm.versions[other], serving[other]
                    expect = {"latest": serving[other], "not": everything}
        if expect is None:
            shown = ", ".join(
                f"{self._key(sm, st, r)} ({'latest' if r.latest else 'previous'}) {r.percent}%"
                for r in st.traffic
            )
            raise InvalidInput(
                f"KServe cannot route {sm.service} as {serving}: an InferenceService splits "
                "traffic between its latest revision and the previous rolled-out one only "
                f"(now: {shown})",
                hint="route to one version, or split between the latest and previous ones",
            )
        if uri == st.uri and canary == st.canary and shows(st.traffic, expect):
            return None
        at = datetime.now(UTC).isoformat(timespec="seconds")
        ops: list[dict] = [{"op": "test", "path": st.uri_path, "value": st.uri}]
        if uri != st.uri:
            ops.append({"op": "replace", "path": st.uri_path, "value": uri})
        canary_path = "/spec/predictor/canaryTrafficPercent"
        if canary is None and st.canary is not None:
            ops.append({"op": "remove", "path": canary_path})
        elif canary is not None:
            ops.append({"op": "add", "path": canary_path, "value": canary})
        if not st.obj.get("metadata", {}).get("annotations"):
            ops.append({"op": "add", "path": "/metadata/annotations", "value": {}})
        notes = {
            A_REVISIONS: json.dumps(revisions, sort_keys=True),
            A_DESIRED: json.dumps(
                {
                    "routes": serving,
                    "storageUri": uri,
                    "canary": canary,
                    "expect": expect,
                    "at": at,
                },
                sort_keys=True,
            ),
            A_CHANGED: f"{actor} at {at}",
        }
        if uri != st.uri:
            notes[A_PREVIOUS_URI] = st.uri
        for key, value in notes.items():
            ops.append(
                {"op": "add", "path": f"/metadata/annotations/{json_pointer(key)}", "value": value}
            )
        return ops, expect

    def _wait(self, sm: ServiceModel, expect: dict, serving: dict[str, int]) -> None:
        """Until the status shows ``expect`` (KServe rolled it out) or the deadline passes."""
        deadline = time.monotonic() + self.readback_timeout
        while True:
            st = self._state(sm)
            if st.current and shows(st.traffic, expect):
                return
            if time.monotonic() >= deadline:
                shown = ", ".join(f"{r.name} {r.percent}%" for r in st.traffic) or "nothing"
                raise BackendError(
                    f"KServe did not roll out {serving} on {sm.namespace}/{sm.service} within "
                    f"{self.readback_timeout:g}s; status.components.predictor.traffic shows "
                    f"{shown}",
                    hint="the change is in the InferenceService's spec and may still roll out: "
                    "read the routes back (kubectl describe inferenceservice)",
                )
            time.sleep(self.poll_interval)

    def fallbacks(self, model: str) -> list[FallbackLevel]:
        sm = self._model(model)
        out = []
        if sm.fallbacks.get("previous"):
            v = sm.fallbacks["previous"]
            out.append(FallbackLevel("previous", v, f"previous approved model (version {v})"))
        for route, svc in sm.fallback_services().items():
            level = "rules" if route == FALLBACK_RULES else "manual"
            out.append(FallbackLevel(level, route, f"InferenceService {sm.namespace}/{svc}"))
        return out

    def probe(self, model: str, route: str) -> Health:
        """Readiness as KServe reports it: a fallback's InferenceService ``Ready`` condition; a
        version's revision in the traffic status with ``PredictorReady`` (and, for the
        latest revision, ``LatestDeploymentReady``). A version not deployed now is reported
        by its ``storageUri``: KServe makes its revision when traffic moves to it, and the
        read-back then waits for it to serve."""
        sm = self._model(model)
        start = time.perf_counter()

        def done(ok: bool, detail: str) -> Health:
            return Health(route, ok, detail, round((time.perf_counter() - start) * 1000, 2))

        services = sm.fallback_services()
        if route in services:
            obj = self._get(ISVC, sm.namespace, services[route])
            ok, why = _condition(obj, "Ready")
            return done(ok, f"InferenceService {services[route]}: Ready {why}")
        obj = self._get(ISVC, sm.namespace, sm.service)
        st = read_state(obj)
        rev = next((r for r in st.traffic if self._key(sm, st, r) == route), None)
        if rev is None:
            if route in sm.versions:
                return done(
                    True,
                    f"not deployed now: KServe makes a revision from {sm.versions[route]} when "
                    "traffic moves to it; the read-back waits for it to serve",
                )
            return done(False, f"{model} has no KServe revision or version {route!r}")
        checks = ["PredictorReady"] + (["LatestDeploymentReady"] if rev.latest else [])
        for name in checks:
            ok, why = _condition(obj, name)
            if not ok:
                return done(False, f"revision {rev.name}: {name} {why}")
        role = "latest" if rev.latest else "previous"
        return done(True, f"revision {rev.name} ({role}, {rev.percent}%) ready")


def _condition(obj: Mapping[str, Any], kind: str) -> tuple[bool, str]:
    """(is the condition True, how it reads). A condition KServe does not report counts as
    not ready only for ``Ready`` itself."""
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            ok = c.get("status") == "True"
            why = c.get("message") or c.get("reason") or ""
            return ok, ("True" if ok else f"{c.get('status')}" + (f": {why}" if why else ""))
    return kind != "Ready", "not reported"
