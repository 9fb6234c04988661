"""HAProxy's runtime API (the ``stats socket … level admin``), over a unix socket or TCP.

One connection per command, in HAProxy's non-interactive mode: send the command and a
newline, read until HAProxy closes. A ``set`` command answers nothing when it worked and a
sentence when it did not.
"""

from __future__ import annotations

import csv
import io
import socket
from dataclasses import dataclass

from console.errors import BackendError

STATES = ("ready", "drain", "maint")
# Statuses in `show stat` under which a server takes new requests.
_SERVING = ("UP", "NOLB", "no check", "OPEN")


@dataclass(frozen=True)
class ServerStat:
    backend: str
    server: str
    status: str  # UP, DOWN, MAINT, DRAIN, no check, "UP 1/3", "MAINT (via …)", …
    weight: int  # effective weight
    uweight: int  # weight set by the user (config or `set server … weight`)
    addr: str  # host:port
    check: str  # last health check description

    @property
    def serving(self) -> bool:
        """Takes new requests: up (or unchecked) and not in maintenance or drain."""
        s = self.status.upper()
        if s.startswith(("MAINT", "DRAIN", "DOWN")):
            return False
        return s.startswith(tuple(x.upper() for x in _SERVING)) and self.uweight > 0


def parse_address(address: str) -> tuple[int, str | tuple[str, int]]:
    """``/run/haproxy.sock``, ``unix:/run/haproxy.sock``, ``127.0.0.1:9999`` or
    ``tcp:127.0.0.1:9999`` → (socket family, address)."""
    a = address.strip()
    if a.startswith("unix:"):
        return socket.AF_UNIX, a[5:]
    if a.startswith("tcp:"):
        a = a[4:]
    elif a.startswith(("/", ".", "~")):
        return socket.AF_UNIX, a
    host, sep, port = a.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"not a socket path or host:port: {address!r}")
    return socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET, (
        host.strip("[]"),
        int(port),
    )


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def parse_stat(text: str) -> list[ServerStat]:
    """Server rows of a `show stat` CSV (the frontend/backend summary rows are dropped)."""
    lines = text.strip("\n").splitlines()
    if not lines or not lines[0].startswith("# "):
        raise BackendError(f"HAProxy `show stat` answered something unexpected: {text[:200]!r}")
    reader = csv.DictReader(io.StringIO("\n".join([lines[0][2:], *lines[1:]])))
    out = []
    for row in reader:
        if row.get("svname") in ("FRONTEND", "BACKEND") or row.get("type") not in (None, "2"):
            continue
        weight = _int(row.get("weight"))
        out.append(
            ServerStat(
                backend=row.get("pxname", ""),
                server=row.get("svname", ""),
                status=row.get("status", ""),
                weight=weight,
                uweight=_int(row.get("uweight"))
                if row.get("uweight") not in (None, "")
                else weight,
                addr=row.get("addr", ""),
                check=row.get("check_desc") or row.get("check_status") or "",
            )
        )
    return out


class RuntimeApi:
    def __init__(self, address: str, *, timeout: float = 2.0) -> None:
        self.address = address
        self.family, self.target = parse_address(address)
        self.timeout = timeout

    def command(self, cmd: str) -> str:
        try:
            with socket.socket(self.family, socket.SOCK_STREAM) as s:
                s.settimeout(self.timeout)
                s.connect(self.target)
                s.sendall(cmd.encode() + b"\n")
                chunks = []
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
        except TimeoutError as exc:
            raise BackendError(
                f"HAProxy runtime API at {self.address} did not answer "
                f"`{cmd}` within {self.timeout:g}s",
                hint="a set command may still have applied: read the routes back",
            ) from exc
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise BackendError(
                f"cannot reach the HAProxy runtime API at {self.address}: {exc.strerror or exc}",
                hint="is haproxy running, with `stats socket "
                f"{self.address} level admin` in its global section?",
            ) from exc
        except OSError as exc:
            raise BackendError(f"HAProxy runtime API at {self.address}: {exc}") from exc
        return b"".join(chunks).decode(errors="replace")

    def set_command(self, cmd: str) -> None:
        answer = self.command(cmd).strip()
        if answer:
            hint = "the stats socket needs `level admin`" if "ermission" in answer else None
            raise BackendError(f"HAProxy refused `{cmd}`: {answer}", hint=hint)

    def show_stat(self, backend: str) -> list[ServerStat]:
        text = self.command(f"show stat {backend} 4 -1")
        rows = [r for r in parse_stat(text) if r.backend == backend]
        if not rows:
            raise BackendError(
                f"HAProxy has no backend {backend!r} with servers",
                hint="check the backend name in this model's traffic options",
            )
        return rows

    def set_weight(self, backend: str, server: str, weight: int) -> None:
        self.set_command(f"set server {backend}/{server} weight {int(weight)}")

    def set_state(self, backend: str, server: str, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}")
        self.set_command(f"set server {backend}/{server} state {state}")
