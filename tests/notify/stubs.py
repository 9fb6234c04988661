"""STUBS of Slack and PagerDuty on loopback — not the real services, which cannot run here.

Each stub is a small HTTP server on a free 127.0.0.1 port that

- checks every request against the service's documented contract and records what broke it
  in ``violations`` (a test asserts there are none): Slack's ``chat.postMessage`` (Bearer
  token, JSON, ``channel``, ``text`` or ``blocks``, Block Kit limits, ``thread_ts`` naming a
  message that exists) and incoming webhooks (JSON with ``text`` or ``blocks``); PagerDuty's
  Events API v2 (``POST /v2/enqueue``, a 32-character ``routing_key``, ``event_action``
  trigger / acknowledge / resolve, ``dedup_key`` ≤ 255 characters, on a trigger a
  ``payload`` with ``summary`` ≤ 1,024 characters, ``source`` and a valid ``severity``);
- answers like the service (Slack ``{"ok": true, "ts": …}`` / ``"ok"``, PagerDuty 202
  ``{"status": "success", "dedup_key": …}``), keeping Slack's channel and threads (readable
  with ``conversations.replies`` / ``conversations.history``) and PagerDuty's alerts;
- can be told to answer the next requests otherwise: ``script(Answer(429, retry_after=1),
  Answer(500), Answer(400), Answer(hang=True))`` — a hang holds the request until the stub
  is released or stopped; ``Answer(hang_after=True)`` does what the service does (Slack
  posts the message) and then holds the request: the client cannot know it arrived.

The shapes checked are the documented ones, cross-checked against what the real Alertmanager
sends to the same endpoints (``fixtures/alertmanager_*.json``, recorded by
``capture_alertmanager.py``).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

SLACK_TOKEN = "xoxb-stub-0000000000-token"
PD_ROUTING_KEY = "0123456789abcdef0123456789abcdef"
PD_SEVERITIES = ("critical", "error", "warning", "info")
PD_ACTIONS = ("trigger", "acknowledge", "resolve")


@dataclass
class Answer:
    """How to answer one request instead of the service's normal answer."""

    status: int = 200
    body: Any = None
    retry_after: float | str | None = None
    hang: bool = False  # hold the request, do nothing with it
    hang_after: bool = False  # do what the service does (post the message), then hold it


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # decoded JSON, else the raw text
    at: float
    answered: int | None = None


