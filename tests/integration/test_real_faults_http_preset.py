"""`preset = "http"` on a FastAPI model server instrumented with prometheus-fastapi-instrumentator,
scraped by the real Prometheus: the model's error rate is the `/predict` error ratio, and its
request rate counts `/predict` only — health checks, metric scrapes and an idle version add
nothing (they used to: 0.232 read where `/predict` failed 0.30)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.realstack import PrometheusServer, free_port, require, wait_until

pytestmark = pytest.mark.integration

APP = Path(__file__).parent / "apps" / "fastapi_model.py"


class LabelledPrometheus(PrometheusServer):
    """Prometheus scraping each target with its model and version labels (as teams label
    targets in their scrape config)."""

    labelled: dict[str, dict[str, str]] = {}

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "fastapi",
                    "static_configs": [
                        {"targets": [t], "labels": labels} for t, labels in self.labelled.items()
                    ],
                }
            ],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(json.dumps(cfg, indent=2))
        return path


@pytest.fixture
def fastapi_stack(tmp_path):
    require("prometheus")
    procs = []
    ports = {"3": free_port(), "2": free_port()}
    # v3 takes the predictions (every 3rd fails); v2 is idle: only polled for /health
    for version, fail_every in (("3", 3), ("2", 0)):
        procs.append(
            subprocess.Popen(
                [sys.executable, str(APP), str(ports[version]), version, str(fail_every)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    prom = LabelledPrometheus(tmp_path / "prometheus", [f"127.0.0.1:{p}" for p in ports.values()])
    prom.labelled = {f"127.0.0.1:{p}": {"model": "churn", "version": v} for v, p in ports.items()}
    try:
        for p in ports.values():
            wait_until(
                lambda p=p: httpx.get(f"http://127.0.0.1:{p}/health").status_code == 200,
                timeout=30,
                what="the FastAPI model server",
            )
        prom.launch()
        prom.wait()
        yield prom, ports
    finally:
        prom.stop()
        for p in procs:
            p.terminate()
            p.wait(10)


def promql(prom: PrometheusServer, q: str) -> float:
    body = httpx.get(prom.url + "/api/v1/query", params={"query": q}).json()
    return float(body["data"]["result"][0]["value"][1])


def test_http_preset_counts_predictions_only(fastapi_stack, open_ws):
    prom, ports = fastapi_stack
    with httpx.Client(timeout=5) as c:
        end = time.monotonic() + 12
        while time.monotonic() < end:  # ~20 predictions/s on v3; both versions polled
            for _ in range(4):
                c.post(f"http://127.0.0.1:{ports['3']}/predict", json={"x": 1})
            for p in ports.values():
                c.get(f"http://127.0.0.1:{p}/health")
            time.sleep(0.1)
    window = "10s"
    ws = open_ws(
        {
            "registry": {"plugin": "embedded"},
            "traffic": {"plugin": "embedded"},
            "metrics": {
                "plugin": "prometheus",
                "url": prom.url,
                "preset": "http",
                "window": window,
                "cache_seconds": 0,
            },
        }
    )
    predict = 'http_requests_total{handler="/predict",model="churn"}'
    truth = promql(
        prom,
        f'sum(rate(http_requests_total{{handler="/predict",status=~"5..",model="churn"}}'
        f"[{window}])) / sum(rate({predict}[{window}]))",
    )
    truth_rpm = promql(prom, f"sum(rate({predict}[{window}])) * 60")
    got = ws.backends.metrics.query("error_rate", "churn")
    rpm = ws.backends.metrics.query("request_rate", "churn")
    assert got is not None and abs(got - truth) < 1e-9, (got, truth)
    assert 0.25 < got < 0.42  # every third prediction fails
    assert abs(rpm - truth_rpm) / truth_rpm < 1e-9
    # the idle version takes no predictions: not "requests", and no error rate at all
    assert ws.backends.metrics.query("request_rate", "churn", version="2") in (0.0, None)
