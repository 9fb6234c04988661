"""Closed-form time dynamics: traffic shares with a first-order lag, fault severity ramps.

Everything here is a pure function of a log of changes and the query times, so a value at a
tick never depends on when (or in how many steps) the simulation reached it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Time constant (simulated seconds) of traffic draining from one route to another: after a
#: rollback ~63% of the effect is gone in 2 minutes, >99% in 10.
LAG_TAU_S = 120.0


def lagged_levels(
    changes: Sequence[tuple[float, dict[str, float]]], times: np.ndarray, tau: float = LAG_TAU_S
) -> dict[str, np.ndarray]:
    """Each key's level through a first-order lag of a piecewise-constant input.

    ``changes`` are (epoch seconds, {key: level}) sorted by time; a key missing from an entry
    is at 0 from then on. Before the first change every key sits at the first entry's level
    (steady state). Returns key -> array aligned with ``times``."""
    times = np.asarray(times, dtype=float)
    keys = sorted({k for _, levels in changes for k in levels})
    if not changes:
        return {}
    at = np.array([c[0] for c in changes], dtype=float)
    target = np.array([[c[1].get(k, 0.0) for k in keys] for c in changes], dtype=float)
    out = np.empty((len(times), len(keys)))
    state = target[0].copy()  # level at the start of segment i (just before switching)
    seg = np.searchsorted(at, times, side="right") - 1  # segment each time falls in
    out[seg < 0] = target[0]
    for i in range(len(changes)):
        if i > 0:
            prev = target[i - 1]
            state = prev + (state - prev) * np.exp(-(at[i] - at[i - 1]) / tau)
        mask = seg == i
        if mask.any():
            dt = (times[mask] - at[i])[:, None]
            out[mask] = target[i] + (state - target[i]) * np.exp(-dt / tau)
    return {k: out[:, j] for j, k in enumerate(keys)}


@dataclass(frozen=True)
class Episode:
    """One occurrence of a fault: from ``onset`` until ``cleared`` (epoch seconds)."""

    scenario: str
    onset: float
    cleared: float | None = None

    def active(self, times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        on = t >= self.onset
        return on if self.cleared is None else on & (t < self.cleared)

    def severity(
        self, times: np.ndarray, ramp_s: float, power: float = 1.0, tau: float = LAG_TAU_S
    ) -> np.ndarray:
        """0 before onset, ramping to 1 over ``ramp_s`` (shape ``x**power``); after the fault
        is cleared it decays with the same lag as traffic does."""
        t = np.asarray(times, dtype=float)
        x = np.clip((t - self.onset) / max(ramp_s, 1e-9), 0.0, 1.0) ** power
        x = np.where(t >= self.onset, x, 0.0)
        if self.cleared is not None:
            at_clear = min(max((self.cleared - self.onset) / max(ramp_s, 1e-9), 0.0), 1.0)
            decay = (at_clear**power) * np.exp(-np.maximum(t - self.cleared, 0.0) / tau)
            x = np.where(t >= self.cleared, decay, x)
        return x