@dataclass
class Stub:
    """The HTTP server shared by both stubs. ``requests`` holds every request, in order."""

    name: str
    requests: list[Request] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _script: deque[Answer] = field(default_factory=deque)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Stub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                url = urlparse(self.path)
                req = Request(
                    method,
                    url.path,
                    parse_qs(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.time(),
                )
                with stub._lock:
                    stub.requests.append(req)
                    scripted = stub._script.popleft() if stub._script else None
                if scripted is not None and scripted.hang_after:
                    stub.answer(req)  # the service did it; the answer never comes back
                    scripted = Answer(hang=True)
                if scripted is not None and scripted.hang:
                    stub._release.wait(timeout=120)
                    req.answered = 0
                    self.close_connection = True
                    return  # close without an answer
                if scripted is not None and scripted.status < 300 and scripted.body is None:
                    scripted = None  # Answer(): answer as the service does
                if scripted is not None:
                    status, payload, headers = scripted.status, scripted.body, {}
                    if scripted.retry_after is not None:
                        headers["Retry-After"] = str(scripted.retry_after)
                    if payload is None:
                        payload = stub.error_body(scripted.status)
                else:
                    status, payload, headers = stub.answer(req)
                req.answered = status
                data = (
                    payload
                    if isinstance(payload, bytes)
                    else (
                        payload.encode()
                        if isinstance(payload, str)
                        else json.dumps(payload).encode()
                    )
                )
                self.send_response(status)
                ctype = "application/json" if not isinstance(payload, str) else "text/plain"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._handle("POST")

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def release(self) -> None:
        """Let hanging requests go (they are closed without an answer)."""
        self._release.set()

    def violate(self, what: str) -> None:
        with self._lock:
            self.violations.append(what)

    # to be specialised
    def answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        return 404, {"error": "not found"}, {}

    def error_body(self, status: int) -> Any:
        return {"error": f"HTTP {status}"}


# ---- Slack -------------------------------------------------------------------------------
WEBHOOK_PATH = "/services/T0STUB/B0STUB/stubstubstubstubstub"


def check_blocks(blocks: Any, violate: Any, where: str) -> None:
    """Block Kit limits (Slack's reference): ≤ 50 blocks; a section's text ≤ 3,000 characters
    and its fields ≤ 10, each ≤ 2,000; a context's elements ≤ 10; text objects typed."""
    if not isinstance(blocks, list):
        violate(f"{where}: blocks is not a list")
        return
    if len(blocks) > 50:
        violate(f"{where}: {len(blocks)} blocks (max 50)")
    for i, b in enumerate(blocks):
        kind = b.get("type") if isinstance(b, dict) else None
        if kind not in ("section", "context", "header", "divider", "actions", "rich_text"):
            violate(f"{where}: block {i} has type {kind!r}")
            continue
        if kind == "section":
            text = b.get("text")
            fields = b.get("fields")
            if text is None and not fields:
                violate(f"{where}: section {i} has neither text nor fields")
            if text is not None:
                if text.get("type") not in ("mrkdwn", "plain_text"):
                    violate(f"{where}: section {i} text type {text.get('type')!r}")
                if not 1 <= len(text.get("text") or "") <= 3000:
                    violate(f"{where}: section {i} text length {len(text.get('text') or '')}")
            if fields is not None:
                if len(fields) > 10:
                    violate(f"{where}: section {i} has {len(fields)} fields (max 10)")
                for f in fields:
                    if len(f.get("text") or "") > 2000:
                        violate(f"{where}: section {i} field over 2000 characters")
        if kind == "context" and not 1 <= len(b.get("elements") or []) <= 10:
            violate(f"{where}: context {i} needs 1 to 10 elements")
        if kind == "header" and len((b.get("text") or {}).get("text") or "") > 150:
            violate(f"{where}: header {i} over 150 characters")


class SlackStub(Stub):
    """Slack's Web API (``/api/chat.postMessage``, ``/api/conversations.replies``,
    ``/api/conversations.history``) and an incoming webhook (``WEBHOOK_PATH``)."""

    def __init__(self) -> None:
        super().__init__("slack")
        self.messages: list[dict[str, Any]] = []  # what the channel shows, oldest first
        self.webhook_posts: list[dict[str, Any]] = []
        self._n = 0

    @property
    def api_url(self) -> str:
        return self.url + "/api"

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def error_body(self, status: int) -> Any:
        return {"ok": False, "error": "ratelimited" if status == 429 else f"http_{status}"}

    def thread(self, ts: str) -> list[dict[str, Any]]:
        """The root ``ts`` and its replies, in order."""
        return [m for m in self.messages if m["ts"] == ts or m.get("thread_ts") == ts]

    def answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if req.path == WEBHOOK_PATH and req.method == "POST":
            return self._webhook(req)
        if not req.path.startswith("/api/"):
            return 404, "no_service", {}
        method = req.path.removeprefix("/api/")
        auth = req.headers.get("authorization", "")
        if auth != f"Bearer {SLACK_TOKEN}":
            self.violate(f"{method}: Authorization is {auth!r}, not the bot token as Bearer")
            return 200, {"ok": False, "error": "not_authed"}, {}
        if method == "chat.postMessage" and req.method == "POST":
            return self._post(req)
        if method in ("conversations.replies", "conversations.history"):
            return self._read(method, req)
        return 200, {"ok": False, "error": "unknown_method"}, {}

    def _webhook(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        ctype = req.headers.get("content-type", "")
        if "application/json" not in ctype:
            self.violate(f"webhook: Content-Type {ctype!r}")
        b = req.body
        if not isinstance(b, dict) or not (
            b.get("text") or b.get("blocks") or b.get("attachments")
        ):
            self.violate("webhook: needs text, blocks or attachments")
            return 400, "invalid_payload", {}
        if "blocks" in b:
            check_blocks(b["blocks"], self.violate, "webhook")
        if len(b.get("text") or "") > 40000:
            self.violate("webhook: text over 40,000 characters")
        self.webhook_posts.append(b)
        return 200, "ok", {}

    def _post(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        ctype = req.headers.get("content-type", "")
        if not ctype.startswith("application/json"):
            self.violate(f"chat.postMessage: Content-Type {ctype!r}")
        b = req.body
        if not isinstance(b, dict):
            self.violate("chat.postMessage: body is not a JSON object")
            return 200, {"ok": False, "error": "invalid_json"}, {}
        if not b.get("channel"):
            self.violate("chat.postMessage: no channel")
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if not (b.get("text") or b.get("blocks") or b.get("attachments")):
            self.violate("chat.postMessage: needs text, blocks or attachments")
            return 200, {"ok": False, "error": "no_text"}, {}
        if "blocks" in b:
            check_blocks(b["blocks"], self.violate, "chat.postMessage")
            if not b.get("text"):
                self.violate("chat.postMessage: blocks without a text fallback")
        if len(b.get("text") or "") > 40000:
            self.violate("chat.postMessage: text over 40,000 characters")
        meta = b.get("metadata")
        if meta is not None and not (
            isinstance(meta, dict) and meta.get("event_type") and "event_payload" in meta
        ):
            self.violate("chat.postMessage: metadata needs event_type and event_payload")
        thread = b.get("thread_ts")
        if thread is not None and not any(m["ts"] == thread for m in self.messages):
            return 200, {"ok": False, "error": "thread_not_found"}, {}
        self._n += 1
        ts = f"{1_760_000_000 + self._n}.{self._n:06d}"
        msg = {
            "ts": ts,
            "text": b.get("text"),
            "blocks": b.get("blocks"),
            "thread_ts": thread,
            "metadata": meta,
            "channel": b["channel"],
        }
        self.messages.append(msg)
        return 200, {"ok": True, "channel": "C0STUB", "ts": ts, "message": msg}, {}

    def _read(self, method: str, req: Request) -> tuple[int, Any, dict[str, str]]:
        q = {k: v[0] for k, v in req.query.items()}
        if not q.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        with_meta = q.get("include_all_metadata") in ("true", "1")
        if method == "conversations.replies":
            if not q.get("ts"):
                self.violate("conversations.replies: no ts")
                return 200, {"ok": False, "error": "thread_not_found"}, {}
            found = self.thread(q["ts"])
        else:
            found = [m for m in self.messages if m.get("thread_ts") is None][::-1]
        out = [{k: v for k, v in m.items() if k != "metadata" or with_meta} for m in found]
        return 200, {"ok": True, "messages": out, "has_more": False}, {}


# ---- PagerDuty ---------------------------------------------------------------------------
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


class PagerDutyStub(Stub):
    """PagerDuty's Events API v2: ``POST /v2/enqueue``; ``alerts`` maps each ``dedup_key``
    to its state (triggered → acknowledged → resolved) and the events it received."""

    def __init__(self) -> None:
        super().__init__("pagerduty")
        self.alerts: dict[str, dict[str, Any]] = {}

    @property
    def enqueue_url(self) -> str:
        return self.url + "/v2/enqueue"

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {
                "status": "throttle event",
                "message": "Requests for this service are "
                "arriving too quickly. Please retry later.",
            }
        if status == 400:
            return {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": ["scripted 400"],
            }
        return {"status": "error", "message": f"HTTP {status}"}

    def answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if req.path != "/v2/enqueue" or req.method != "POST":
            return 404, {"status": "not found"}, {}
        errors = self.check(req)
        if errors:
            for e in errors:
                self.violate(e)
            return (
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
                {},
            )
        b = req.body
        key = b["dedup_key"] if b.get("dedup_key") else f"stub-{len(self.alerts) + 1}"
        alert = self.alerts.setdefault(key, {"state": None, "events": []})
        alert["events"].append(b)
        state = {"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}
        if not (alert["state"] == "resolved" and b["event_action"] != "trigger"):
            alert["state"] = state[b["event_action"]]
        return 202, {"status": "success", "message": "Event processed", "dedup_key": key}, {}

    @staticmethod
    def check(req: Request) -> list[str]:
        """The Events API v2 contract, as documented."""
        errors = []
        ctype = req.headers.get("content-type", "")
        if "application/json" not in ctype:
            errors.append(f"Content-Type {ctype!r}")
        b = req.body
        if not isinstance(b, dict):
            return errors + ["body is not a JSON object"]
        rk = b.get("routing_key")
        if not isinstance(rk, str) or len(rk) != 32:
            errors.append("routing_key must be the 32-character integration key")
        action = b.get("event_action")
        if action not in PD_ACTIONS:
            errors.append(f"event_action {action!r}")
        dk = b.get("dedup_key")
        if dk is not None and (not isinstance(dk, str) or not 1 <= len(dk) <= 255):
            errors.append("dedup_key must be 1 to 255 characters")
        if action in ("acknowledge", "resolve") and not dk:
            errors.append(f"{action} needs a dedup_key")
        if action == "trigger":
            p = b.get("payload")
            if not isinstance(p, dict):
                return errors + ["trigger needs a payload"]
            s = p.get("summary")
            if not isinstance(s, str) or not 1 <= len(s) <= 1024:
                errors.append("payload.summary must be 1 to 1,024 characters")
            if not p.get("source"):
                errors.append("payload.source is required")
            if p.get("severity") not in PD_SEVERITIES:
                errors.append(f"payload.severity {p.get('severity')!r}")
            ts = p.get("timestamp")
            if ts is not None:
                try:
                    if not ISO.match(str(ts)):
                        raise ValueError
                    datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
                except ValueError:
                    errors.append(f"payload.timestamp {ts!r} is not ISO 8601")
            cd = p.get("custom_details")
            if cd is not None and not isinstance(cd, dict | str):
                errors.append("payload.custom_details must be an object")
        return errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
