"""Backend calls with a deadline. A call past its deadline raises BackendError; the caller
then reads the state back, because a timed-out write may still have happened."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from console.errors import BackendError, RollbookError

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 10.0


def call(
    fn: Callable[..., T],
    *args: Any,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    what: str = "",
    wrap_errors: bool = True,
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)`` in a daemon thread, waiting at most ``timeout`` seconds (None:
    no deadline). Errors other than RollbookError become BackendError unless
    ``wrap_errors=False``, which re-raises them unchanged."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True, name=f"rollbook-call-{what}")
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise BackendError(
            f"{what or getattr(fn, '__name__', 'backend call')} timed out after "
            f"{timeout:g}s (it did not finish in time)",
            hint="the backend may still apply it: read back the state before retrying",
        )
    if "error" in box:
        err = box["error"]
        if isinstance(err, RollbookError) or not wrap_errors:
            raise err
        raise BackendError(
            f"{what or getattr(fn, '__name__', 'backend call')} failed: {type(err).__name__}: {err}"
        ) from err
    return box["value"]
