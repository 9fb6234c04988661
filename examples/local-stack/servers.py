"""Launchers for the model servers, MLflow and HAProxy (``launch()`` starts without waiting,
``wait()`` blocks until ready, so a stack starts everything at once)."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from processes import Process, free_port, http_get, http_json, mlflow_bin, wait_until, which

HERE = Path(__file__).resolve().parent
MODEL_SERVER = HERE / "model_server.py"


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
            port=self.port,
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
                # Artifacts behind the server's own proxy (mlflow-artifacts:/…), so Rollbook
                # can list and hash them over HTTP for the rollback artifact check.
                "--artifacts-destination",
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
            port=self.port,
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
            port=self.port,  # the first frontend
        )

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
