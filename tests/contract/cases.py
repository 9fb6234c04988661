"""One ``TrafficCase`` / ``RegistryCase`` per plugin: a workspace on it (the real action core's
entry point) plus the few things only the backend itself can do — count the writes it received,
make the first part of a change land and then fail, make a route unhealthy.

Traffic plugins are paired with a registry that knows their versions: the embedded registry
(``v12`` → ``v13``, ``v13`` in production) for the embedded, kserve and sagemaker plugins; the
real MLflow (``1`` → ``2``) for the real HAProxy, as in ``tests/integration``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.backends.interfaces import Registry, Traffic
from console.workspace import Workspace

MODEL = "churn"


@dataclass
class TrafficCase:
    name: str
    ws: Workspace
    old: str  # a version that is not serving at the start
    new: str  # the production version, all traffic at the start
    writes: Callable[[], int]  # writes the backend has received so far
    #: the first part of a change reaches the backend, then it fails until the block ends
    mid_change: Callable[[], contextlib.AbstractContextManager]
    #: ``route`` fails its health probe until the block ends
    unhealthy: Callable[[str], contextlib.AbstractContextManager]
    model: str = MODEL
    extra: dict[str, Any] = field(default_factory=dict)
    unknown: str = "v99"  # a version neither the registry nor the traffic backend knows

    @property
    def traffic(self) -> Traffic:
        return self.ws.backends.traffic


@dataclass
class RegistryCase:
    name: str
    ws: Workspace
    old: str
    new: str  # production at the start
    #: ``registry.set_production`` fails until the block ends
    broken_pointer: Callable[[], contextlib.AbstractContextManager]
    model: str = MODEL

    @property
    def registry(self) -> Registry:
        return self.ws.backends.registry
