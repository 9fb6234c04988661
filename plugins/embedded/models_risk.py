"""Risk models: credit-score and fraud (real time)."""

from __future__ import annotations

from console.backends.types import ModelInfo
from plugins.embedded.spec import DAY, ModelSpec, VersionSpec, lineage, promoted

CREDIT_FEATURES = (
    "income",
    "debt_to_income",
    "credit_utilization",
    "num_open_accounts",
    "delinquencies_2y",
    "employment_years",
)


def credit() -> ModelSpec:
    imp = {
        "income": 0.31,
        "debt_to_income": 0.24,
        "credit_utilization": 0.19,
        "delinquencies_2y": 0.13,
        "num_open_accounts": 0.07,
        "employment_years": 0.06,
    }
    pk = {"lightgbm": "4.3.0", "scikit-learn": "1.4.2", "pandas": "2.2.2"}
    base = ("bureau.tradelines", "applications.form")
    versions = (
        VersionSpec(
            "v4",
            "Archived",
            90 * DAY,
            promoted(90 * DAY, 88 * DAY, "sam.o", archived=9 * DAY, by="v5"),
            lineage(
                "credit-score",
                "v4",
                data="applications 2022-2024 with bureau income",
                sources=(*base, "bureau.income_v1"),
                features="credit-features/2.3",
                importance=imp,
                params={"num_leaves": 63, "n_estimators": 800, "learning_rate": 0.03},
                python="3.11.9",
                packages=pk,
                metrics={"auc": 0.781, "ks": 0.43, "mean_score": 645.2},
            ),
        ),
        VersionSpec(
            "v5",
            "Production",
            10 * DAY,
            promoted(10 * DAY, 9 * DAY, "sam.o"),
            lineage(
                "credit-score",
                "v5",
                data="applications 2022-2024 with partner income feed",
                sources=(*base, "partner-x.income_feed_v2"),
                features="credit-features/2.4",
                importance=imp,
                params={"num_leaves": 63, "n_estimators": 800, "learning_rate": 0.03},
                python="3.11.9",
                packages=pk,
                metrics={"auc": 0.789, "ks": 0.44, "mean_score": 644.6},
            ),
        ),
    )
    info = ModelInfo(
        "credit-score",
        "Credit score (300-850) for loan applications",
        "realtime",
        "risk-ml",
        "prediction_mean",
        CREDIT_FEATURES,
    )
    return ModelSpec(info, versions, "v5", (), raw_columns=("income_source",))


FRAUD_FEATURES = (
    "amount",
    "merchant_category",
    "device_risk_score",
    "txn_velocity_1h",
    "account_age_days",
    "ip_distance_km",
)


def fraud() -> ModelSpec:
    imp = {
        "device_risk_score": 0.28,
        "txn_velocity_1h": 0.22,
        "amount": 0.18,
        "ip_distance_km": 0.14,
        "account_age_days": 0.11,
        "merchant_category": 0.07,
    }
    src = ("payments.transactions", "devices.fingerprints", "chargebacks.labels")
    pk = {"xgboost": "2.0.3", "onnxruntime": "1.17.1", "numpy": "1.26.4"}
    p = {"n_estimators": 900, "max_depth": 8, "scale_pos_weight": 40}
    versions = (
        VersionSpec(
            "v20",
            "Archived",
            40 * DAY,
            promoted(40 * DAY, 38 * DAY, "ana.p", archived=11 * DAY, by="v21"),
            lineage(
                "fraud",
                "v20",
                data="transactions 180d to 2024-08-05, chargebacks to 2024-08-20",
                sources=src,
                features="fraud-features/7.1",
                importance=imp,
                params=p,
                python="3.11.9",
                packages=pk,
                metrics={"auc": 0.962, "recall_at_1pct_fpr": 0.71, "precision": 0.58},
            ),
        ),
        VersionSpec(
            "v21",
            "Production",
            12 * DAY,
            promoted(12 * DAY, 11 * DAY, "ana.p"),
            lineage(
                "fraud",
                "v21",
                data="transactions 180d to 2024-09-02, chargebacks to 2024-09-16",
                sources=src,
                features="fraud-features/7.2",
                importance=imp,
                params=p,
                python="3.11.9",
                packages=pk,
                metrics={"auc": 0.965, "recall_at_1pct_fpr": 0.72, "precision": 0.59},
            ),
        ),
        VersionSpec(
            "v22",
            "Canary",
            1 * DAY,
            (
                ("None", "Staging", 1 * DAY, "ci-bot", "registered by training pipeline"),
                ("Staging", "Canary", 0.5 * DAY, "ana.p", "validation gates passed; canary at 0%"),
            ),
            lineage(
                "fraud",
                "v22",
                data="transactions 180d to 2024-09-20, chargebacks to 2024-10-01",
                sources=(*src, "graph.merchant_links"),
                features="fraud-features/8.0",
                importance={**imp, "device_risk_score": 0.25, "txn_velocity_1h": 0.25},
                params={**p, "n_estimators": 2400, "max_depth": 10},
                python="3.11.9",
                packages=pk,
                metrics={"auc": 0.971, "recall_at_1pct_fpr": 0.75, "precision": 0.61},
            ),
        ),
    )
    info = ModelInfo(
        "fraud",
        "Card-payment fraud scoring, ~5,000,000 requests/hour",
        "realtime",
        "payments-risk",
        "latency_p99_ms",
        FRAUD_FEATURES,
    )
    return ModelSpec(
        info,
        versions,
        "v21",
        (),
        segments=("channel", "user_tenure"),
        categorical=("merchant_category", "channel", "user_tenure"),
        extra_signals=("fraud_loss_rate", "false_positive_rate", "false_positive_rate:mobile_new"),
        samples_per_minute=20,
    )
