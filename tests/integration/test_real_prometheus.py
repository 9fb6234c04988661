"""The prometheus and alertmanager plugins against real Prometheus and Alertmanager."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from console.errors import BackendError
from plugins.http_common.alertmanager import AlertmanagerClient
from plugins.http_common.api import JsonApi
from plugins.prometheus import promql
from plugins.prometheus.metrics import PrometheusMetrics
from tests.integration.realstack import HISTORY_VALUES, free_port, metrics_options, wait_until

pytestmark = pytest.mark.integration


def prom(server, am=None, **signals) -> PrometheusMetrics:
    return PrometheusMetrics(
        JsonApi("Prometheus", server.url, timeout=5),
        signals={**promql.DEFAULT_SIGNALS, **signals},
        window="15s",
        cache_seconds=0,
        alertmanager=AlertmanagerClient(JsonApi("Alertmanager", am.url)) if am else None,
    )


def send(server, n: int, pause: float = 0.0) -> None:
    with httpx.Client(timeout=5) as c:
        for _ in range(n):
            c.post(server.url + "/predict", json={"features": {}})
            if pause:
                time.sleep(pause)


def test_signals_per_model_and_version_from_live_scrapes(prometheus_server, model_servers):
    m = prom(prometheus_server)
    model_servers["2"].admin(error_rate=0.25)
    for _ in range(6):  # over a few scrapes, so rate() has two samples to work with
        send(model_servers["2"], 40)
        send(model_servers["fraud"], 20)
        time.sleep(0.5)
    wait_until(
        lambda: (m.query("request_rate", "churn", version="2") or 0) > 0,
        timeout=20,
        what="churn 2 request rate",
    )
    err = m.query("error_rate", "churn", version="2")
    assert err == pytest.approx(0.25, abs=0.03)
    assert m.query("latency_p99_ms", "churn", version="2") > 0
    assert 0.1 < m.query("prediction_mean", "churn", version="2") < 0.2
    assert m.query("positive_rate", "churn", version="2") == 0.0  # scores ~0.15 < 0.5
    assert m.query("null_rate:avg_order_value_90d", "churn", version="2") == 0.0
    assert m.query("error_rate", "fraud") == 0.0  # no errors: 0, not "no data"
    assert m.query("no_such_signal", "churn") is None


def test_fleet_is_one_query_per_signal(prometheus_server, model_servers):
    m = prom(prometheus_server)
    send(model_servers["1"], 10)
    send(model_servers["fraud"], 10)
    calls = []
    real_request = m.api.request

    def counting(method, path, **kw):
        calls.append(path)
        return real_request(method, path, **kw)

    m.api.request = counting
    wait_until(
        lambda: {"churn", "fraud"} <= set(m.query_fleet("request_rate")),
        timeout=20,
        what="both models in the fleet query",
    )
    calls.clear()
    fleet = m.query_fleet("request_rate")
    versions = m.query_versions("request_rate")
    assert calls == ["/api/v1/query", "/api/v1/query"]
    assert {"churn", "fraud"} <= set(fleet)
    assert ("fraud", "7") in versions and ("churn", "1") in versions


def test_range_query_over_backfilled_history_with_nan_and_inf(real, prometheus_server):
    if real.history_start is None:
        pytest.skip("promtool is not installed: no backfilled history")
    m = prom(prometheus_server, hist="max by ($by) (rollbook_test_signal{$sel})")
    start = real.history_start
    pts = m.query_range(
        "hist", "hist", start, start + timedelta(minutes=len(HISTORY_VALUES) - 1), step_seconds=60
    )
    expected = [v if isinstance(v, float) else None for v in HISTORY_VALUES]
    assert [p.value for p in pts] == expected
    assert pts[0].at == start
    # instant queries at a NaN and at an Inf sample: None, no crash
    assert m.query("hist", "hist", at=start + timedelta(minutes=2, seconds=1)) is None
    assert m.query("hist", "hist", at=start + timedelta(minutes=4, seconds=1)) is None
    assert m.query("hist", "hist", version="1", at=start + timedelta(minutes=1)) == 0.4
    raw = m.instant("rollbook_test_signal", at=start + timedelta(minutes=2))
    assert raw[0]["value"] is None


def _fire_null_rate_alert(model_servers, am_or_prom):
    model_servers["fraud"].admin(null_rate=0.5)
    return wait_until(
        lambda: any(a.name == "FeatureNullRateHigh" for a in am_or_prom.active_alerts()),
        timeout=40,
        what="FeatureNullRateHigh firing",
        interval=0.5,
    )


def test_alerts_from_prometheus_and_alertmanager_share_fingerprints(
    prometheus_server, alertmanager_server, model_servers
):
    from_prom = prom(prometheus_server)
    from_am = prom(prometheus_server, alertmanager_server)
    _fire_null_rate_alert(model_servers, from_am)
    wait_until(
        lambda: any(a.name == "FeatureNullRateHigh" for a in from_prom.active_alerts()),
        timeout=10,
        what="Prometheus lists it",
    )
    p = next(a for a in from_prom.active_alerts() if a.name == "FeatureNullRateHigh")
    a = next(a for a in from_am.active_alerts() if a.name == "FeatureNullRateHigh")
    assert p.fingerprint == a.fingerprint  # one incident, whichever source reads it
    assert a.model == "fraud" and a.severity == "warning" and a.state == "firing"
    assert a.labels["feature"] == "avg_order_value_90d"
    assert "null rate 50%" in a.summary
    assert p.value == pytest.approx(0.5)
    assert a.starts_at.tzinfo is not None


def test_silence_created_and_expired_on_the_timeline(
    open_ws, mlflow_server, churn_registry, prometheus_server, alertmanager_server, model_servers
):
    from console.backends.types import Alert
    from console.incidents import open_from_alert
    from console.silences import create_silence, expire_silence, list_silences

    ws = open_ws(
        {
            "registry": {"plugin": "mlflow", "url": mlflow_server.url},
            "metrics": metrics_options(prometheus_server, alertmanager_server),
            "traffic": {
                "plugin": "haproxy",
                "socket": "/nonexistent.sock",
                "models": {"churn": {"versions": {"1": "v1"}}},
            },
        }
    )
    _fire_null_rate_alert(model_servers, ws.backends.metrics)
    alert = next(a for a in ws.backends.metrics.active_alerts() if a.model == "fraud")
    assert isinstance(alert, Alert)
    inc, created = open_from_alert(ws, alert)
    again, created_again = open_from_alert(ws, alert)
    assert created and not created_again and again.id == inc.id  # dedup by fingerprint

    rec = create_silence(
        ws,
        ["alertname=FeatureNullRateHigh", "model=fraud"],
        comment="drill: fraud null-rate",
        duration=timedelta(minutes=30),
    )
    assert rec["incident_id"] == inc.id  # the model's open incident
    assert not any(a.model == "fraud" for a in ws.backends.metrics.active_alerts())
    listed = {s.id: s for s in list_silences(ws)}
    assert listed[rec["silence_id"]].created_by == "tester"
    assert listed[rec["silence_id"]].comment == "drill: fraud null-rate"

    expire_silence(ws, rec["silence_id"], comment="drill over")
    wait_until(
        lambda: any(a.model == "fraud" for a in ws.backends.metrics.active_alerts()),
        timeout=10,
        what="alert back after the silence expired",
    )
    kinds = [(e.kind, e.actor) for e in ws.store.events(inc.id)]
    assert ("silence.created", "tester") in kinds and ("silence.expired", "tester") in kinds
    created_ev = next(e for e in ws.store.events(inc.id) if e.kind == "silence.created")
    assert created_ev.payload["comment"] == "drill: fraud null-rate"
    assert created_ev.payload["author"] == "tester"
    model_servers["fraud"].admin(null_rate=0.0)


def test_silence_cli(open_ws, rollbook_home, mlflow_server, prometheus_server, alertmanager_server):
    import json

    from click.testing import CliRunner

    from console.cli.main import cli

    open_ws(
        {
            "registry": {"plugin": "mlflow", "url": mlflow_server.url},
            "metrics": {"plugin": "alertmanager", "url": alertmanager_server.url},
            "traffic": {
                "plugin": "haproxy",
                "socket": "/nonexistent.sock",
                "models": {"churn": {"versions": {"1": "v1"}}},
            },
        }
    )
    r = CliRunner().invoke(
        cli,
        ["silence", "add", "-m", "alertname=Drill", "-d", "10m", "-c", "drill", "--json"],
    )
    assert r.exit_code == 0, r.output
    sid = json.loads(r.output)["silence_id"]
    r = CliRunner().invoke(cli, ["silence", "list", "--json"])
    assert sid in [s["id"] for s in json.loads(r.output)["silences"]]
    r = CliRunner().invoke(cli, ["silence", "expire", sid])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["silence", "list", "--json"])
    assert sid not in [s["id"] for s in json.loads(r.output)["silences"]]


def test_prometheus_unreachable_is_a_clear_error(real, tmp_path, model_servers):
    from tests.integration.realstack import PrometheusServer

    if real.prometheus is None:
        pytest.skip("prometheus is not installed")
    own = PrometheusServer(tmp_path / "p", [f"127.0.0.1:{model_servers['1'].port}"]).launch()
    try:
        own.wait()
        m = prom(own)
        wait_until(lambda: m.query("request_rate", "churn") is not None, timeout=20, what="data")
    finally:
        own.stop()
    with pytest.raises(BackendError, match="cannot reach Prometheus") as err:
        m.query("request_rate", "churn")
    assert "running" in err.value.hint
    with pytest.raises(BackendError):
        m.active_alerts()
    dead = prom(type("S", (), {"url": f"http://127.0.0.1:{free_port()}"})())
    with pytest.raises(BackendError, match="cannot reach Prometheus"):
        dead.query_fleet("error_rate")
