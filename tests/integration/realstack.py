"""The real servers of the integration tests, on free 127.0.0.1 ports.

One session starts every installed program at once (MLflow is the slow one, 6–25 s), with
the same launchers as ``examples/local-stack``; each server fixture waits for its server and
skips, with the reason, only when the program is not installed. Everything is stopped by PID
at the end of the session, failures included. Per-test fixtures put the shared state back
(MLflow's ``churn`` model, HAProxy weights, model server behaviour).
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "local-stack"))

from monitoring import AlertmanagerServer, PrometheusServer, backfill  # noqa: E402
from processes import PROGRAMS, free_port, wait_until  # noqa: E402
from servers import HaproxyServer, MlflowServer, ModelServer  # noqa: E402

INSTALL = {
    "mlflow": "pip install mlflow==3.17.2 in its own venv; point ROLLBOOK_MLFLOW_BIN at its "
    "mlflow (.ci/run does this)",
    "prometheus": "apt-get install prometheus (.ci/run does this)",
    "promtool": "apt-get install prometheus (.ci/run does this)",
    "alertmanager": "apt-get install prometheus-alertmanager (.ci/run does this)",
    "haproxy": "apt-get install haproxy (.ci/run does this)",
}
MODEL = "churn"
# route -> HAProxy server of the churn backend
SERVERS = {"1": "v1", "2": "v2", "rules": "rules"}
HISTORY_VALUES = [0.5, 0.4, "NaN", 0.3, "+Inf", 0.2, "-Inf", 0.1]


def require(program: str) -> None:
    if PROGRAMS[program]() is None:
        pytest.skip(f"{program} is not installed: {INSTALL[program]}")


class SessionStack:
    """Every server of the session; ``get`` waits for one to be ready (once)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.models: dict[str, ModelServer] = {}
        self.mlflow: MlflowServer | None = None
        self.prometheus: PrometheusServer | None = None
        self.alertmanager: AlertmanagerServer | None = None
        self.haproxy: HaproxyServer | None = None
        self.history_start: datetime | None = None
        self.startup_s: dict[str, float] = {}
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    def launch(self) -> None:
        for version, score in (("1", 0.14), ("2", 0.15), ("rules", 0.12)):
            self.models[version] = ModelServer(
                MODEL, version, free_port(), self.workdir, score=score
            ).launch()
        # a second model, so fleet queries have more than one model to answer for
        self.models["fraud"] = ModelServer("fraud", "7", free_port(), self.workdir).launch()
        if PROGRAMS["mlflow"]():
            self.mlflow = MlflowServer(self.workdir / "mlflow").launch()
        if PROGRAMS["alertmanager"]():
            self.alertmanager = AlertmanagerServer(self.workdir / "alertmanager").launch()
        if PROGRAMS["prometheus"]():
            self.prometheus = PrometheusServer(
                self.workdir / "prometheus",
                [f"127.0.0.1:{s.port}" for s in self.models.values()],
                alertmanager=self.alertmanager.address if self.alertmanager else None,
            )
            if PROGRAMS["promtool"]():
                self._backfill()
            self.prometheus.launch()
        if PROGRAMS["haproxy"]():
            self.haproxy = HaproxyServer(
                self.workdir / "haproxy",
                {MODEL: {srv: self.models[route].port for route, srv in SERVERS.items()}},
                {MODEL: {"v2": 100}},
            ).launch()

    def _backfill(self) -> None:
        """History with NaN and ±Inf samples, 2 hours back, one a minute."""
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
        self.history_start = start
        lines = [
            f'rollbook_test_signal{{model="hist",version="1"}} {v} '
            f"{(start + timedelta(minutes=i)).timestamp():.0f}"
            for i, v in enumerate(HISTORY_VALUES)
        ]
        self.prometheus.workdir.mkdir(parents=True, exist_ok=True)
        backfill(self.prometheus.data_dir, "\n".join(lines) + "\n# EOF\n", self.prometheus.workdir)

    def ready(self, name: str):
        server = {
            "mlflow": self.mlflow,
            "prometheus": self.prometheus,
            "alertmanager": self.alertmanager,
            "haproxy": self.haproxy,
        }[name]
        if server is None:
            require(name)
        with self._lock:
            if name not in self._ready:
                self.startup_s[name] = server.wait()
                self._ready.add(name)
        return server

    def models_ready(self) -> dict[str, ModelServer]:
        with self._lock:
            if "models" not in self._ready:
                for s in self.models.values():
                    s.wait()
                self._ready.add("models")
        return self.models

    def stop(self) -> None:
        for s in (self.haproxy, self.prometheus, self.alertmanager, self.mlflow):
            if s is not None:
                s.stop()
        for s in self.models.values():
            s.stop()


def reset_churn_routes(server: HaproxyServer) -> None:
    """Version 2 takes everything, the others drained; every server passes its checks."""
    for srv, weight in (("v2", 100), ("v1", 0), ("rules", 0)):
        server.runtime(f"set server {MODEL}/{srv} weight {weight}")
        server.runtime(f"set server {MODEL}/{srv} state {'ready' if weight else 'drain'}")

    def all_up() -> bool:
        rows = server.runtime(f"show stat {MODEL} 4 -1").splitlines()[1:]
        return all(",DOWN," not in r and ",MAINT" not in r for r in rows if r.strip())

    wait_until(all_up, timeout=15, what="HAProxy servers up")


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        pairs = (f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items())
        return "{ " + ", ".join(pairs) + " }"
    raise TypeError(type(v))


def write_config(home: Path, roles: dict[str, dict], env: str = "local") -> Path:
    """``roles``: role -> options (with ``plugin``); nested tables as inline tables."""
    lines = [f'default_env = "{env}"', "", f"[env.{env}]", "allow_auto_actions = true", ""]
    for role, opts in roles.items():
        lines.append(f"[env.{env}.{role}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in opts.items()]
        lines.append("")
    path = home / "config.toml"
    path.write_text("\n".join(lines))
    return path


def registry_options(mlflow: MlflowServer, **over) -> dict:
    return {"plugin": "mlflow", "url": mlflow.url, "timeout": 10, **over}


def metrics_options(prom: PrometheusServer, am: AlertmanagerServer | None = None, **over) -> dict:
    opts = {"plugin": "prometheus", "url": prom.url, "window": "15s", "cache_seconds": 0}
    if am is not None:
        opts["alertmanager_url"] = am.url
    return {**opts, **over}


def traffic_options(haproxy: HaproxyServer, **over) -> dict:
    return {
        "plugin": "haproxy",
        "socket": str(haproxy.socket_path),
        "sample_request": {"features": {"tenure": 14}},
        "probe_timeout": 2,
        "models": {
            MODEL: {
                "backend": MODEL,
                "versions": {"1": "v1", "2": "v2"},
                "fallbacks": {"previous": "1", "rules": "rules"},
            }
        },
        **over,
    }


def served_by(haproxy: HaproxyServer, n: int) -> Counter:
    """Send ``n`` predictions through HAProxy; count the versions that answered."""
    seen: Counter = Counter()
    with httpx.Client(timeout=5) as c:
        for _ in range(n):
            r = c.post(haproxy.frontend_url(MODEL) + "/predict", json={"features": {}})
            seen[r.json().get("version") if r.status_code == 200 else r.status_code] += 1
    return seen
