"""A real local stack for Rollbook: MLflow, Prometheus, Alertmanager, HAProxy and tiny model
servers on 127.0.0.1, seeded, with a Rollbook config pointing at them.

    python examples/local-stack/stack.py up      # start, seed, write config, wait for Ctrl-C
    python examples/local-stack/stack.py down    # stop a stack started with --detach

The integration tests and ``benchmarks/rollback_real.py`` start their servers with the same
launchers (``MlflowServer``, ``PrometheusServer``, …), so what the tests prove is what a user
runs. Every process is started in its own session and stopped by its PID (its process group),
never by name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL_SERVER = HERE / "model_server.py"
MLFLOW_VENVS = (Path("/opt/rollbook-ci/mlflow"), Path.home() / ".cache/rollbook-ci/mlflow")


# ---- finding programs ---------------------------------------------------------------------
def which(*names: str) -> str | None:
    extra = os.pathsep.join(["/usr/sbin", "/usr/local/sbin", "/sbin"])
    path = os.environ.get("PATH", "") + os.pathsep + extra
    for n in names:
        found = shutil.which(n, path=path)
        if found:
            return found
    return None


def mlflow_bin() -> str | None:
    """``$ROLLBOOK_MLFLOW_BIN``, else ``mlflow`` on PATH, else the CI's own venv."""
    env = os.environ.get("ROLLBOOK_MLFLOW_BIN")
    if env:
        return env if Path(env).exists() else None
    found = shutil.which("mlflow")
    if found:
        return found
    for venv in MLFLOW_VENVS:
        if (venv / "bin" / "mlflow").exists():
            return str(venv / "bin" / "mlflow")
    return None


