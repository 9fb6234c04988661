"""Fixtures for the diagnostics tests, including the reference incident's data.

The reference incident (DOMAIN.md): an upstream team renamed ``total_order_amount`` to
``order_total_amount``; the feature pipeline kept running and ``avg_order_value_90d`` came
out 94.2% null. The current frame reproduces exactly that, with every other feature stable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

INCIDENT_ROWS = 5_000
INCIDENT_NULL_RATE = 0.942


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    orders = rng.poisson(6, n) + 1
    total = np.round(rng.lognormal(5.0, 0.6, n), 2)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tenure_days": rng.integers(30, 2_000, n),
            "orders_90d": orders,
            "total_order_amount": total,
            "avg_order_value_90d": np.round(total / orders, 2),
            "support_tickets_30d": rng.poisson(0.4, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
            "region": rng.choice(["emea", "amer", "apac"], n),
        }
    )


def incident_frames(n: int = INCIDENT_ROWS, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, current) frames of the churn incident."""
    reference = _customers(np.random.default_rng(seed), n)
    current = _customers(np.random.default_rng(seed + 1), n)
    current = current.rename(columns={"total_order_amount": "order_total_amount"})
    nulls = np.random.default_rng(seed + 2).permutation(n)[: round(INCIDENT_NULL_RATE * n)]
    current.loc[nulls, "avg_order_value_90d"] = np.nan
    # keep the column order the upstream producer uses after its change
    order = [c for c in current.columns if c != "order_total_amount"]
    order.insert(3, "order_total_amount")
    return reference, current[order]


@pytest.fixture
def incident() -> tuple[pd.DataFrame, pd.DataFrame]:
    return incident_frames()


@pytest.fixture
def incident_files(tmp_path, incident):
    reference, current = incident
    ref_path = tmp_path / "reference.parquet"
    cur_path = tmp_path / "current.csv"
    reference.to_parquet(ref_path)
    current.to_csv(cur_path, index=False)
    return ref_path, cur_path
