"""Alertmanager webhook bodies into ``rollbook serve``'s ASGI app (``console.cli.serve_app``,
driven in process by Starlette's test client on an open demo workspace): random bytes and
JSON, and structurally valid version 4 payloads with mutated fields — labels missing or of
the wrong type, unknown, unicode and huge model names, fingerprints and statuses of any type,
start times that are not RFC 3339 or at the ends of the calendar, huge alert lists, the
envelope's own fields of the wrong type.

Every body gets a 2xx, or a 4xx whose JSON says why — never a 5xx: the store is local and
healthy here, so a 5xx is a bug, which Alertmanager would retry for ever. The server keeps
answering, and afterwards the store's hash chain verifies (``rollbook audit verify``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.fuzz.conftest import count, fuzz_settings, run_main
from tests.serve.payloads import ZERO_TIME, am_alert, payload

URL = "/api/v1/alertmanager"
TOKEN = "fuzz-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
LIMIT = 256 * 1024

JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.text(max_size=12),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
ODD = st.one_of(
    JSON,
    st.sampled_from(["", " ", "é" * 10, "x" * 10_000, "\u0000", "null", "4", "firing "]),
)
TIMES = st.one_of(
    st.sampled_from(
        [
            "2026-11-22T06:47:00.123456789Z",
            "2026-11-22T06:47:00Z",
            "2026-11-22T06:47:00+05:30",
            ZERO_TIME,
            "9999-12-31T23:59:59.999999999-23:59",
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00+23:59",
            "0002-01-01T00:00:00+23:59",
            "2026-11-22T06:47:00",
            "2026-13-45T99:99:99Z",
            "2026-11-22T06:47:00.1234567890123456789Z",
            "yesterday",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    ODD,
)
MODELS = st.one_of(
    st.sampled_from(["churn", "fraud", "pricing", "credit-score", "recommendations"]),
    st.sampled_from(["nope", "CHURN", "churn ", "é", "m" * 5000, "../churn", "a/b"]),
    st.text(max_size=10),
)


@st.composite
def alert(draw) -> Any:
    a = am_alert(
        name=draw(st.one_of(st.sampled_from(["FeatureNullRateHigh", "ModelLatencyHigh"]), ODD))
        if draw(st.integers(0, 4)) == 0
        else "FeatureNullRateHigh",
        model=draw(MODELS),
        fingerprint=draw(st.sampled_from(["a1b2c3d4e5f60718", "ffff0000ffff0000", "0" * 16])),
        status=draw(st.sampled_from(["firing", "firing", "resolved"])),
        feature="avg_order_value_90d",
    )
    for _ in range(draw(st.integers(0, 3))):
        field = draw(
            st.sampled_from(
                [
                    "labels",
                    "label",
                    "fingerprint",
                    "status",
                    "startsAt",
                    "endsAt",
                    "annotations",
                    "value",
                    "drop",
                    "whole",
                ]
            )
        )
        if field == "labels":
            a["labels"] = draw(ODD)
        elif field == "label" and isinstance(a.get("labels"), dict):
            a["labels"][draw(st.sampled_from(["model", "severity", "alertname", "x"]))] = draw(ODD)
        elif field in ("startsAt", "endsAt"):
            a[field] = draw(TIMES)
        elif field == "value" and isinstance(a.get("annotations"), dict):
            a["annotations"]["value"] = draw(
                st.one_of(ODD, st.sampled_from(["NaN", "+Inf", "-Inf", "1e309", "0x1p3"]))
            )
        elif field == "drop":
            a.pop(draw(st.sampled_from(sorted(a))), None)
        elif field == "whole":
            return draw(ODD)
        elif field in ("fingerprint", "status", "labels", "annotations"):
            a[field] = draw(ODD)
    return a


@st.composite
def structured(draw) -> bytes:
    alerts = draw(st.lists(alert(), max_size=4))
    if draw(st.integers(0, 9)) == 0:
        alerts = alerts * draw(st.integers(50, 300))  # a huge group (under the body limit)
    over: dict[str, Any] = {}
    envelope = ["version", "truncatedAlerts", "receiver", "groupKey", "status"]
    for key in draw(st.sets(st.sampled_from(envelope))) if draw(st.integers(0, 3)) == 0 else ():
        over[key] = draw(st.one_of(ODD, st.sampled_from(["4", 4, 4.0, -1, 2**64])))
    return json.dumps(payload(*alerts, **over)).encode()


BODIES = st.one_of(
    structured(),
    structured(),
    structured(),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.sampled_from([b"", b"{", b'{"version": "4", "alerts": [' * 200, b"\xff\xfe{}", b"[" * 5000]),
)


@pytest.fixture
def client(clock):
    from console.cli.serve_app import create_app
    from console.workspace import open_workspace

    with open_workspace("demo", clock=clock) as ws:
        app = create_app(ws, token=TOKEN, max_body_bytes=LIMIT)
        with TestClient(app, raise_server_exceptions=False) as c:
            yield c, ws


def test_webhook_bodies_get_a_2xx_or_a_4xx_with_the_reason(client):
    c, ws = client

    @fuzz_settings(examples=120)
    @given(body=BODIES)
    def run(body: bytes) -> None:
        r = c.post(URL, content=body, headers=AUTH)
        count("webhook bodies")
        shown = f"{r.status_code} {r.text[:2000]}\nbody: {body[:2000]!r}"
        assert r.status_code < 500, shown
        answer = r.json()
        if r.status_code >= 400:
            assert r.status_code in (400, 413), shown
            assert answer["error"]["message"], shown
        else:
            assert isinstance(answer["alerts"], list) and isinstance(answer["skipped"], list)
            assert len(answer["alerts"]) + len(answer["skipped"]) >= 0

    run()
    assert c.get("/healthz").status_code == 200  # still serving
    report = ws.store.verify_chain()
    assert report.ok, report
    code, out, err = run_main(["audit", "verify", "--json"])
    assert code == 0 and json.loads(out)["ok"] is True, (out, err)
