"""Customer-facing models: churn (batch), recommendations and pricing (real time)."""

from __future__ import annotations

from console.backends.types import ModelInfo
from plugins.embedded.spec import DAY, HOUR, ModelSpec, VersionSpec, lineage, promoted

CHURN_FEATURES = (
    "avg_order_value_90d",
    "tenure_months",
    "orders_90d",
    "days_since_last_order",
    "support_tickets_90d",
    "plan_type",
    "region",
)
_CHURN_IMP = {
    "avg_order_value_90d": 0.27,
    "days_since_last_order": 0.22,
    "tenure_months": 0.17,
    "orders_90d": 0.14,
    "support_tickets_90d": 0.11,
    "plan_type": 0.06,
    "region": 0.03,
}
_CHURN_SRC = ("warehouse.orders", "warehouse.customers", "zendesk.tickets")


def churn() -> ModelSpec:
    pk = {"xgboost": "1.7.6", "pandas": "2.0.3", "scikit-learn": "1.3.0"}
    versions = (
        VersionSpec(
            "v11",
            "Archived",
            120 * DAY,
            promoted(120 * DAY, 118 * DAY, "maria.k", canary=False, archived=58 * DAY, by="v12"),
            lineage(
                "churn",
                "v11",
                data="orders+customers snapshot 2024-Q1, 1.9M customers",
                sources=_CHURN_SRC,
                features="churn-features/3.0",
                importance=_CHURN_IMP,
                params={"n_estimators": 400, "max_depth": 6, "learning_rate": 0.05},
                python="3.10.12",
                packages=pk,
                metrics={"auc": 0.838, "precision_at_10pct": 0.60, "positive_rate": 0.139},
            ),
        ),
        VersionSpec(
            "v12",
            "Archived",
            60 * DAY,
            promoted(60 * DAY, 58 * DAY, "maria.k", canary=False, archived=12 * DAY, by="v13"),
            lineage(
                "churn",
                "v12",
                data="orders+customers snapshot 2024-Q2, 2.0M customers",
                sources=_CHURN_SRC,
                features="churn-features/3.1",
                importance=_CHURN_IMP,
                params={"n_estimators": 500, "max_depth": 6, "learning_rate": 0.05},
                python="3.10.12",
                packages={**pk, "xgboost": "2.0.3"},
                metrics={"auc": 0.846, "precision_at_10pct": 0.62, "positive_rate": 0.141},
            ),
        ),
        VersionSpec(
            "v13",
            "Production",
            14 * DAY,
            promoted(14 * DAY, 12 * DAY, "dev.r", canary=False),
            lineage(
                "churn",
                "v13",
                data="orders+customers snapshot 2024-Q3, 2.1M customers "
                "(raw column total_order_amount)",
                sources=_CHURN_SRC,
                features="churn-features/3.2",
                importance=_CHURN_IMP,
                params={"n_estimators": 600, "max_depth": 7, "learning_rate": 0.04},
                python="3.11.9",
                packages={**pk, "xgboost": "2.0.3", "pandas": "2.2.2"},
                metrics={"auc": 0.853, "precision_at_10pct": 0.64, "positive_rate": 0.140},
            ),
        ),
    )
    info = ModelInfo(
        "churn",
        "Nightly churn scoring of 2,100,000 customers",
        "batch",
        "growth-ml",
        "positive_rate",
        CHURN_FEATURES,
    )
    return ModelSpec(
        info,
        versions,
        "v13",
        (),
        raw_columns=("total_order_amount", "order_count_90d"),
        segments=("plan_type", "region"),
        categorical=("plan_type", "region"),
    )


REC_FEATURES = (
    "items_viewed_24h",
    "session_length_s",
    "days_since_signup",
    "category_affinity",
    "device",
)


