"""Launchers for Prometheus (with its alert rules and a promtool backfill of history) and
Alertmanager."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from processes import Process, free_port, http_get, wait_until, which

ALERT_RULES = """\
groups:
  - name: rollbook-models
    rules:
      - alert: ModelErrorRateHigh
        expr: >
          sum by (model, version) (rate(model_request_errors_total[15s]))
          / sum by (model, version) (rate(model_requests_total[15s])) > 0.05
        labels:
          severity: critical
        annotations:
          summary: >-
            {{ $labels.model }} {{ $labels.version }}: error rate
            {{ $value | humanizePercentage }} (threshold 5%)
      - alert: FeatureNullRateHigh
        expr: max by (model, feature) (model_feature_null_ratio) > 0.02
        labels:
          severity: warning
        annotations:
          summary: >-
            {{ $labels.model }}: feature {{ $labels.feature }} null rate
            {{ $value | humanizePercentage }} (threshold 2.0%)
"""


@dataclass
class PrometheusServer:
    workdir: Path
    targets: list[str]
    alertmanager: str | None = None  # host:port
    port: int = field(default_factory=free_port)
    proc: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "prometheus-data"

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "rules.yml").write_text(ALERT_RULES)
        cfg = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(self.workdir / "rules.yml")],
            "scrape_configs": [
                {"job_name": "models", "static_configs": [{"targets": self.targets}]}
            ],
        }
        if self.alertmanager:
            cfg["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": [self.alertmanager]}]}]
            }
        path = self.workdir / "prometheus.yml"
        path.write_text(json.dumps(cfg, indent=2))  # JSON is YAML
        return path

    def launch(self) -> PrometheusServer:
        binary = which("prometheus")
        if binary is None:
            raise FileNotFoundError("prometheus is not installed")
        cfg = self.write_config()
        self.proc = Process(
            "prometheus",
            [
                binary,
                f"--config.file={cfg}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=30d",
                "--web.enable-lifecycle",
            ],
            self.workdir / "prometheus.log",
        ).start()
        return self

    def targets_up(self) -> bool:
        body = json.loads(http_get(self.url + "/api/v1/targets")[1])
        active = body["data"]["activeTargets"]
        return len(active) == len(self.targets) and all(t["health"] == "up" for t in active)

    def wait(self, timeout: float = 60.0) -> float:
        """Ready, and every scrape target up (the first scrape comes a few seconds in)."""
        t = wait_until(
            lambda: http_get(self.url + "/-/ready")[0] == 200,
            timeout=timeout,
            what="Prometheus",
            proc=self.proc,
            port=self.port,
        )
        if self.targets:
            t += wait_until(
                self.targets_up,
                timeout=timeout,
                what="Prometheus targets up",
                proc=self.proc,
                interval=0.5,
            )
        return t

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


def backfill(data_dir: Path, openmetrics: str, workdir: Path) -> None:
    """Write history into a Prometheus data dir with ``promtool tsdb create-blocks-from
    openmetrics`` (run it before Prometheus starts; ``openmetrics`` ends with ``# EOF``)."""
    promtool = which("promtool")
    if promtool is None:
        raise FileNotFoundError("promtool is not installed")
    data_dir.mkdir(parents=True, exist_ok=True)
    src = workdir / "backfill.om"
    src.write_text(openmetrics)
    r = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(src), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {r.stderr or r.stdout}")


def history_openmetrics(
    model: str,
    versions: dict[str, tuple[datetime, datetime]],
    *,
    end: datetime,
    hours: float = 6.0,
    step_s: int = 30,
    rate_per_min: float = 600.0,
) -> str:
    """Past traffic of ``model``: per version, the time span it served; counters grow at
    ``rate_per_min`` with 0.4% errors, a mean score of 0.18 and 14% positive."""
    lines = []
    start = end - timedelta(hours=hours)
    for version, (v_from, v_to) in versions.items():
        lab = f'model="{model}",version="{version}"'
        req = err = pos = 0.0
        score_sum = 0.0
        t = max(start, v_from)
        while t <= min(end, v_to):
            ts = f"{t.timestamp():.0f}"
            req += rate_per_min * step_s / 60
            err += rate_per_min * step_s / 60 * 0.004
            pos += rate_per_min * step_s / 60 * 0.14
            score_sum += rate_per_min * step_s / 60 * 0.18
            for name, value in (
                ("model_requests_total", req),
                ("model_request_errors_total", err),
                ("model_predictions_positive_total", pos),
                ("model_prediction_score_sum", score_sum),
                ("model_prediction_score_count", req),
            ):
                lines.append(f"{name}{{{lab}}} {value:.1f} {ts}")
            lines.append(
                f'model_feature_null_ratio{{{lab},feature="avg_order_value_90d"}} 0.008 {ts}'
            )
            t += timedelta(seconds=step_s)
    # OpenMetrics wants one metric family's samples together
    lines.sort(key=lambda ln: ln.split("{", 1)[0])
    return "\n".join(lines) + "\n# EOF\n"


ALERTMANAGER_CONFIG = """\
route:
  receiver: rollbook
  group_by: [alertname, model]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: rollbook
"""


@dataclass
class AlertmanagerServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def launch(self) -> AlertmanagerServer:
        binary = which("prometheus-alertmanager", "alertmanager")
        if binary is None:
            raise FileNotFoundError("prometheus-alertmanager is not installed")
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "alertmanager.yml"
        cfg.write_text(ALERTMANAGER_CONFIG)
        self.proc = Process(
            "alertmanager",
            [
                binary,
                f"--config.file={cfg}",
                f"--storage.path={self.workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            self.workdir / "alertmanager.log",
        ).start()
        return self

    def wait(self, timeout: float = 30.0) -> float:
        return wait_until(
            lambda: http_get(self.url + "/-/ready")[0] == 200,
            timeout=timeout,
            what="Alertmanager",
            proc=self.proc,
            port=self.port,
        )

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
