"""Clocks. Everything that needs "now" takes a Clock so tests and drills control time."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_ts(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive values are taken as UTC."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class ManualClock:
    """A clock that moves only when told to (tests, --auto drills)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **kw: float) -> datetime:
        self._now += timedelta(seconds=seconds, **kw)
        return self._now

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("a clock never runs backwards")
        self._now = when


# A simulated day per wall second. Faster is no use to a demo (the world regenerates at most
# the last 24 h after a gap) and soon runs simulated time past datetime's year 9999.
MAX_SPEED = 86_400.0


def speed_problem(speed: object) -> str | None:
    """Why ``speed`` (simulated seconds per wall second) cannot drive a ``ScaledClock``, or
    ``None`` when it can: it must be a finite number in (0, ``MAX_SPEED``]. NaN, ±inf, zero,
    negatives, booleans and non-numbers all have a problem."""
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        return f"must be a number, got {speed!r}"
    if not math.isfinite(speed) or not 0 < speed <= MAX_SPEED:
        return f"must be a finite number above 0 and at most {MAX_SPEED:g}, got {speed!r}"
    return None


class ScaledClock:
    """Simulated time that runs ``speed`` times faster than the wall clock from an anchor.

    ``sim = anchor_sim + (wall - anchor_wall) * speed``. Used by the embedded demo world so a
    demo shows minutes of recovery in seconds.
    """

    def __init__(self, anchor_sim: datetime, anchor_wall: float, speed: float = 1.0) -> None:
        self.anchor_sim = anchor_sim
        self.anchor_wall = anchor_wall
        self.speed = speed

    def now(self) -> datetime:
        return self.anchor_sim + timedelta(seconds=(time.time() - self.anchor_wall) * self.speed)
