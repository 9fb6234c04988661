"""The simulator's normal CDF (``math.erfc`` instead of SciPy) and what it feeds: the latency
quantiles of a mix of routes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr as scipy_ndtr

from plugins.embedded.simulator import mixture_quantile, ndtr


def test_ndtr_agrees_with_scipy_to_the_last_bits():
    rng = np.random.default_rng(3)
    x = np.concatenate([np.linspace(-40, 40, 80_001), rng.normal(0, 4, 50_000)])
    ours = ndtr(x)
    assert ours.dtype == np.float64 and ours.shape == x.shape
    assert np.abs(ours - scipy_ndtr(x)).max() <= 3e-16


def test_ndtr_edges_and_known_values():
    got = ndtr(np.array([-np.inf, np.inf, np.nan, 0.0, 1.0, -1.959963984540054]))
    assert got[0] == 0.0 and got[1] == 1.0 and math.isnan(got[2])
    assert got[3] == 0.5
    assert got[4] == pytest.approx(0.8413447460685429, rel=1e-15)
    assert got[5] == pytest.approx(0.025, rel=1e-14)
    # works on the (routes × ticks) arrays the bisection passes
    assert ndtr(np.zeros((2, 3))).shape == (2, 3)


def test_mixture_quantile_is_the_quantile_of_the_mix():
    # two log-normal routes: 75% at p50 30 ms / p99 35 ms, 25% at p50 90 / p99 120
    p50 = np.array([[30.0], [90.0]])
    p99 = np.array([[35.0], [120.0]])
    w = np.array([[0.75], [0.25]])
    for q in (0.5, 0.95, 0.99):
        x = mixture_quantile(q, p50, p99, w)[0]
        sig = np.log(p99 / p50)[:, 0] / 2.3263478740408408
        cdf = sum(
            wi * scipy_ndtr((math.log(x) - math.log(m)) / s)
            for wi, m, s in zip(w[:, 0], p50[:, 0], sig, strict=True)
        )
        assert cdf == pytest.approx(q, abs=1e-9)
