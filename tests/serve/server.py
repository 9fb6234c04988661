"""``rollbook serve`` as a real subprocess (``python -m console serve --port 0 …``): the port
it picked is read from its start line; it is stopped by its PID (SIGTERM to the process
group it leads, SIGKILL if it lingers), never by name."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "local-stack"))

from processes import Process  # noqa: E402

LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+) ")


class ServeProcess:
    def __init__(self, workdir: Path, *args: str, token: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k != "ROLLBOOK_SERVE_TOKEN"}
        if token is not None:
            env["ROLLBOOK_SERVE_TOKEN"] = token
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = Process(
            "rollbook-serve",
            [sys.executable, "-m", "console", "serve", "--port", "0", *args],
            workdir / "serve.log",
            env=env,
        )
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.proc.log.read_text(errors="replace") if self.proc.log.exists() else ""

    def start(self, timeout: float = 60.0) -> ServeProcess:
        self.proc.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = LISTENING.search(self.log())
            if m:
                self.port = int(m.group(1))
                return self
            if not self.proc.alive():
                raise RuntimeError(f"rollbook serve exited:\n{self.log()}")
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"rollbook serve did not start in {timeout}s:\n{self.log()}")

    def requests_logged(self, path: str = "/api/v1/alertmanager") -> list[str]:
        return [ln for ln in self.log().splitlines() if f'"POST {path}"' in ln]

    def stop(self) -> int | None:
        """SIGTERM by PID; the exit code (None if it had to be killed)."""
        self.proc.stop(timeout=15)
        return self.proc.popen.returncode if self.proc.popen else None
