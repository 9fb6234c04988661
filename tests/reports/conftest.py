"""A realistic athena-null-feature drill incident, built directly in an IncidentStore with
fixed times (the drill engine will later produce the same events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console import lifecycle
from console.store import IncidentStore

DAY = datetime(2026, 11, 22, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # the fixed clock reports are generated at


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY + timedelta(hours=hh, minutes=mm, seconds=ss)


ALERT = {
    "name": "FeatureNullRate",
    "model": "churn",
    "fingerprint": "churn-null-aov90",
    "starts_at": at(6, 47).isoformat(),
    "severity": "critical",
    "state": "firing",
    "labels": {"feature": "avg_order_value_90d"},
    "annotations": {"summary": "feature avg_order_value_90d null rate 94.2% (threshold 2.0%)"},
    "value": 0.942,
}
DRIFT_EVIDENCE = {
    "features": [
        {
            "name": "avg_order_value_90d",
            "psi": 4.812,
            "ks_statistic": 0.94,
            "null_rate_reference": 0.003,
            "null_rate_current": 0.942,
            "severity": "critical",
        },
        {
            "name": "tenure_days",
            "psi": 0.021,
            "ks_statistic": 0.03,
            "null_rate_reference": 0.0,
            "null_rate_current": 0.0,
            "severity": "stable",
        },
    ],
    "renames": [
        {
            "from": "total_order_amount",
            "to": "order_total_amount",
            "confidence": 0.93,
            "reason": "expected column missing; new column with similar name and values",
        }
    ],
}
LINEAGE_EVIDENCE = {
    "groups": {
        "code": [],
        "data": [
            {
                "group": "data",
                "field": "data_snapshot_hash",
                "before": "9f1c2e",
                "after": "a77b03",
                "material": True,
                "reason": "data snapshot changed: 9f1c2e → a77b03",
            },
            {
                "group": "data",
                "field": "data_description",
                "before": "orders with total_order_amount",
                "after": "orders with order_total_amount",
                "material": False,
                "reason": "",
            },
        ],
        "features": [],
        "params": [],
        "environment": [],
        "artifact": [],
    },
    "moved": ["data"],
    "from": "v41",
    "to": "v42",
}
WHYS = [
    "Why did churn scores jump from 14% to 62%? The model scored customers whose "
    "avg_order_value_90d was null.",
    "Why was it null? The feature pipeline read total_order_amount, which no longer exists.",
    "Why did the column disappear? The orders team renamed it to order_total_amount.",
    "Why did the pipeline not fail? Missing columns are filled with nulls by default.",
    "Why was the rename not caught upstream? There is no data contract between the two teams.",
]


def build_drill_incident(store: IncidentStore) -> str:
    """Write the drill incident and its whole timeline; return its id."""
    inc = store.create_incident(
        title="churn: feature avg_order_value_90d null rate 94.2%",
        model="churn",
        severity="SEV2",
        env="demo",
        actor="alerting",
        at=at(6, 47, 30),
        runbook="athena-null-feature",
        drill=True,
        alert_fingerprint="churn-null-aov90",
        onset_at=at(6, 30),
        detected_at=at(6, 47),
        data={
            "scenario": "athena-null-feature",
            "alert": ALERT,
            "participants": ["alice", "bob"],
            "evidence": [
                {
                    "source": "alert",
                    "summary": ALERT["annotations"]["summary"],
                    "feature": "avg_order_value_90d",
                    "value": 0.942,
                }
            ],
            # what the simulated world injected: its answer key, never shown in a report
            "facts": {
                "bad_version": "v42",
                "good_version": "v41",
                "scenario": "athena-null-feature",
                "kind": "data",
                "signals": ["null_rate:avg_order_value_90d", "positive_rate"],
            },
            "impact": {
                "requests_affected": 2_100_000,
                "users_affected": 2_100_000,
                "slo_breached": True,
                "revenue_per_hour": 12_000.0,
            },
            "versions": {"production": "v42", "last known good": "v41"},
        },
    )
    iid = inc.id
    ap = store.append
    lifecycle.enter_phase(store, iid, "triage", actor="engine", at=at(6, 48))
    lifecycle.mark(
        store, iid, "acknowledged", actor="alice", at=at(6, 49), message="alice acknowledged"
    )
    ap(
        iid,
        "step.started",
        "check null rates",
        actor="engine",
        at=at(6, 49, 30),
        payload={
            "step": "null-rates",
            "phase": "triage",
            "kind": "check",
            "state": "running",
            "check": "drift",
        },
    )
    # as the engine writes a finished step: "{title}: {state} — {summary}"
    nulls = (
        "avg_order_value_90d null rate 94.2% (threshold 2.0%); "
        "rename suggested: total_order_amount → order_total_amount"
    )
    ap(
        iid,
        "step.finished",
        f"Are any features null?: failed — {nulls}",
        actor="engine",
        at=at(6, 50, 10),
        payload={
            "step": "null-rates",
            "phase": "triage",
            "kind": "check",
            "state": "failed",
            "check": "drift",
            "passed": False,
            "summary": nulls,
            "evidence": DRIFT_EVIDENCE,
        },
    )
    moved = "lineage v41 → v42: data moved; code and model unchanged"
    ap(
        iid,
        "step.finished",
        f"Compare the versions' lineage: passed — {moved}",
        actor="engine",
        at=at(6, 51),
        payload={
            "step": "lineage",
            "phase": "triage",
            "kind": "check",
            "state": "passed",
            "check": "lineage_diff",
            "passed": True,
            "summary": moved,
            "evidence": LINEAGE_EVIDENCE,
        },
    )
    lifecycle.enter_phase(store, iid, "mitigate", actor="alice", at=at(6, 51, 30))
    ap(
        iid,
        "note",
        "Pausing the nightly batch; yesterday's scores stay live.",
        actor="alice",
        at=at(6, 52),
    )
    common = {"action_id": "act-1", "action": "pause_batch", "model": "churn"}
    ap(
        iid,
        "action.requested",
        "pause batch scoring for churn",
        actor="alice",
        at=at(6, 52, 30),
        payload={**common, "from": "running", "to": "paused"},
    )
    ap(iid, "action.confirmed", "confirmed by bob", actor="bob", at=at(6, 53), payload={**common})
    ap(
        iid,
        "action.verified",
        "batch job paused; no new scores written",
        actor="engine",
        at=at(6, 53, 20),
        payload={**common, "before": "running", "after": "paused"},
    )
    ap(
        iid,
        "action.finished",
        "pause_batch finished in 50 s",
        actor="engine",
        at=at(6, 53, 20),
        payload={**common, "duration_ms": 50_000},
    )
    # as the mitigation use case records it: read back, so the mitigation is applied; the
    # impact is seen to stop 40 s later
    lifecycle.mitigation_applied(
        store,
        iid,
        actor="alice",
        at=at(6, 53, 20),
        action="pause_batch",
        summary="pause batch scoring for churn",
        action_id="act-1",
    )
    lifecycle.mark(store, iid, "mitigated", actor="alice", at=at(6, 54), message="impact stopped")
    lifecycle.enter_phase(store, iid, "diagnose", actor="alice", at=at(6, 55))
    ap(
        iid,
        "note",
        "The orders team renamed total_order_amount to order_total_amount in "
        "the 06:30 schema migration.",
        actor="bob",
        at=at(7, 5),
        payload={"tag": "trigger"},
    )
    lifecycle.enter_phase(store, iid, "fix", actor="bob", at=at(7, 10))
    ap(
        iid,
        "note",
        "Mapped order_total_amount in the feature pipeline, re-ran the batch, "
        "positive rate back to 14.1%.",
        actor="bob",
        at=at(7, 30),
        payload={"tag": "resolution"},
    )
    lifecycle.mark(
        store, iid, "resolved", actor="bob", at=at(7, 31), message="scores back to normal"
    )
    ap(
        iid,
        "drill.scored",
        "drill passed",
        actor="engine",
        at=at(7, 32),
        payload={
            "passed": True,
            "measured": {
                "detect_min": 17.0,
                "acknowledge_min": 2.0,
                "mitigation_applied_min": 19 / 3,  # 06:47 → 06:53:20
                "mitigate_min": 7.0,
            },
            "targets": {
                "detect_min": 20.0,
                "acknowledge_min": 5.0,
                "mitigation_applied_min": 8.0,
                "mitigate_min": 15.0,
            },
            "recovered": True,
            "reasons": ["every measured time within its target"],
        },
    )
    lifecycle.enter_phase(store, iid, "review", actor="alice", at=at(7, 35))
    t = at(7, 40)
    for why in WHYS:
        ap(iid, "note", why, actor="alice", at=t, payload={"tag": "why"})
        t += timedelta(seconds=30)
    review = [
        (
            "root_cause",
            "An upstream column rename reached the feature pipeline with no schema "
            "check, and missing columns silently became nulls.",
        ),
        ("contributing", "No data contract between the orders team and the ML platform."),
        ("contributing", "The batch job has no circuit breaker on feature null rates."),
        ("went_well", "The null-rate alert fired 17 minutes after onset and named the feature."),
        ("went_well", "Pausing the batch kept yesterday's scores live within 7 minutes."),
        ("went_badly", "The alert does not say which upstream column moved."),
        ("lucky", "The retention campaign was not due to send until 10:00."),
        ("lesson", "A model that keeps answering can still be broken: watch its inputs."),
    ]
    for tag, text in review:
        ap(iid, "note", text, actor="alice", at=t, payload={"tag": tag})
        t += timedelta(seconds=30)
    items = [
        {
            "what": "Validate the orders schema before feature build",
            "owner": "bob",
            "due": "2026-12-06",
            "type": "prevent",
            "link": "https://tracker.example/ML-101",
        },
        {
            "what": "Pause the batch when any feature null rate exceeds 5%",
            "owner": "alice",
            "due": "2026-12-13",
            "type": "mitigate",
            "link": "https://tracker.example/ML-102",
        },
        {
            "what": "Alert on expected columns missing from upstream tables",
            "owner": "carol",
            "due": "2026-12-20",
            "type": "detect",
            "link": "",
        },
    ]
    for item in items:
        ap(iid, "action_item", item["what"], actor="alice", at=t, payload=item)
        t += timedelta(seconds=30)
    lifecycle.mark(
        store, iid, "reviewed", actor="alice", at=at(7, 50), message="post-mortem reviewed"
    )
    return iid


@pytest.fixture
def store(tmp_path):
    s = IncidentStore(tmp_path / "incidents.db")
    yield s
    s.close()


@pytest.fixture
def drill_incident(store):
    iid = build_drill_incident(store)
    return store.get(iid), store.events(iid)


def signal_series() -> dict[str, list[tuple[datetime, float]]]:
    """Key signals across the incident window, one point a minute."""
    null_rate, positive = [], []
    t = at(6, 20)
    while t <= at(7, 40):
        broken = at(6, 30) <= t < at(7, 30)
        null_rate.append((t, 0.942 if broken else 0.003))
        positive.append((t, 0.62 if at(6, 40) <= t < at(6, 54) else 0.14))
        t += timedelta(minutes=1)
    return {"null_rate:avg_order_value_90d": null_rate, "positive_rate": positive}