def recommendations() -> ModelSpec:
    imp = {
        "items_viewed_24h": 0.34,
        "category_affinity": 0.29,
        "session_length_s": 0.18,
        "days_since_signup": 0.12,
        "device": 0.07,
    }
    src = ("events.clickstream", "catalog.items", "warehouse.orders")
    pk = {"torch": "2.2.2", "faiss-cpu": "1.8.0", "numpy": "1.26.4"}
    versions = (
        VersionSpec(
            "v7",
            "Archived",
            45 * DAY,
            promoted(45 * DAY, 43 * DAY, "li.w", archived=5 * DAY, by="v8"),
            lineage(
                "recommendations",
                "v7",
                data="clickstream 90d to 2024-08-01",
                sources=src,
                features="reco-features/5.4",
                importance=imp,
                params={
                    "embedding_dim": 128,
                    "top_k": 20,
                    "diversity_penalty": 0.3,
                    "temperature": 0.7,
                },
                python="3.11.9",
                packages=pk,
                metrics={"ndcg_at_20": 0.412, "recall_at_20": 0.338, "catalog_coverage": 0.71},
            ),
        ),
        VersionSpec(
            "v8",
            "Production",
            6 * DAY,
            promoted(6 * DAY, 5 * DAY, "li.w"),
            lineage(
                "recommendations",
                "v8",
                data="clickstream 90d to 2024-09-10",
                sources=src,
                features="reco-features/5.4",
                importance=imp,
                params={
                    "embedding_dim": 128,
                    "top_k": 20,
                    "diversity_penalty": 0.0,
                    "temperature": 0.0,
                },
                python="3.11.9",
                packages=pk,
                metrics={"ndcg_at_20": 0.419, "recall_at_20": 0.341, "catalog_coverage": 0.69},
            ),
        ),
    )
    info = ModelInfo(
        "recommendations",
        "Home-page item recommendations",
        "realtime",
        "discovery-ml",
        "output_diversity",
        REC_FEATURES,
    )
    return ModelSpec(
        info,
        versions,
        "v8",
        (),
        segments=("user_segment",),
        categorical=("category_affinity", "device", "user_segment"),
        extra_signals=("revenue_per_hour",),
    )


PRICING_FEATURES = (
    "base_cost",
    "competitor_price",
    "demand_index",
    "inventory_level",
    "category",
    "day_of_week",
)


def pricing() -> ModelSpec:
    imp = {
        "competitor_price": 0.36,
        "base_cost": 0.25,
        "demand_index": 0.2,
        "inventory_level": 0.1,
        "category": 0.06,
        "day_of_week": 0.03,
    }
    src = ("catalog.products", "scraper.competitor_prices", "warehouse.inventory")
    pk = {"scikit-learn": "1.4.2", "numpy": "1.26.4", "pandas": "2.2.2"}
    hist = 3 * HOUR
    versions = (
        VersionSpec(
            "v2",
            "Archived",
            30 * DAY,
            promoted(30 * DAY, 28 * DAY, "omar.t", archived=hist, by="v3"),
            lineage(
                "pricing",
                "v2",
                data="orders+prices 365d to 2024-08-25",
                sources=src,
                features="pricing-features/1.8",
                importance=imp,
                params={"model": "gbr", "n_estimators": 300, "min_margin": 0.05},
                python="3.11.9",
                packages=pk,
                metrics={"mape": 0.061, "revenue_uplift": 0.034},
                code="v2-a",
            ),
        ),
        VersionSpec(
            "v3",
            "Production",
            2 * DAY,
            (
                ("None", "Staging", 2 * DAY, "ci-bot", "registered by training pipeline"),
                ("Staging", "Canary", 1 * DAY, "omar.t", "validation gates passed"),
                ("Canary", "Production", hist, "omar.t", "promotion after review"),
            ),
            lineage(
                "pricing",
                "v3",
                data="orders+prices 365d to 2024-09-24",
                sources=src,
                features="pricing-features/1.8",
                importance=imp,
                params={"model": "gbr", "n_estimators": 300, "min_margin": 0.05},
                python="3.11.9",
                packages={**pk, "numpy": "2.0.1"},
                metrics={"mape": 0.058, "revenue_uplift": 0.037},
                code="v3-currency-refactor",
            ),
        ),
    )
    info = ModelInfo(
        "pricing",
        "Dynamic product pricing",
        "realtime",
        "pricing-ml",
        "error_rate",
        PRICING_FEATURES,
    )
    return ModelSpec(
        info,
        versions,
        "v3",
        ((hist, {"v3": 100.0}),),
        categorical=("category", "day_of_week"),
        extra_signals=("revenue_per_hour",),
    )
