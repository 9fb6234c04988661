"""Rollback end to end on the real stack (alert → incident → `rollbook rollback` → MLflow alias
and HAProxy weights moved and read back → traffic really on the previous version), and the
faults: MLflow stopped mid-rollback, the HAProxy socket gone, a response past the timeout,
Prometheus unreachable. Each ends with a clear error, a consistent or explicitly "partially
applied" state, and a complete, verifiable timeline."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import httpx
import pytest

from console.actions.rollback import rollback
from console.incidents import open_manual
from tests.integration.realstack import (
    MODEL,
    free_port,
    metrics_options,
    registry_options,
    served_by,
    traffic_options,
    wait_until,
)
from tests.integration.slow_proxy import SlowProxy

pytestmark = pytest.mark.integration


class Load:
    """Predictions through HAProxy in the background (bounded: stops by itself)."""

    def __init__(self, url: str, max_seconds: float = 90.0) -> None:
        self.url, self.stop_at = url, time.monotonic() + max_seconds
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5) as c:
            while not self._stop.is_set() and time.monotonic() < self.stop_at:
                with contextlib.suppress(httpx.HTTPError):
                    c.post(self.url + "/predict", json={"features": {}})
                time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._t.join(5)


def timeline(ws, incident_id: str) -> list[str]:
    return [e.kind for e in ws.store.events(incident_id)]


def test_alert_to_incident_to_verified_rollback(real_ws, haproxy_server, model_servers):
    from click.testing import CliRunner

    from console.cli.main import cli

    ws = real_ws
    model_servers["2"].admin(error_rate=0.5)  # version 2 goes bad
    load = Load(haproxy_server.frontend_url(MODEL))
    try:
        # Prometheus evaluates the rule, Alertmanager receives it, Rollbook reads it there
        wait_until(
            lambda: any(
                a.name == "ModelErrorRateHigh" and a.model == MODEL
                for a in ws.backends.metrics.active_alerts()
            ),
            timeout=60,
            what="ModelErrorRateHigh in Alertmanager",
            interval=0.5,
        )
    finally:
        load.stop()
    alert = next(a for a in ws.backends.metrics.active_alerts() if a.name == "ModelErrorRateHigh")
    assert alert.labels["version"] == "2" and alert.severity == "critical"
    # the engine opens the incident with the runbook the alert selects; a repeated firing
    # (same fingerprint) is the same incident
    from console.runbooks.engine import Engine
    from console.runbooks.selection import open_incident

    inc, runbook, created = open_incident(ws, alert)
    again, _, created_again = open_incident(ws, alert)
    assert created and not created_again and again.id == inc.id and inc.model == MODEL
    # the runbook's checks read the real metrics: the error-rate check fails on Prometheus'
    # numbers, version 2 the worst
    engine = Engine(ws, inc.id)
    errors = next(s for s in engine.steps() if s.name == "error_rate")
    view = engine.run_step(errors.id)
    assert view.state == "failed", (view.state, view.summary)
    assert view.values["value"] > 0.05 and view.values["by_version"]["2"] > 0.05

    r = CliRunner().invoke(
        cli, ["rollback", MODEL, "--yes", "--json", "--incident", inc.id, "--timeout", "15"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["status"] == "applied" and res["verified"], res["message"]
    assert (res["plan"]["from"], res["plan"]["to"]) == ("2", "1")  # previous good: gates
    # read both back through fresh connections, not the ones that wrote
    from plugins.http_common.api import JsonApi
    from plugins.mlflow.registry import MlflowRegistry

    reg = MlflowRegistry(JsonApi("MLflow", ws.backends.registry.api.base_url))
    assert reg.production_version(MODEL) == "1"
    assert (
        reg.version(MODEL, "1").tags["rollbook.promoted"].endswith("by tester: emergency rollback")
    )
    reg.close()
    stat = haproxy_server.runtime(f"show stat {MODEL} 4 -1")
    v1 = next(line for line in stat.splitlines() if line.startswith(f"{MODEL},v1,"))
    v2 = next(line for line in stat.splitlines() if line.startswith(f"{MODEL},v2,"))
    assert ",UP," in v1 and (",DRAIN," in v2 or ",0,1,0" in v2), stat
    assert served_by(haproxy_server, 200) == {"1": 200}

    kinds = timeline(ws, inc.id)
    for k in (
        "action.requested",
        "action.confirmed",
        "action.step",
        "action.verified",
        "action.finished",
    ):
        assert k in kinds, kinds
    assert ws.store.verify_chain().ok


def test_previous_production_version_comes_from_the_audit_log(real_ws, churn_registry):
    """MLflow keeps no history of the alias: after 2 → 1, someone points it at a new 3 in
    the MLflow UI. Rolling back 3 must go to 1 (the audit log), not to 2 — the newest
    earlier version whose gates passed, but the one rolled back from."""
    from console.backends.types import Lineage
    from plugins.mlflow import seed

    ws = real_ws
    first = rollback(ws, MODEL, to="1")
    assert first.status == "applied" and first.verified, first.message
    api = churn_registry["api"]
    v3 = seed.register_version(
        api, MODEL, source="s3://models/churn/3", lineage=Lineage(gates={"auc_min": True})
    )
    seed.set_alias(api, MODEL, "champion", v3)
    res = rollback(ws, MODEL)
    assert res.status == "applied" and res.verified, res.message
    assert (res.plan.pointer_before, res.plan.pointer_after) == ("3", "1")
    assert ws.backends.registry.production_version(MODEL) == "1"


def test_mlflow_stopped_mid_rollback(real_ws, mlflow_server, haproxy_server):
    ws = real_ws
    inc = open_manual(ws, MODEL, "drill: MLflow dies mid-rollback")
    reg = ws.backends.registry
    original = reg.set_production

    def mlflow_dies_first(*a, **kw):
        mlflow_server.stop()
        return original(*a, **kw)

    reg.set_production = mlflow_dies_first
    try:
        res = rollback(ws, MODEL, to="1", incident_id=inc.id, timeout=15)
    finally:
        reg.set_production = original
    assert res.status == "partial", res.message
    assert "partially applied" in res.message and "cannot reach MLflow" in res.message
    assert res.finish == f"rollbook rollback {MODEL} --to 1 --yes"
    assert "rollbook traffic churn 2=100 --yes" in res.undo
    # traffic stayed on the known-good version: consistent with what was asked first
    assert ws.backends.traffic.routes(MODEL) == {"1": 100.0}
    kinds = timeline(ws, inc.id)
    assert kinds[-1] == "action.partial" and "action.step" in kinds
    partial = ws.store.events(inc.id)[-1]
    assert partial.payload["finish"] == res.finish

    mlflow_server.launch()  # same store: nothing was lost on the MLflow side either
    mlflow_server.wait()
    assert reg.production_version(MODEL) == "2"  # the alias never moved
    done = rollback(ws, MODEL, to="1", incident_id=inc.id, timeout=15)  # the finish command
    assert done.status == "applied" and done.verified, done.message
    assert reg.production_version(MODEL) == "1"
    assert ws.store.verify_chain().ok


def test_haproxy_socket_gone_mid_rollback(real_ws, haproxy_server):
    ws = real_ws
    inc = open_manual(ws, MODEL, "drill: HAProxy dies mid-rollback")
    traffic = ws.backends.traffic
    original = traffic.set_routes

    def haproxy_dies_first(*a, **kw):
        haproxy_server.stop()
        return original(*a, **kw)

    traffic.set_routes = haproxy_dies_first
    try:
        res = rollback(ws, MODEL, to="1", incident_id=inc.id, timeout=10)
    finally:
        traffic.set_routes = original
        haproxy_server.launch()
        haproxy_server.wait()
    assert res.status == "partial", res.message
    assert "cannot reach the HAProxy runtime API" in res.message
    assert "unknown state" in res.message
    assert ws.backends.registry.production_version(MODEL) == "2"  # registry untouched
    assert timeline(ws, inc.id)[-1] == "action.partial"
    assert ws.store.verify_chain().ok


def test_slow_mlflow_past_the_timeout(
    open_ws, churn_registry, mlflow_server, prometheus_server, haproxy_server
):
    proxy = SlowProxy(mlflow_server.port)
    try:
        ws = open_ws(
            {
                "registry": registry_options(mlflow_server, url=proxy.url),
                "metrics": metrics_options(prometheus_server),
                "traffic": traffic_options(haproxy_server),
            }
        )
        inc = open_manual(ws, MODEL, "drill: MLflow slow")
        reg = ws.backends.registry
        original = reg.set_production

        def slow_then_write(*a, **kw):
            proxy.delay = 3.0
            return original(*a, **kw)

        reg.set_production = slow_then_write
        t0 = time.monotonic()
        res = rollback(ws, MODEL, to="1", incident_id=inc.id, timeout=1.5)
        took = time.monotonic() - t0
        reg.set_production = original
        assert res.status == "partial", res.message
        assert "timed out after 1.5s" in res.message
        assert took < 8  # the deadline held; we did not wait for MLflow
        assert ws.backends.traffic.routes(MODEL) == {"1": 100.0}
        assert timeline(ws, inc.id)[-1] == "action.partial"
        proxy.delay = 0.0
        # a timed-out write may still land: read back, then finish
        done = rollback(ws, MODEL, to="1", incident_id=inc.id, timeout=15)
        assert done.status in ("applied", "noop") and done.verified, done.message
        assert reg.production_version(MODEL) == "1"
        assert ws.store.verify_chain().ok
    finally:
        proxy.close()


def test_slow_target_fails_preflight_and_nothing_changes(real_ws, model_servers):
    model_servers["1"].admin(delay_ms=3000)  # probe timeout is 2 s
    res = rollback(real_ws, MODEL, to="1", timeout=10)
    assert res.status == "refused"
    assert "health" in res.message and "did not answer within 2s" in res.message
    assert real_ws.backends.traffic.routes(MODEL) == {"2": 100.0}
    assert real_ws.backends.registry.production_version(MODEL) == "2"


def test_prometheus_unreachable_rollback_still_works(
    open_ws, churn_registry, mlflow_server, haproxy_server
):
    from console.fleet import fleet_status

    ws = open_ws(
        {
            "registry": registry_options(mlflow_server),
            "metrics": {"plugin": "prometheus", "url": f"http://127.0.0.1:{free_port()}"},
            "traffic": traffic_options(haproxy_server),
        }
    )
    rows = fleet_status(ws, MODEL)
    assert rows[0].health == "unknown" and "cannot reach Prometheus" in rows[0].error
    res = rollback(ws, MODEL, to="1", timeout=10)
    assert res.status == "applied" and res.verified, res.message
