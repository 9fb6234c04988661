"""Counter-based noise: every value is a pure function of (seed, key parts, counter).

A shared random stream would make a series depend on how time was advanced (one call for two
hours vs. two calls of one hour draw numbers in a different order). Hashing the counter — the
tick's epoch minute, or minute × 64 + row — gives the same number whatever the chunking.
"""

from __future__ import annotations

import hashlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def key_of(seed: int, *parts: object) -> int:
    """A 64-bit key for one stream, e.g. ``key_of(7, "churn", "v13", "error_rate")``."""
    text = "|".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def uniform(key: int, counters: np.ndarray) -> np.ndarray:
    """Uniform floats in (0, 1), one per counter (any integer array)."""
    c = np.asarray(counters, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = _splitmix(c * _GOLDEN + np.uint64(key))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 9007199254740992.0


def normal(key: int, counters: np.ndarray) -> np.ndarray:
    """Standard normal floats (Box–Muller over two keyed uniform streams)."""
    u1 = uniform(key, counters)
    u2 = uniform(key ^ 0x5DEECE66D, counters)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def choice(key: int, counters: np.ndarray, options: list, weights: list[float]) -> np.ndarray:
    """Pick one of ``options`` per counter with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=float)
    edges = np.cumsum(w / w.sum())
    idx = np.searchsorted(edges, uniform(key, counters), side="right")
    return np.asarray(options, dtype=object)[np.minimum(idx, len(options) - 1)]
