"""Starting, waiting for and stopping the stack's programs. Every process is started in its
own session and stopped by its PID (the process group it leads), never by name."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


def listeners(port: int) -> set[int] | None:
    """PIDs holding a TCP socket that listens on ``port`` (any address), read from Linux's
    ``/proc``; None where that cannot be read (another OS). Processes whose file descriptors
    this user may not read are not seen."""
    inodes: set[str] = set()
    readable = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            f = row.split()
            if len(f) > 9 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{f[9]}]")
    if not readable:
        return None
    pids: set[int] = set()
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                pids.add(int(fd_dir.parent.name))
    return pids


def answered_by_another(port: int, proc: Process) -> str:
    """Why ``port`` is not ``proc``'s ("" when it is, or when nobody can tell): a free port
    chosen here can be taken by another program before ``proc`` binds it, and that program
    then answers the readiness probe (another stack's Alertmanager did). ``proc`` leads its
    own process group: its workers count as its own."""
    owners = listeners(port)
    if not owners or proc.pid is None:
        return ""

    def group(pid: int) -> int | None:
        try:
            return os.getpgid(pid)
        except OSError:
            return None

    if any(pid == proc.pid or group(pid) == proc.pid for pid in owners):
        return ""
    return (
        f"port {port} is answered by another program (pid {', '.join(map(str, sorted(owners)))})"
        f", not by the {proc.name} started here (pid {proc.pid}): it took the port between "
        "choosing it and binding it"
    )


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    proc: Process | None = None,
    interval: float = 0.2,
    port: int | None = None,
) -> float:
    """Poll ``check`` until true; seconds waited. Fails fast when ``proc`` died, and — with
    ``port``, the port ``check`` talks to — when another program answers on it."""
    start = time.monotonic()
    while True:
        ok = False
        with contextlib.suppress(Exception):
            ok = bool(check())
        if ok:
            stranger = answered_by_another(port, proc) if port and proc else ""
            if stranger:
                raise RuntimeError(f"{what}: {stranger}")
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
