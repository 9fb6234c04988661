"""The ``http`` probe: is a version's endpoint healthy, and does it answer a prediction?

Preflight (before traffic moves to a version) and verification (after) both ask it, through
the traffic plugin's ``probe``. Two requests: ``GET <health_path>`` must answer 2xx; then,
when a sample request is configured, ``POST <predict_path>`` with it must answer 2xx JSON —
and if that JSON names a version (``version_field``), it must be the version expected, so a
server quietly running the wrong model fails the probe.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from console.backends.types import Health


@dataclass(frozen=True)
class ProbeSettings:
    health_path: str = "/health"
    predict_path: str = "/predict"
    sample: Mapping[str, Any] | None = None  # JSON body of the sample prediction; None: skip
    version_field: str = "version"
    timeout: float = 2.0


def probe_endpoint(
    base_url: str,
    *,
    target: str,
    settings: ProbeSettings = ProbeSettings(),
    expect_version: str | None = None,
    transport: httpx.BaseTransport | None = None,
    client: httpx.Client | None = None,
) -> Health:
    """Probe ``base_url``; never raises for an unhealthy endpoint (that is a Health with
    ``healthy=False`` and the reason in ``detail``). ``latency_ms`` is the whole probe.

    Pass a long-lived ``client`` to reuse connections (a new client costs milliseconds)."""
    start = time.perf_counter()

    def done(ok: bool, detail: str) -> Health:
        return Health(target, ok, detail, round((time.perf_counter() - start) * 1000, 2))

    base = base_url.rstrip("/")
    try:
        with contextlib.ExitStack() as stack:
            if client is None:
                client = stack.enter_context(httpx.Client(transport=transport))
            r = client.get(base + settings.health_path, timeout=settings.timeout)
            if not r.is_success:
                return done(False, f"GET {settings.health_path} answered HTTP {r.status_code}")
            if settings.sample is None or not settings.predict_path:
                return done(True, f"GET {settings.health_path} OK")
            p = client.post(
                base + settings.predict_path, json=dict(settings.sample), timeout=settings.timeout
            )
    except httpx.TimeoutException:
        return done(False, f"{base} did not answer within {settings.timeout:g}s")
    except httpx.TransportError as exc:
        return done(False, f"cannot reach {base}: {type(exc).__name__}: {exc}")
    if not p.is_success:
        return done(False, f"sample prediction answered HTTP {p.status_code}: {p.text[:120]}")
    try:
        body = p.json()
    except ValueError:
        return done(False, f"sample prediction answered non-JSON: {p.text[:120]!r}")
    served = body.get(settings.version_field) if isinstance(body, dict) else None
    if expect_version is not None and served is not None and str(served) != str(expect_version):
        return done(False, f"endpoint serves version {served}, expected {expect_version}")
    return done(
        True,
        "health OK, sample prediction OK" + (f" (version {served})" if served is not None else ""),
    )