PROGRAMS: dict[str, Callable[[], str | None]] = {
    "mlflow": mlflow_bin,
    "prometheus": lambda: which("prometheus"),
    "promtool": lambda: which("promtool"),
    "alertmanager": lambda: which("prometheus-alertmanager", "alertmanager"),
    "haproxy": lambda: which("haproxy"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- processes ----------------------------------------------------------------------------
@dataclass
class Process:
    name: str
    cmd: list[str]
    log: Path
    env: dict[str, str] | None = None
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")  # noqa: SIM115 - the child keeps it open
        self.popen = subprocess.Popen(
            self.cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            start_new_session=True,
        )
        out.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group this process leads, then SIGKILL what is left."""
        if self.popen is None:
            return
        pid = self.popen.pid
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            try:
                self.popen.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # stray children of the group

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    proc: Process | None = None,
    interval: float = 0.2,
) -> float:
    """Poll ``check`` until true; seconds waited. Fails fast when ``proc`` died."""
    start = time.monotonic()
    while True:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - start
        if proc is not None and not proc.alive():
            raise RuntimeError(
                f"{what}: {proc.name} exited ({proc.popen.returncode}); log:\n{proc.tail()}"
            )
        if time.monotonic() - start > timeout:
            raise TimeoutError(
                f"{what}: not ready after {timeout:g}s" + (f"; log:\n{proc.tail()}" if proc else "")
            )
        time.sleep(interval)


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def http_json(url: str, body: dict | None = None, method: str | None = None, timeout: float = 5.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method or ("POST" if data else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - loopback only
        raw = r.read()
    return json.loads(raw) if raw else {}


# ---- servers ------------------------------------------------------------------------------
@dataclass
class ModelServer:
    model: str
    version: str
    port: int
    workdir: Path
    score: float = 0.14
    null_rate: float = 0.0
    proc: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> ModelServer:
        self.proc = Process(
            f"model-{self.model}-{self.version}",
            [
                sys.executable,
                str(MODEL_SERVER),
                "--port",
                str(self.port),
                "--model",
                self.model,
                "--version",
                self.version,
                "--score",
                str(self.score),
                "--null-rate",
                str(self.null_rate),
            ],
            self.workdir / f"model-{self.model}-{self.version}.log",
        ).start()
        return self

    def wait(self, timeout: float = 15.0) -> float:
        return wait_until(
            lambda: http_get(self.url + "/health")[0] == 200,
            timeout=timeout,
            what=f"model server {self.version}",
            proc=self.proc,
        )

    def admin(self, **settings: float) -> dict:
        return http_json(self.url + "/admin", settings)

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@dataclass
class MlflowServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> MlflowServer:
        binary = mlflow_bin()
        if binary is None:
            raise FileNotFoundError("mlflow is not installed (set ROLLBOOK_MLFLOW_BIN)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        self.proc = Process(
            "mlflow",
            [
                binary,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{self.workdir / 'mlflow.db'}",
                "--default-artifact-root",
                str(self.workdir / "artifacts"),
            ],
            self.workdir / "mlflow.log",
            env=env,
        ).start()
        return self

    def wait(self, timeout: float = 90.0) -> float:
        return wait_until(
            lambda: http_get(self.url + "/health")[0] == 200,
            timeout=timeout,
            what="MLflow",
            proc=self.proc,
            interval=0.3,
        )

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


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
    step_s: int = 60,
    rate_per_min: float = 600.0,
) -> str:
    """Past traffic of ``model``: per version, the time span it served; counters grow at
    ``rate_per_min`` with 0.4% errors, the churn score near 14%."""
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
            score_sum += rate_per_min * step_s / 60 * 0.2
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
        )

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@dataclass
class HaproxyServer:
    """One frontend per model; its backend has a server per version (and fallback)."""

    workdir: Path
    backends: dict[str, dict[str, int]]  # backend -> server name -> port
    weights: dict[str, dict[str, int]]  # backend -> server -> initial weight
    port: int = field(default_factory=free_port)  # the first frontend; others follow
    frontends: dict[str, int] = field(default_factory=dict)
    proc: Process | None = None

    @property
    def socket_path(self) -> Path:
        return self.workdir / "haproxy-admin.sock"

    def frontend_url(self, backend: str) -> str:
        return f"http://127.0.0.1:{self.frontends[backend]}"

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            "global",
            f"    stats socket {self.socket_path} mode 600 level admin",
            "    stats timeout 30s",
            "",
            "defaults",
            "    mode http",
            "    timeout connect 1s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    timeout check 2s",
            "",
        ]
        for i, (backend, servers) in enumerate(self.backends.items()):
            fe = self.frontends.setdefault(backend, self.port if i == 0 else free_port())
            lines += [
                f"frontend {backend}_in",
                f"    bind 127.0.0.1:{fe}",
                f"    default_backend {backend}",
                "",
                f"backend {backend}",
                "    balance roundrobin",
                "    option httpchk GET /health",
            ]
            for name, port in servers.items():
                w = self.weights.get(backend, {}).get(name, 0)
                lines.append(
                    f"    server {name} 127.0.0.1:{port} weight {w} check inter 1s fall 2 rise 1"
                )
            lines.append("")
        path = self.workdir / "haproxy.cfg"
        path.write_text("\n".join(lines))
        return path

    def launch(self) -> HaproxyServer:
        binary = which("haproxy")
        if binary is None:
            raise FileNotFoundError("haproxy is not installed")
        cfg = self.write_config()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self.proc = Process(
            "haproxy", [binary, "-db", "-f", str(cfg)], self.workdir / "haproxy.log"
        ).start()
        return self

    def runtime(self, cmd: str, timeout: float = 2.0) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(str(self.socket_path))
            s.sendall(cmd.encode() + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode()

    def wait(self, timeout: float = 20.0) -> float:
        return wait_until(
            lambda: "Name: HAProxy" in self.runtime("show info"),
            timeout=timeout,
            what="HAProxy",
            proc=self.proc,
        )

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


# ---- the whole stack ----------------------------------------------------------------------
@dataclass
class Stack:
    workdir: Path
    model: str = "churn"
    alias: str = "champion"
    servers: dict[str, ModelServer] = field(default_factory=dict)
    mlflow: MlflowServer | None = None
    prometheus: PrometheusServer | None = None
    alertmanager: AlertmanagerServer | None = None
    haproxy: HaproxyServer | None = None

    def launch(self, history: bool = True) -> None:
        """Start everything at once (MLflow is the slow one), then wait for each."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for version, score in (("1", 0.14), ("2", 0.15), ("rules", 0.12)):
            self.servers[version] = ModelServer(
                self.model, version, free_port(), self.workdir, score=score
            ).launch()
        self.mlflow = MlflowServer(self.workdir / "mlflow").launch()
        self.alertmanager = AlertmanagerServer(self.workdir / "alertmanager").launch()
        self.prometheus = PrometheusServer(
            self.workdir / "prometheus",
            [f"127.0.0.1:{s.port}" for s in self.servers.values()],
            alertmanager=self.alertmanager.address,
        )
        if history:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            switch = now - timedelta(hours=3)
            self.prometheus.workdir.mkdir(parents=True, exist_ok=True)
            backfill(
                self.prometheus.data_dir,
                history_openmetrics(
                    self.model,
                    {
                        "1": (now - timedelta(hours=6), switch),
                        "2": (switch, now - timedelta(minutes=2)),
                    },
                    end=now,
                ),
                self.prometheus.workdir,
            )
        self.prometheus.launch()
        self.haproxy = HaproxyServer(
            self.workdir / "haproxy",
            {self.model: {f"v{v}" if v.isdigit() else v: s.port for v, s in self.servers.items()}},
            {self.model: {"v2": 100}},
        ).launch()
        for s in self.servers.values():
            s.wait()
        self.haproxy.wait()
        self.alertmanager.wait()
        self.prometheus.wait()
        self.mlflow.wait()

    def seed(self) -> None:
        """MLflow: the model with versions 1 and 2 and their lineage; alias → 2."""
        sys.path.insert(0, str(HERE.parent.parent))
        from console.backends.types import Lineage
        from plugins.http_api import JsonApi
        from plugins.mlflow import seed

        api = JsonApi("MLflow", self.mlflow.url)
        seed.ensure_model(
            api,
            self.model,
            description="Nightly churn scores for 2.1M customers",
            tags={
                "rollbook.owner": "retention-ds",
                "rollbook.serving_pattern": "realtime",
                "rollbook.features": "tenure_months,avg_order_value_90d",
            },
        )
        base = dict(
            feature_version="fs-2026.10", environment={"python": "3.11.7", "scikit-learn": "1.5.2"}
        )
        seed.register_version(
            api,
            self.model,
            source=f"s3://models/{self.model}/1",
            lineage=Lineage(
                code_commit="4f1c2ab",
                data_snapshot_hash="sha256:91d0",
                data_description="orders 2026-09",
                params={"max_depth": 6},
                validation_metrics={"auc": 0.861},
                gates={"auc_min": True, "bias": True},
                artifact_hash="sha256:aa01",
                **base,
            ),
        )
        v2 = seed.register_version(
            api,
            self.model,
            source=f"s3://models/{self.model}/2",
            lineage=Lineage(
                code_commit="9e77d10",
                data_snapshot_hash="sha256:b3c4",
                data_description="orders 2026-10",
                params={"max_depth": 8},
                validation_metrics={"auc": 0.874},
                gates={"auc_min": True, "bias": True},
                artifact_hash="sha256:bb02",
                **base,
            ),
        )
        seed.set_alias(api, self.model, self.alias, v2)
        api.close()

    def rollbook_config(self, env: str = "local", window: str = "1m") -> str:
        servers = {v: (f"v{v}" if v.isdigit() else v) for v in self.servers}
        versions = ", ".join(f'"{v}" = "{s}"' for v, s in servers.items() if v.isdigit())
        return f"""\
# Written by examples/local-stack/stack.py: Rollbook against the real local stack.
default_env = "{env}"

[env.{env}]
allow_auto_actions = false
revenue_per_hour = {{ {self.model} = 12000 }}

[env.{env}.registry]
plugin = "mlflow"
url = "{self.mlflow.url}"
alias = "{self.alias}"

[env.{env}.metrics]
plugin = "prometheus"
url = "{self.prometheus.url}"
alertmanager_url = "{self.alertmanager.url}"
window = "{window}"

[env.{env}.traffic]
plugin = "haproxy"
socket = "{self.haproxy.socket_path}"
sample_request = '{{"features": {{"tenure_months": 14, "avg_order_value_90d": 41.5}}}}'

[env.{env}.traffic.models.{self.model}]
backend = "{self.model}"
versions = {{ {versions} }}
fallbacks = {{ previous = "1", rules = "rules" }}
"""

    def stop(self) -> None:
        for s in (
            self.haproxy,
            self.prometheus,
            self.alertmanager,
            self.mlflow,
            *self.servers.values(),
        ):
            if s is not None:
                s.stop()

    def pids(self) -> dict[str, int]:
        out = {}
        for s in (
            self.haproxy,
            self.prometheus,
            self.alertmanager,
            self.mlflow,
            *self.servers.values(),
        ):
            if s is not None and s.proc is not None and s.proc.pid:
                out[s.proc.name] = s.proc.pid
        return out


def _up(args: argparse.Namespace) -> int:
    missing = [n for n, find in PROGRAMS.items() if find() is None]
    if missing:
        print(
            f"missing programs: {', '.join(missing)}. Install them with:\n"
            "  sudo apt-get install -y --no-install-recommends prometheus "
            "prometheus-alertmanager haproxy\n"
            "  python3 -m venv ~/.cache/rollbook-ci/mlflow && "
            "~/.cache/rollbook-ci/mlflow/bin/pip install mlflow==3.17.2",
            file=sys.stderr,
        )
        return 1
    workdir = Path(args.dir).expanduser().resolve()
    home = workdir / "rollbook-home"
    stack = Stack(workdir)
    t0 = time.monotonic()
    try:
        stack.launch(history=not args.no_history)
        stack.seed()
    except BaseException:
        stack.stop()
        raise
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(stack.rollbook_config())
    (workdir / "pids.json").write_text(json.dumps(stack.pids(), indent=2))
    print(
        f"local stack up in {time.monotonic() - t0:.1f}s (logs in {workdir})\n"
        f"  MLflow        {stack.mlflow.url}\n"
        f"  Prometheus    {stack.prometheus.url}\n"
        f"  Alertmanager  {stack.alertmanager.url}\n"
        f"  HAProxy       {stack.haproxy.frontend_url(stack.model)}  "
        f"(runtime API {stack.haproxy.socket_path})\n"
        f"  model servers "
        + ", ".join(f"{v}: {s.url}" for v, s in stack.servers.items())
        + f"\n\nTry it:\n  export ROLLBOOK_HOME={home}\n  rollbook status\n"
        f"  curl -s -XPOST {stack.servers['2'].url}/admin -d '{{\"error_rate\": 0.5}}'"
        f"   # break version 2\n"
        f"  for i in $(seq 300); do curl -s -XPOST "
        f"{stack.haproxy.frontend_url(stack.model)}/predict >/dev/null; done\n"
        f"  rollbook status            # ModelErrorRateHigh fires within ~20 s\n"
        f"  rollbook rollback {stack.model} --to 1\n"
    )
    if args.detach:
        print(f"stop it with: python {Path(__file__).name} down --dir {workdir}")
        return 0
    print("Ctrl-C stops the stack.")
    try:
        while all(s.proc.alive() for s in (stack.mlflow, stack.prometheus, stack.haproxy)):
            time.sleep(1)
        print("a server exited; stopping the stack", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def _down(args: argparse.Namespace) -> int:
    pidfile = Path(args.dir).expanduser() / "pids.json"
    if not pidfile.exists():
        print(f"no stack recorded in {pidfile}", file=sys.stderr)
        return 1
    for name, pid in json.loads(pidfile.read_text()).items():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
            print(f"stopped {name} (pid {pid})")
    pidfile.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Rollbook's local real stack.")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start, seed, write the Rollbook config")
    up.add_argument("--dir", default="~/.cache/rollbook-stack")
    up.add_argument("--detach", action="store_true", help="leave it running and return")
    up.add_argument("--no-history", action="store_true", help="skip the promtool backfill")
    down = sub.add_parser("down", help="stop a detached stack")
    down.add_argument("--dir", default="~/.cache/rollbook-stack")
    a = p.parse_args(argv)
    return _up(a) if a.cmd == "up" else _down(a)


if __name__ == "__main__":
    sys.exit(main())
