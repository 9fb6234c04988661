"""The TUI's only door to the core: calls run in worker threads with a deadline, so a slow
or dead backend never freezes the screen."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from console.errors import BackendError
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
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rollbook-backend")
        self.timeout = timeout

    def workspace(self) -> Workspace:
        with self._lock:
            if self._ws is None:
                self._ws = self._open()
            return self._ws

    async def run(
        self, fn: Callable[..., T], *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> T:
        """Run ``fn(workspace, *args, **kwargs)`` off the event loop."""
        loop = asyncio.get_running_loop()

        def job() -> T:
            return fn(self.workspace(), *args, **kwargs)

        fut = loop.run_in_executor(self._pool, functools.partial(job))
        try:
            return await asyncio.wait_for(fut, timeout or self.timeout)
        except TimeoutError:
            raise BackendError(
                f"no answer within {timeout or self.timeout:g}s",
                hint="the backend is slow or unreachable; the last good data stays on screen",
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            if self._ws is not None:
                self._ws.close()
                self._ws = None
