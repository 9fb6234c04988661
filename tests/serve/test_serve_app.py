"""The HTTP side of ``rollbook serve`` (``console.cli.serve_app``) through Starlette's test
client: bearer token, body limit, 4xx with the reason for what can never be read, 5xx for a
failing store or backend (Alertmanager retries those), one log line per request, and the
server keeps answering after every error."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from starlette.testclient import TestClient

from console.cli.serve_app import create_app
from console.errors import BackendError
from console.workspace import open_workspace
from tests.serve.payloads import am_alert, body

TOKEN = "test-token-3f9c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = "/api/v1/alertmanager"
NULLS = {"feature": "avg_order_value_90d", "signal": "positive_rate"}


@pytest.fixture
def ws(clock):
    with open_workspace("demo", clock=clock) as ws:
        yield ws


@pytest.fixture
def client(ws):
    app = create_app(ws, token=TOKEN, max_body_bytes=64 * 1024)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def post(client, data: bytes, headers=AUTH, **kw):
    return client.post(URL, content=data, headers={**headers, **kw.pop("extra", {})}, **kw)


def test_health(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "env": "demo"}


def test_a_group_and_its_resend_open_one_incident(client, ws):
    r = post(client, body(am_alert(**NULLS)))
    assert r.status_code == 200, r.text
    (row,) = r.json()["alerts"]
    assert row["outcome"] == "opened" and row["incident"] == "INC-0001"
    assert row["fingerprint"] == "a1b2c3d4e5f60718" and row["state"] == "firing"
    r = post(client, body(am_alert(**NULLS)))
    assert r.json()["alerts"][0]["outcome"] == "repeat"
    assert [i.id for i in ws.store.list()] == ["INC-0001"]


def test_a_resolved_alert_is_recorded(client, ws):
    post(client, body(am_alert(**NULLS)))
    r = post(client, body(am_alert(status="resolved", **NULLS)))
    assert r.status_code == 200
    assert r.json()["alerts"][0] == {
        "fingerprint": "a1b2c3d4e5f60718",
        "name": "FeatureNullRateHigh",
        "model": "churn",
        "state": "resolved",
        "outcome": "resolved",
        "incident": "INC-0001",
    }
    assert len(ws.store.events("INC-0001", kind_prefix="alert.resolved")) == 1


def test_skipped_alerts_are_named_and_the_rest_applied(client):
    r = post(client, body(am_alert(**NULLS), am_alert(fingerprint="ffff", model="")))
    assert r.status_code == 200
    assert [a["outcome"] for a in r.json()["alerts"]] == ["opened"]
    assert r.json()["skipped"] == [
        {
            "index": 1,
            "fingerprint": "ffff",
            "reason": "no 'model' label naming the model ([serve] model_label)",
        }
    ]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no bearer token"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "not a bearer token"),
        ({"Authorization": "Bearer "}, "not a bearer token"),
        ({"Authorization": "Bearer wrong-token"}, "not the one this server expects"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "not the one this server expects"),
    ],
)
def test_a_request_without_the_token_is_401_and_writes_nothing(client, ws, headers, reason):
    r = post(client, body(am_alert(**NULLS)), headers=headers)
    assert r.status_code == 401
    assert reason in r.json()["error"]["message"]
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert ws.store.list() == []


def test_the_token_scheme_is_case_insensitive(client):
    r = post(client, body(am_alert(**NULLS)), headers={"Authorization": f"bearer {TOKEN}"})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "the body is not JSON"),
        (b'{"version": "5", "alerts": []}', "version '5' is not supported"),
        (b'{"version": "4"}', "no list of alerts"),
        (b"[]", "not an object"),
    ],
)
def test_what_can_never_be_read_is_400_with_the_reason(client, ws, data, reason):
    r = post(client, data)
    assert r.status_code == 400
    assert reason in r.json()["error"]["message"]
    assert ws.store.list() == []
    assert client.get("/healthz").status_code == 200  # still serving


def test_an_oversized_body_is_413_whether_declared_or_streamed(client, ws):
    big = body(am_alert(**NULLS, padding="x" * 70 * 1024))
    r = post(client, big)  # Content-Length says it up front
    assert r.status_code == 413 and "larger than 65536 bytes" in r.json()["error"]["message"]

    def chunks():  # no Content-Length: chunked transfer encoding, counted while read
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    r = post(client, chunks())
    assert r.status_code == 413
    assert ws.store.list() == []
    small = body(am_alert(**NULLS))
    r = post(client, (small[i : i + 100] for i in range(0, len(small), 100)))
    assert r.status_code == 200  # a chunked body under the limit is read whole


def test_wrong_method_and_path(client):
    assert client.get(URL).status_code == 405
    assert post(client, b"{}", extra={}).status_code == 400
    assert client.post("/api/v2/alerts", content=b"[]", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (BackendError("incident store unreachable"), 503),
        (sqlite3.OperationalError("database is locked"), 500),
    ],
)
def test_a_failing_store_is_5xx_and_the_retry_applies_the_group_once(
    client, ws, monkeypatch, exc, status
):
    real = ws.store.create_incident
    calls = {"n": 0}

    def failing(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise exc
        return real(*a, **kw)

    monkeypatch.setattr(ws.store, "create_incident", failing)
    r = post(client, body(am_alert(**NULLS)))
    assert r.status_code == status
    assert str(exc) in r.json()["error"]["message"]
    assert ws.store.list() == []
    # Alertmanager retries a 5xx with the same group: applied once
    r = post(client, body(am_alert(**NULLS)))
    assert r.status_code == 200 and r.json()["alerts"][0]["outcome"] == "opened"
    r = post(client, body(am_alert(**NULLS)))
    assert r.json()["alerts"][0]["outcome"] == "repeat"
    assert len(ws.store.list()) == 1


def test_no_token_configured_accepts_requests_without_one(ws):
    app = create_app(ws, token=None, max_body_bytes=1024 * 1024)
    with TestClient(app) as c:
        r = c.post(URL, content=body(am_alert(**NULLS)))
    assert r.status_code == 200


def test_one_log_line_per_request_with_status_and_outcome(client, caplog):
    caplog.set_level(logging.INFO, logger="rollbook.serve")
    client.get("/healthz")
    post(client, body(am_alert(**NULLS)))
    post(client, body(am_alert(**NULLS)))
    post(client, b"{nope")
    post(client, body(am_alert(**NULLS)), headers={})
    lines = [r.getMessage() for r in caplog.records if r.name == "rollbook.serve"]
    assert len(lines) == 5, lines
    assert '"GET /healthz" 200' in lines[0]
    assert '"POST /api/v1/alertmanager" 200' in lines[1] and "opened INC-0001" in lines[1]
    assert "repeat INC-0001" in lines[2]
    assert " 400 " in lines[3] and "not JSON" in lines[3]
    assert " 401 " in lines[4] and "no bearer token" in lines[4]
    assert all(ln.count("\n") == 0 for ln in lines)
