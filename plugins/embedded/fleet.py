"""The simulated fleet: five models, their versions, lineage and how they got where they are
(see ``spec`` for the records, ``models_customer`` and ``models_risk`` for the models)."""

from __future__ import annotations

from plugins.embedded.models_customer import CHURN_FEATURES, churn, pricing, recommendations
from plugins.embedded.models_risk import credit, fraud
from plugins.embedded.spec import DAY, HOUR, ModelSpec

__all__ = ["CHURN_FEATURES", "DAY", "FLEET", "HOUR", "ModelSpec", "initial_routes"]

FLEET: dict[str, ModelSpec] = {
    m.name: m for m in (churn(), recommendations(), credit(), fraud(), pricing())
}


def initial_routes(spec: ModelSpec) -> dict[str, float]:
    """Routes at the start of the seeded day (before any in-day route change)."""
    if spec.name == "pricing":
        return {"v2": 100.0}
    return {spec.production: 100.0}
