"""The TUI's only door to the core: calls run in worker threads with a deadline, so a slow
or dead backend never freezes the screen.

Two rules keep a hung backend from taking the console with it:
- **A refresh never restarts a call in flight.** Screens refresh on a timer with exclusive
  workers, which cancel the previous run; cancelling the *await* must not cancel (or
  duplicate) the backend call. ``run(..., key=…)`` shares one in-flight call per key: a later
  refresh waits on the same call, and the deadline counts from when that call *started*, so
  DEGRADED appears within the deadline however often the screen refreshes.
- **Actions never queue behind refreshes.** Refreshes and actions (R/K/U, runbook steps) run
  in separate thread pools: a refresh stuck on a hung metrics backend cannot delay a plan.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from console.errors import BackendError

if TYPE_CHECKING:  # the workspace's imports (plugins, store) load in a worker, after paint
    from console.workspace import Workspace

T = TypeVar("T")


class Bridge:
    def __init__(
        self,
        open_workspace: Callable[[], Workspace],
        *,
        timeout: float = 15.0,
        read_only: bool | None = None,
    ) -> None:
        self._open = open_workspace
        self._ws: Workspace | None = None
        self._lock = threading.Lock()
        self._refresh_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rollbook-read")
        self._action_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="rollbook-act")
        self._in_flight: dict[str, tuple[Future[Any], float]] = {}
        self._delivered: set[str] = set()  # keys whose latest result someone already got
        self.timeout = timeout

    def workspace(self) -> Workspace:
        with self._lock:
            if self._ws is None:
                self._ws = self._open()
            return self._ws

    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        timeout: float | None = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> T:
        """Run ``fn(workspace, *args, **kwargs)`` off the event loop, at most ``timeout``
        seconds (default ``self.timeout``) after the call started.

        With ``key`` (a refresh), a call for the same key still in flight is joined instead
        of started again. Without it (an action, a one-off read), the call runs in the action
        pool, never behind a refresh."""
        limit = timeout or self.timeout
        if key is not None:
            fut, started = self._shared(key, fn, args, kwargs)
        else:
            fut, started = self._action_pool.submit(self._job, fn, args, kwargs), time.monotonic()
        if fut.done():  # a late answer nobody has seen yet: show it now
            self._seen(key)
            return fut.result()
        left = max(0.0, limit - (time.monotonic() - started))
        try:
            # shield: a cancelled refresh worker must not cancel the call others wait on
            result = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)), left)
        except TimeoutError:
            since = time.monotonic() - started
            raise BackendError(
                f"no answer within {limit:g}s (waiting {since:.0f}s)",
                hint="the backend is slow or unreachable; the last good data stays on screen",
            ) from None
        except asyncio.CancelledError:
            raise  # the screen stopped waiting; the call's answer is still to be seen
        except BaseException:
            self._seen(key)  # the call's own error was shown: the next refresh starts anew
            raise
        self._seen(key)
        return result

    def _seen(self, key: str | None) -> None:
        if key is not None:
            with self._lock:
                self._delivered.add(key)

    def _job(self, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        return fn(self.workspace(), *args, **kwargs)

    def _shared(
        self, key: str, fn: Callable[..., Any], args: tuple, kwargs: dict
    ) -> tuple[Future[Any], float]:
        with self._lock:
            current = self._in_flight.get(key)
            if current is not None and (not current[0].done() or key not in self._delivered):
                # still running — or finished after its deadline and not seen yet: the late
                # answer is newer than what is on screen, so the next refresh shows it
                return current
            self._delivered.discard(key)
            fut = self._refresh_pool.submit(functools.partial(self._job, fn, args, kwargs))
            entry = (fut, time.monotonic())
            self._in_flight[key] = entry
            return entry

    def busy(self, key: str) -> float | None:
        """Seconds the call for ``key`` has been in flight, or None."""
        with self._lock:
            current = self._in_flight.get(key)
        if current is None or current[0].done():
            return None
        return time.monotonic() - current[1]

    def close(self) -> None:
        self._refresh_pool.shutdown(wait=False, cancel_futures=True)
        self._action_pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            if self._ws is not None:
                self._ws.close()
                self._ws = None
