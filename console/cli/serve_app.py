"""The HTTP side of ``rollbook serve``: a Starlette app with Alertmanager's webhook
(``POST /api/v1/alertmanager``) and ``GET /healthz``.

What a request means is decided in ``console.intake_webhook``; this module only speaks HTTP:
the bearer token, the body limit, the status codes and one log line per request. Status
codes follow what Alertmanager does with them: it retries a 5xx (and a timeout) with
backoff, and drops a 4xx. So a payload that can never be read is a 4xx with the reason, and a
failure of the store or a backend, which a later attempt may get past, is a 5xx; intake is
idempotent, so a retried group writes nothing twice.

Starlette is imported here and only here (with uvicorn in ``console.cli.serve``): they are
the ``rollbook[serve]`` extra, and ``rollbook --help`` never imports them.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from console.errors import BackendError, RollbookError
from console.intake import Intake
from console.intake_webhook import PayloadError, WebhookBatch, parse_payload, receive
from console.workspace import Workspace

WEBHOOK_PATH = "/api/v1/alertmanager"
HEALTH_PATH = "/healthz"
LOG = logging.getLogger("rollbook.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class _TooLarge(Exception):
    pass


def create_app(
    ws: Workspace,
    *,
    token: str | None,
    max_body_bytes: int,
    model_label: str = "model",
    logger: logging.Logger = LOG,
) -> ASGIApp:
    """The ASGI app over an open workspace. ``token``: the bearer token every webhook
    request must carry (``None``: no check — only ``--insecure-no-token`` on loopback asks
    for that). ``max_body_bytes``: a larger body is refused with 413 without being read to
    the end. Requests that write are applied one at a time (a lock), so two deliveries of
    the same group cannot both open an incident."""
    lock = threading.Lock()
    expected = token.encode() if token is not None else None

    def apply(batch: WebhookBatch) -> list[Intake]:
        with lock:
            return receive(ws, batch)

    async def healthz(request: Request) -> JSONResponse:
        _note(request, "ok")
        return JSONResponse({"status": "ok", "env": ws.env.name})

    async def alertmanager(request: Request) -> JSONResponse:
        if expected is not None:
            problem = _auth_problem(request, expected)
            if problem:
                return _error(
                    request,
                    401,
                    problem,
                    headers={"WWW-Authenticate": 'Bearer realm="rollbook"'},
                )
        try:
            body = await _read_body(request, max_body_bytes)
        except _TooLarge:
            return _error(request, 413, f"the body is larger than {max_body_bytes} bytes")
        except ClientDisconnect:
            return _error(request, 400, "the client went away before the body was read")
        try:
            batch = parse_payload(body, model_label=model_label)
        except PayloadError as exc:
            return _error(request, 400, exc.message, hint=exc.hint)
        try:
            rows = await run_in_threadpool(apply, batch)
        except BackendError as exc:
            return _error(request, 503, exc.message, hint=exc.hint)
        except RollbookError as exc:
            return _error(request, 500, exc.message, hint=exc.hint)
        except Exception as exc:  # a bug must not take the receiver down; Alertmanager retries
            logger.exception("webhook intake failed")
            return _error(request, 500, f"internal error: {type(exc).__name__}: {exc}")
        _note(request, _summary(batch, rows))
        return JSONResponse(
            {
                "receiver": batch.receiver,
                "alerts": [
                    {
                        "fingerprint": r.alert.fingerprint,
                        "name": r.alert.name,
                        "model": r.alert.model,
                        "state": r.alert.state,
                        "outcome": r.outcome,
                        "incident": r.incident.id if r.incident else None,
                    }
                    for r in rows
                ],
                "skipped": [s.to_dict() for s in batch.skipped],
                "truncated": batch.truncated,
            }
        )

    app = Starlette(
        routes=[
            Route(HEALTH_PATH, healthz, methods=["GET"]),
            Route(WEBHOOK_PATH, alertmanager, methods=["POST"]),
        ]
    )
    return RequestLog(app, logger)


class RequestLog:
    """One log line per HTTP request, after its response: client, method, path, status,
    milliseconds, and what the handler noted (the intake's outcome, or the error)."""

    def __init__(self, app: Any, logger: logging.Logger) -> None:
        self.app = app
        self.logger = logger

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        status = 500  # an exception before the response started ends as Starlette's 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            who = f"{client[0]}:{client[1]}" if client else "-"
            ms = (time.perf_counter() - started) * 1000
            note = state.get("rollbook_note", "")
            self.logger.info(
                '%s "%s %s" %d %.1fms%s',
                who,
                scope.get("method", "-"),
                scope.get("path", "-"),
                status,
                ms,
                f" {note}" if note else "",
            )


def _note(request: Request, text: str) -> None:
    request.state.rollbook_note = text


def _error(
    request: Request,
    status: int,
    message: str,
    *,
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    _note(request, f"error: {message}")
    return JSONResponse(
        {"error": {"message": message, "hint": hint, "status": status}},
        status_code=status,
        headers=headers,
    )


def _auth_problem(request: Request, expected: bytes) -> str | None:
    """Why the request's ``Authorization`` header does not carry the token (None: it
    does). Compared in constant time."""
    header = request.headers.get("authorization")
    if not header:
        return "no bearer token (Authorization: Bearer …)"
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return "the Authorization header is not a bearer token"
    if not hmac.compare_digest(given.strip().encode(), expected):
        return "the bearer token is not the one this server expects"
    return None


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed ``limit`` bytes: from the
    Content-Length header before reading, else while streaming (chunked bodies)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _summary(batch: WebhookBatch, rows: list[Intake]) -> str:
    """``3 alerts: opened INC-0001; repeat INC-0001 ×2`` (+ skipped ones)."""
    counts: dict[str, int] = {}
    for r in rows:
        key = r.outcome + (f" {r.incident.id}" if r.incident else "")
        counts[key] = counts.get(key, 0) + 1
    parts = [k + (f" ×{n}" if n > 1 else "") for k, n in counts.items()]
    if batch.skipped:
        parts.append(f"skipped {len(batch.skipped)} ({batch.skipped[0].reason})")
    n = len(rows) + len(batch.skipped)
    return f"{n} alert{'s' if n != 1 else ''}: " + ("; ".join(parts) or "none")
