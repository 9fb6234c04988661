"""PostgreSQL for the stack and the tests: Debian's server binaries, a throw-away cluster in
a temp dir, on a free port of 127.0.0.1 with its unix socket in that dir, stopped by PID.

The server refuses to run as root, so when we are root the cluster belongs to the
``postgres`` user and every server command runs through ``runuser -u postgres --``. That user
cannot enter a private folder (pytest's ``/tmp/pytest-of-root``, a home directory): the
cluster then lives in a folder of its own under the system temp dir, and the stack's
``postgres`` entry is a symlink to it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from processes import free_port


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<v>/bin`` holding ``postgres``, else None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    user: str = "postgres"
    max_connections: int = 20
    #: off (the default) for tests and the stack: nothing here must survive a power cut, and
    #: a flush per commit would slow every test; a benchmark of durable appends turns it on
    fsync: bool = False
    proc: subprocess.Popen | None = None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def _reachable(self, path: Path) -> bool:
        """Can the server's user enter ``path``?"""
        if os.geteuid() != 0:
            return True
        probe = ["runuser", "-u", "postgres", "--", "test", "-x", str(path)]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def launch(self) -> PostgresServer:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        if not self.workdir.exists():
            self.workdir.parent.mkdir(parents=True, exist_ok=True)
            if self._reachable(self.workdir.parent):
                self.workdir.mkdir()
            else:
                own = tempfile.mkdtemp(prefix="rollbook-stack-pg-")
                self.workdir.symlink_to(own, target_is_directory=True)
        self.workdir = self.workdir.resolve()
        data = self.workdir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
            self.workdir.chmod(0o700)
        if not (data / "PG_VERSION").exists():
            subprocess.run(
                self._as_owner(
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        self.user,
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-sync",
                    ]
                ),
                check=True,
                capture_output=True,
            )
        log = open(self.workdir / "postgres.log", "ab")  # noqa: SIM115 - the server's log
        self.proc = subprocess.Popen(
            self._as_owner(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.workdir}",
                    "-c",
                    f"fsync={'on' if self.fsync else 'off'}",
                    "-c",
                    "shared_buffers=32MB",
                    "-c",
                    f"max_connections={self.max_connections}",
                ]
            ),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        return self

    def wait(self, timeout: float = 30.0) -> PostgresServer:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    "postgres exited: " + (self.workdir / "postgres.log").read_text()[-500:]
                )
            try:
                with psycopg.connect(self.dsn, connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        """Fast shutdown (SIGINT) of the server by its PID; SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self.proc.pid
        # As root the child is runuser, which does not pass SIGINT on: signal the postmaster
        # itself, by the PID it wrote (else the server is SIGKILLed after 10 s, unclean).
        target = pid
        with contextlib.suppress(OSError, ValueError, IndexError):
            target = int((self.workdir / "data" / "postmaster.pid").read_text().split()[0])
        try:
            os.kill(target, signal.SIGINT)
        except ProcessLookupError:
            os.kill(pid, signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(pid, signal.SIGKILL)
            self.proc.wait(5)
