"""A long incident for tests and benchmarks: the drill incident's story (alert, checks, a
mitigation, the review) with a long middle in which the alert keeps flapping, a script re-runs
the recovery check, a bot posts status, people add the odd note and retry a rollback — the
way 100,000 events accumulate over a few days. Built with ``Store.append_many`` (one
transaction per part), so 100,000 events take seconds, not the minutes single appends
would (each commits to disk).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from console import lifecycle
from console.store import NewEvent, Store
from tests.reports.conftest import ALERT, DRIFT_EVIDENCE, LINEAGE_EVIDENCE, WHYS, at

#: seconds between two rounds of the long middle
TICK_S = 6
RECOVERY_SUMMARY = "positive_rate 61.8% (needs ≤ 24.0%)"
FLAP = "alert fired again: feature avg_order_value_90d null rate 94.2% (threshold 2.0%)"
BOT_NOTE = "still degraded: churn positive rate above 24%"


def person_note(k: int) -> str:
    """The ``k``-th note a person writes in the long middle (1-based): each one distinct."""
    return f"Checked the orders table again (look {k}): column still renamed."


def middle(n: int, start: datetime) -> Iterator[NewEvent]:
    """``n`` events of the long middle, from ``start`` on, one round every ``TICK_S``.

    Every round re-runs the recovery check (started, then finished: not yet); every 3rd the
    bot posts; every 7th the alert fires again; every 500th a person writes a note of their
    own (distinct text); every 2,000th a person retries a rollback that changes nothing (an
    action: the timeline's folding never crosses one). Repeats are identical but for their
    time; the person's notes and the actions are all distinct."""
    made = 0
    i = 0
    while made < n:
        t = start + timedelta(seconds=TICK_S * i)
        round_: list[NewEvent] = []
        check = {"step": "recovery", "phase": "mitigate", "kind": "check", "check": "recovery"}
        round_.append(
            NewEvent("step.started", "Is the churn positive rate back?", "engine", t, check)
        )
        round_.append(
            NewEvent(
                "step.finished",
                f"Is the churn positive rate back?: failed — {RECOVERY_SUMMARY}",
                "engine",
                t,
                {**check, "state": "failed", "passed": False, "summary": RECOVERY_SUMMARY},
            )
        )
        if i % 3 == 0:
            round_.append(NewEvent("note", BOT_NOTE, "bot", t))
        if i % 7 == 0:
            payload: dict[str, Any] = {"severity": None, "runbook": None, "data": {}}
            round_.append(NewEvent("incident.updated", FLAP, "alerting", t, payload))
        if i % 500 == 499:
            round_.append(NewEvent("note", person_note(i // 500 + 1), "alice", t))
        if i % 2000 == 1999:
            act = {"action_id": f"retry-{i}", "action": "rollback", "model": "churn"}
            round_.append(NewEvent("action.requested", "roll churn back", "alice", t, act))
            round_.append(
                NewEvent("action.noop", "nothing to roll back: v41 serves", "engine", t, act)
            )
        take = round_[: n - made]
        yield from take
        made += len(take)
        i += 1


def build_long_incident(store: Store, events: int = 100_000) -> str:
    """Write a resolved, reviewed incident of exactly ``events`` timeline events (at least
    24: the opening and the end); return its id. Deterministic: the same ``events`` gives
    the same timeline."""
    inc = store.create_incident(
        title="churn: feature avg_order_value_90d null rate 94.2%",
        model="churn",
        severity="SEV2",
        env="demo",
        actor="alerting",
        at=at(6, 47, 30),
        runbook="null-feature",
        alert_fingerprint="churn-null-aov90",
        onset_at=at(6, 30),
        detected_at=at(6, 47),
        data={
            "alert": ALERT,
            "evidence": [{"source": "alert", "summary": ALERT["annotations"]["summary"]}],
            "impact": {"users_affected": 2_100_000, "revenue_per_hour": 12_000.0},
        },
    )
    iid = inc.id
    lifecycle.enter_phase(store, iid, "triage", actor="engine", at=at(6, 48))
    lifecycle.mark(store, iid, "acknowledged", actor="alice", at=at(6, 49), message="alice ack")
    opening = [
        NewEvent(
            "step.finished",
            "Are any features null?: failed — avg_order_value_90d null rate 94.2%",
            "engine",
            at(6, 50),
            {
                "step": "null-rates",
                "kind": "check",
                "check": "drift",
                "state": "failed",
                "passed": False,
                "summary": "avg_order_value_90d null rate 94.2%",
                "evidence": DRIFT_EVIDENCE,
            },
        ),
        NewEvent(
            "step.finished",
            "Compare the versions' lineage: passed — data moved",
            "engine",
            at(6, 51),
            {
                "step": "lineage",
                "kind": "check",
                "check": "lineage_diff",
                "state": "passed",
                "passed": True,
                "summary": "data moved",
                "evidence": LINEAGE_EVIDENCE,
            },
        ),
    ]
    store.append_many(iid, opening)
    lifecycle.enter_phase(store, iid, "mitigate", actor="alice", at=at(6, 52))
    written = store.tail(iid, 0)[1]
    n = max(0, events - written - END_EVENTS)
    store.append_many(iid, middle(n, at(6, 53)))
    end = at(6, 53) + timedelta(seconds=TICK_S * (n + 1))
    _finish(store, iid, end)
    return iid


#: the events ``_finish`` writes
END_EVENTS = 18


def _finish(store: Store, iid: str, t: datetime) -> None:
    """The mitigation, the resolution and the review (``END_EVENTS`` events)."""
    common = {"action_id": "act-1", "action": "pause_batch", "model": "churn"}
    store.append_many(
        iid,
        [
            NewEvent(
                "action.requested",
                "pause batch scoring for churn",
                "alice",
                t,
                {**common, "from": "running", "to": "paused"},
            ),
            NewEvent(
                "action.finished",
                "pause_batch finished in 50 s",
                "engine",
                t,
                {**common, "before": "running", "after": "paused"},
            ),
        ],
    )
    lifecycle.mitigation_applied(
        store,
        iid,
        actor="alice",
        at=t,
        action="pause_batch",
        summary="pause batch scoring for churn",
        action_id="act-1",
    )
    t += timedelta(minutes=1)
    lifecycle.mark(store, iid, "mitigated", actor="alice", at=t, message="impact stopped")
    lifecycle.enter_phase(store, iid, "diagnose", actor="alice", at=t)
    lifecycle.enter_phase(store, iid, "fix", actor="bob", at=t)
    lifecycle.mark(store, iid, "resolved", actor="bob", at=t, message="scores back to normal")
    lifecycle.enter_phase(store, iid, "review", actor="alice", at=t)
    review = [("why", w) for w in WHYS] + [
        ("root_cause", "An upstream column rename reached the pipeline with no schema check."),
        ("contributing", "No data contract between the orders team and the ML platform."),
        ("lesson", "A model that keeps answering can still be broken: watch its inputs."),
    ]
    notes = [NewEvent("note", text, "alice", t, {"tag": tag}) for tag, text in review]
    item = {
        "what": "Validate the orders schema before feature build",
        "owner": "bob",
        "due": "2026-12-06",
        "type": "prevent",
        "link": "",
    }
    notes.append(NewEvent("action_item", item["what"], "alice", t, item))
    store.append_many(iid, notes)
    lifecycle.mark(store, iid, "reviewed", actor="alice", at=t, message="post-mortem reviewed")
