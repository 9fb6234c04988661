"""One HTTP attempt for a notification service (Slack, PagerDuty), its outcome in the core's
terms: a response to read, or ``console.notify.model.DeliveryError`` saying whether another
attempt may work (429 and 5xx may; other 4xx will not), how long the service asked to wait
(``Retry-After``: seconds or an HTTP date) and whether the request may have arrived anyway
(a timeout after it was sent: the outcome is unknown).

The core makes the retries (``console.notify.delivery``); this makes exactly one request.
httpx's timeout applies to each phase (connect, write, each read): a server that accepts and
never answers costs ``timeout`` seconds.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import httpx

from console.notify.model import DeliveryError

USER_AGENT = "rollbook-notify"


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds, or an HTTP date
    (seconds from ``now``, never negative). None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def check(resp: httpx.Response, service: str) -> httpx.Response:
    """``resp`` if it is a success (2xx); else the ``DeliveryError`` it means."""
    if resp.status_code < 300:
        return resp
    detail = resp.text[:300].strip()
    retryable = resp.status_code == 429 or resp.status_code >= 500
    raise DeliveryError(
        f"{service} answered HTTP {resp.status_code}" + (f": {detail}" if detail else ""),
        retryable=retryable,
        status=resp.status_code,
        retry_after=retry_after(resp.headers.get("Retry-After")) if retryable else None,
    )


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    json: Any = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One request within ``timeout`` seconds (per phase). Transport failures become
    ``DeliveryError``: a refused or timed-out connection was certainly not delivered; a
    timeout or a broken connection after the request went out may have been (``unknown``).
    The answer's status is checked with ``check``."""
    try:
        resp = client.request(
            method,
            url,
            json=json,
            params=params,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            timeout=httpx.Timeout(timeout),
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise DeliveryError(
            f"cannot reach {service}: {type(exc).__name__}", retryable=True
        ) from exc
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            f"{service} did not answer within {timeout:.3g} s (it may have received it)",
            retryable=True,
            unknown=True,
        ) from exc
    except httpx.TransportError as exc:
        raise DeliveryError(
            f"{service}: the connection broke: {type(exc).__name__}: {exc}",
            retryable=True,
            unknown=True,
        ) from exc
    return check(resp, service)
