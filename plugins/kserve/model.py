"""What the kserve plugin reads and keeps: the configured models, an InferenceService's state
(the spec's ``storageUri`` and canary, the status' traffic by revision) and the annotations
``rollbook.dev/…`` it writes (see ``plugins.kserve.traffic`` for what each one is for)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES
from console.errors import BackendError

GROUP = "serving.kserve.io"
ISVC = ("v1beta1", "inferenceservices")
GRAPH = ("v1alpha1", "inferencegraphs")
A_REVISIONS = "rollbook.dev/revisions"
A_PREVIOUS_URI = "rollbook.dev/previous-storage-uri"
A_DESIRED = "rollbook.dev/desired"
A_CHANGED = "rollbook.dev/changed-by"
UNMAPPED = "revision:"  # route key prefix for a revision whose version is unknown
UNMAPPED_SERVICE = "service:"  # a router step to a service the config does not name
FALLBACK_ROUTES = {"rules": FALLBACK_RULES, "manual": FALLBACK_MANUAL}
LADDER = ("previous", "rules", "manual")
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ServiceModel:
    """One model's InferenceService, its versions' storage URIs, and its fallbacks."""

    service: str
    namespace: str
    versions: Mapping[str, str]  # version -> storageUri
    fallbacks: Mapping[str, str] = field(default_factory=dict)  # previous -> version;
    #                                             rules/manual -> InferenceService
    router: str | None = None  # InferenceGraph with a Splitter root

    def fallback_services(self) -> dict[str, str]:
        """route -> fallback InferenceService (only reachable through the router)."""
        if not self.router:
            return {}
        return {r: self.fallbacks[lv] for lv, r in FALLBACK_ROUTES.items() if lv in self.fallbacks}

    def version_of_uri(self, uri: str | None) -> str | None:
        return next((v for v, u in self.versions.items() if u == uri), None)


@dataclass(frozen=True)
class Revision:
    name: str
    percent: int
    latest: bool


@dataclass
class ServiceState:
    """An InferenceService as read: the spec's storage URI and canary, the status' traffic."""

    obj: dict
    uri_path: str  # JSON pointer of the predictor's storageUri
    uri: str
    canary: int | None
    traffic: list[Revision]
    revisions: dict[str, str]  # rollbook.dev/revisions
    current: bool  # status.observedGeneration >= metadata.generation (True when unknown)

    @property
    def annotations(self) -> dict:
        return self.obj.get("metadata", {}).get("annotations") or {}

    @property
    def latest(self) -> Revision | None:
        return next((r for r in self.traffic if r.latest), None)

    @property
    def previous(self) -> Revision | None:
        return next((r for r in self.traffic if not r.latest), None)


def read_state(obj: dict) -> ServiceState:
    predictor = obj.get("spec", {}).get("predictor") or {}
    name = obj.get("metadata", {}).get("name", "?")
    key = "model" if isinstance(predictor.get("model"), Mapping) else None
    if key is None or "storageUri" not in predictor[key]:
        key = next(
            (k for k, v in predictor.items() if isinstance(v, Mapping) and "storageUri" in v),
            None,
        )
    if key is None:
        raise BackendError(
            f"InferenceService {name} has no spec.predictor.<model>.storageUri",
            hint="Rollbook rolls back by storageUri; a predictor built from containers only "
            "is not supported",
        )
    status = obj.get("status") or {}
    traffic = [
        Revision(
            str(t.get("revisionName", "")),
            int(t.get("percent") or 0),
            bool(t.get("latestRevision")),
        )
        for t in status.get("components", {}).get("predictor", {}).get("traffic") or []
    ]
    gen = obj.get("metadata", {}).get("generation")
    seen = status.get("observedGeneration")
    annotations = obj.get("metadata", {}).get("annotations") or {}
    try:
        revisions = json.loads(annotations.get(A_REVISIONS) or "{}")
    except ValueError:
        revisions = {}
    canary = predictor.get("canaryTrafficPercent")
    return ServiceState(
        obj=obj,
        uri_path=f"/spec/predictor/{key}/storageUri",
        uri=str(predictor[key]["storageUri"]),
        canary=None if canary is None else int(canary),
        traffic=traffic,
        revisions={str(k): str(v) for k, v in revisions.items()},
        current=gen is None or seen is None or int(seen) >= int(gen),
    )


def shows(traffic: list[Revision], expect: Mapping[str, Any]) -> bool:
    """Does the status' traffic show ``expect``: ``latest`` % on the latest revision (which
    is none of ``not``, when a new revision is expected) and the rest on the previous one."""
    latest = next((r for r in traffic if r.latest), None)
    if latest is None or latest.name in expect.get("not", ()):
        return False
    rest = sum(r.percent for r in traffic if not r.latest)
    return latest.percent == expect["latest"] and rest == 100 - expect["latest"]


def json_pointer(key: str) -> str:
    """``key`` escaped for a JSON pointer (RFC 6901): annotation keys contain "/"."""
    return key.replace("~", "~0").replace("/", "~1")


def service_models(raw: Any, namespace: str, where: str) -> dict[str, ServiceModel]:
    """Parse the ``models`` option; raises ValueError naming the key that is wrong."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(
            f"{where}: expected a table per model: [{where}.MODEL] with service and versions"
        )
    out = {}
    for model, t in raw.items():
        key = f"{where}.{model}"
        if not isinstance(t, Mapping):
            raise ValueError(f"{key}: expected a table")
        versions = t.get("versions")
        if not isinstance(versions, Mapping) or not versions:
            raise ValueError(f'{key}.versions: expected a table version = "storageUri"')
        fallbacks = t.get("fallbacks", {})
        if not isinstance(fallbacks, Mapping) or set(fallbacks) - set(LADDER):
            raise ValueError(
                f"{key}.fallbacks: expected a table with keys among {', '.join(LADDER)}"
            )
        if "previous" in fallbacks and str(fallbacks["previous"]) not in map(str, versions):
            raise ValueError(
                f"{key}.fallbacks.previous: names version {fallbacks['previous']!r}, which is "
                "not in versions"
            )
        router = t.get("router")
        if router is not None and (not isinstance(router, str) or not router):
            raise ValueError(f"{key}.router: expected an InferenceGraph name")
        if (set(fallbacks) & {"rules", "manual"}) and not router:
            raise ValueError(
                f"{key}.fallbacks: rules and manual are InferenceServices reached through a "
                'router: add router = "<InferenceGraph name>"'
            )
        out[str(model)] = ServiceModel(
            service=str(t.get("service") or model),
            namespace=str(t.get("namespace") or namespace),
            versions={str(k): str(v) for k, v in versions.items()},
            fallbacks={str(k): str(v) for k, v in fallbacks.items()},
            router=router,
        )
    return out
