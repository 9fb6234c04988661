"""Child processes for the chaos suite: the real CLI (``console.cli.main.main``, what
``python -m console`` runs) in a process of its own, started from a fork server that has
already imported Rollbook, so a child starts in milliseconds instead of the ~1 s an
interpreter start and its imports take on this machine — the difference between a kill suite
of minutes and one of hours. The child is a real, separate process: it has its own pid, its
own SQLite connections and file locks, and it can be sent any signal.

``ROLLBOOK_CHAOS_EXEC=1`` starts ``python -m console`` instead (slower; the same checks).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import Any

# What every child needs, imported once in the fork server (never a store or world
# connection: those are opened by each child after the fork).
PRELOAD = ["tests.chaos.warm", "tests.chaos.children"]

_context: Any = None
# multiprocessing reads a fork-server child's exit status from a pipe, once: a second
# reader (Process.start() polls every child it knows, from any thread) gets EOF and makes it
# 255. Starting, polling and reaping children therefore take turns.
_turns = threading.Lock()


def exec_mode() -> bool:
    return os.environ.get("ROLLBOOK_CHAOS_EXEC", "") not in ("", "0")


def context() -> Any:
    global _context
    if _context is None:
        # one BLAS thread in the server: a fork copies only the thread that forks
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _context = ctx
    return _context


def _redirect(out_path: str, err_path: str) -> None:
    for fd, path in ((1, out_path), (2, err_path)):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(f, fd)
        os.close(f)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115


def _exit(code: int) -> None:
    for f in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe must not change the exit code
            f.flush()
    os._exit(code)


def cli_main(argv: list[str], env: dict[str, str], out_path: str, err_path: str) -> None:
    """The child: ``rollbook ARGV`` exactly as the entry point runs it; an exception that
    escapes is printed as the interpreter prints it (a traceback) and exits 1, as it would."""
    os.environ.clear()
    os.environ.update(env)
    _redirect(out_path, err_path)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    code = 0
    try:
        from console.cli.main import main

        main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 128 + signal.SIGINT
    except BaseException:
        traceback.print_exc()
        code = 1
    _exit(code)


def py_main(target: str, args: tuple, env: dict[str, str], out_path: str, err_path: str) -> None:
    """The child: call ``module:function(*args)`` (a reader, a writer); exit 0 when it
    returns, 1 with the traceback on stderr when it raises."""
    os.environ.clear()
    os.environ.update(env)
    _redirect(out_path, err_path)
    code = 0
    try:
        import importlib

        module, name = target.split(":")
        getattr(importlib.import_module(module), name)(*args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    _exit(code)


@dataclass
class Child:
    """A running child: its pid, when it started (monotonic), where its output goes."""

    proc: Any  # multiprocessing.Process or subprocess.Popen
    started: float
    out_path: Path
    err_path: Path
    argv: tuple[str, ...] = ()
    #: a pidfd taken at start: a fork-server child is reaped by the server, not by us, and
    #: its pid may be reused (pid_max is 32768 here) — the pidfd always names our child
    pidfd: int | None = None

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def signal(self, sig: int) -> None:
        """Send ``sig`` to this child (nothing if it has ended)."""
        if isinstance(self.proc, subprocess.Popen):
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            return
        if self.pidfd is not None:
            with contextlib.suppress(ProcessLookupError):  # it ended first
                signal.pidfd_send_signal(self.pidfd, sig)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def alive(self) -> bool:
        if isinstance(self.proc, subprocess.Popen):
            return self.proc.poll() is None
        with _turns:
            return bool(self.proc.is_alive())

    def wait(self, timeout: float = 120.0) -> int | None:
        """The exit code (negative: killed by that signal); None if still running."""
        if isinstance(self.proc, subprocess.Popen):
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        if not mp_wait([self.proc.sentinel], timeout):
            return None
        with _turns:
            self.proc.join(0)
            code = self.proc.exitcode
        self.close()
        return code

    def kill_and_reap(self) -> None:
        if self.alive():
            self.signal(signal.SIGKILL)
            self.wait(30)
        self.close()

    @property
    def out(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")


def _outputs(workdir: Path, name: str) -> tuple[Path, Path]:
    """Where a child's stdout and stderr go, created empty (a child killed before it got
    to open them has printed nothing)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out, err = workdir / f"{name}.out", workdir / f"{name}.err"
    out.write_text("")
    err.write_text("")
    return out, err


def start_cli(argv: list[str], env: dict[str, str], workdir: Path, name: str = "cli") -> Child:
    """Start ``rollbook ARGV`` in a child process with ``env``; output in ``workdir``."""
    out, err = _outputs(workdir, name)
    t0 = time.monotonic()
    if exec_mode():
        with out.open("w") as fo, err.open("w") as fe:
            proc: Any = subprocess.Popen(
                [sys.executable, "-m", "console", *argv], env=env, stdout=fo, stderr=fe
            )
        return Child(proc, t0, out, err, tuple(argv))
    ctx = context()
    proc = ctx.Process(target=cli_main, args=(list(argv), dict(env), str(out), str(err)))
    return Child(proc, t0, out, err, tuple(argv), _start(proc))


def _start(proc: Any) -> int | None:
    with _turns:
        proc.start()
        try:
            return os.pidfd_open(proc.pid)
        except ProcessLookupError:  # already ended (and reaped by the server)
            return None


def start_py(
    target: str, args: tuple, env: dict[str, str], workdir: Path, name: str = "py"
) -> Child:
    out, err = _outputs(workdir, name)
    ctx = context()
    t0 = time.monotonic()
    proc = ctx.Process(target=py_main, args=(target, args, dict(env), str(out), str(err)))
    return Child(proc, t0, out, err, (), _start(proc))


def run_cli(
    argv: list[str], env: dict[str, str], workdir: Path, name: str = "cli", timeout: float = 180
) -> tuple[int | None, str, str]:
    """Run ``rollbook ARGV`` to its end: ``(exit code, stdout, stderr)``."""
    child = start_cli(argv, env, workdir, name)
    code = child.wait(timeout)
    if code is None:
        child.kill_and_reap()
    return code, child.out, child.err
