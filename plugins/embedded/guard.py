"""Injected backend failures (``EmbeddedWorld.break_backend``) applied to role methods."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def guarded(role: str) -> Callable:
    """Consume one injected failure of ``role.<method name>`` before running the method."""

    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.world.trip(role, fn.__name__)
            return fn(self, *args, **kwargs)

        return wrapper

    return deco
