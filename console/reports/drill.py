"""The drill report: scenario, participants, each step with its time, measured times
against targets, pass / fail with reasons, and a review section."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from console.errors import InvalidInput
from console.reports import record
from console.reports.metrics import (
    DRILL_TARGET_KEYS,
    METRIC_DEFINITIONS,
    METRIC_LABELS,
    incident_metrics,
)
from console.reports.render import render
from console.store import Incident, TimelineEvent

CONFIG_TARGET_KEYS = DRILL_TARGET_KEYS
SCORED = tuple(DRILL_TARGET_KEYS.values())


@dataclass(frozen=True)
class DrillScore:
    passed: bool
    measured: dict[str, float | None]
    targets: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    recovered: bool | None = None
    source: str = "computed"  # "computed" here, or "recorded" from a drill.scored event

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for k in SCORED:
            m, t = self.measured.get(k), self.targets.get(k)
            ok = None if m is None or t is None else m <= t
            out.append(
                {
                    "key": k,
                    "label": METRIC_LABELS[k],
                    "measured": m,
                    "target": t,
                    "passed": ok,
                    "definition": METRIC_DEFINITIONS[k],
                }
            )
        return out

    @property
    def time_to_mitigation_applied(self) -> float | None:
        """Minutes from detection to the first change for the incident read back."""
        return self.measured.get("mitigation_applied_min")

    @property
    def time_to_mitigate(self) -> float | None:
        """Minutes from detection to the impact observed to stop."""
        return self.measured.get("mitigate_min")

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "time_to_mitigation_applied": self.time_to_mitigation_applied,
            "time_to_mitigate": self.time_to_mitigate,
            "rows": self.rows(),
        }


def targets_from_config(drill_targets: Mapping[str, float]) -> dict[str, float]:
    """``{"mitigate_minutes": 8}`` (config) → ``{"mitigate_min": 8.0}``; unknown keys kept."""
    return {CONFIG_TARGET_KEYS.get(k, k): float(v) for k, v in drill_targets.items()}


def score_drill(incident: Incident, targets: Mapping[str, float]) -> DrillScore:
    """Score measured times (minutes) against ``targets`` (metric key → minutes). The one
    scorer of drill times: the drill runner (``console.runbooks.scoring``) adds its
    recovery verdict to this one.

    The drill passes when the incident was acknowledged and mitigated (the impact observed
    to stop) and every measured time is within its target. Time to detect needs the onset
    (fault injection time): when it is unknown it is reported as not measured and does not
    fail the drill; neither does a missing time to mitigation applied (a runbook may stop
    the impact without changing production). A target that is not set is not scored.
    ``measured`` holds every incident metric (``resolve_min`` too), scored or not."""
    measured = incident_metrics(incident)
    reasons: list[str] = []
    passed = True
    for k in SCORED:
        m, t = measured.get(k), targets.get(k)
        label = METRIC_LABELS[k].lower()
        if m is None:
            if k == "detect_min":
                reasons.append(f"{label} not measured (onset unknown)")
            elif k == "mitigation_applied_min":
                # a runbook may stop the impact without changing production
                reasons.append(f"{label} not measured (nothing changed in production)")
            else:
                passed = False
                reasons.append(
                    f"{label} not measured: the incident was never "
                    f"{'acknowledged' if k == 'acknowledge_min' else 'mitigated'}"
                )
        elif t is not None and m > t:
            passed = False
            reasons.append(f"{label} {m:.1f} min exceeds the target of {t:g} min")
        elif t is not None:
            reasons.append(f"{label} {m:.1f} min within the target of {t:g} min")
    return DrillScore(
        passed,
        measured,
        {k: float(v) for k, v in targets.items()},
        reasons,
        recovered=incident.mitigated_at is not None,
    )


def recorded_score(events: Sequence[TimelineEvent]) -> DrillScore | None:
    """The engine's own verdict (the last ``drill.scored`` event), if there is one."""
    scored = [e for e in events if e.kind == "drill.scored"]
    if not scored:
        return None
    p = scored[-1].payload
    return DrillScore(
        bool(p.get("passed")),
        dict(p.get("measured") or {}),
        {k: float(v) for k, v in (p.get("targets") or {}).items()},
        [str(r) for r in p.get("reasons") or []],
        p.get("recovered"),
        source="recorded",
    )


def steps(events: Sequence[TimelineEvent]) -> list[dict[str, Any]]:
    """Runbook steps in the order they started, with start, finish, seconds taken, state,
    pass/fail and the finishing message. A step that never finished has ``finished_at``
    None. ``result`` is the word the report shows (``finding`` for a check phrased as a
    question that found a problem, not "failed") and ``detail`` the message, a question
    check's as question and answer (see ``record.finding``)."""
    rows: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.kind not in ("step.started", "step.finished"):
            continue
        p = e.payload
        name = str(p.get("step") or e.message)
        row = rows.setdefault(
            name,
            {
                "step": name,
                "phase": p.get("phase") or "",
                "kind": p.get("kind") or "",
                "started_at": None,
                "finished_at": None,
                "seconds": None,
                "state": "",
                "passed": None,
                "message": e.message,
                "actor": e.actor,
                "result": "",
                "detail": e.message,
            },
        )
        if e.kind == "step.started":
            row["started_at"] = row["started_at"] or e.ts
        else:
            row["finished_at"], row["state"] = e.ts, str(p.get("state") or "")
            row["passed"], row["message"] = p.get("passed"), e.message
            start = row["started_at"] or e.ts
            row["started_at"] = start
            row["seconds"] = (e.ts - start).total_seconds()
            row["result"], row["detail"] = _result(e, row)
    for row in rows.values():
        if not row["result"]:
            row["result"] = row["state"] or "—"
    return list(rows.values())


def _result(event: TimelineEvent, row: dict[str, Any]) -> tuple[str, str]:
    state = row["state"]
    result = ("passed" if row["passed"] else "failed") if row["passed"] is not None else state
    reading = record.step_reading(event)
    if reading is None:
        return result or "—", event.message
    is_check = event.payload.get("kind") == "check"
    return ("finding" if is_check and state == "failed" else result), reading


def build_drill_report(
    incident: Incident,
    events: Sequence[TimelineEvent],
    *,
    targets: Mapping[str, float],
    now: datetime,
) -> dict[str, Any]:
    """Everything the drill templates read. ``targets`` are metric key → minutes (see
    ``targets_from_config``). The engine's recorded score is used when present; the
    score computed from the record is shown beside it. Refuses a non-drill incident."""
    if not incident.drill:
        raise InvalidInput(
            f"{incident.id} is not a drill",
            hint=f"for a real incident use: rollbook postmortem {incident.id}",
        )
    computed = score_drill(incident, targets)
    recorded = recorded_score(events)
    metrics = incident_metrics(incident)
    notes = record.notes_by_tag(events)
    return {
        "incident": incident,
        "generated_at": now,
        "scenario": incident.data.get("scenario") or incident.runbook or incident.title,
        "participants": record.participants(events, incident.data),
        "automation": sorted(
            {e.actor for e in events if e.actor and not record.is_person(e.actor)}
            & {"auto", "automation", "engine", "runbook"}
        ),
        "steps": steps(events),
        "actions": record.actions(events),
        "score": recorded or computed,
        "computed": computed,
        "metrics": metrics,
        "time_to_mitigation_applied": metrics["mitigation_applied_min"],
        "time_to_mitigate": metrics["mitigate_min"],
        "improve": notes["went_badly"] + notes["lesson"],
        "went_well": notes["went_well"],
        "action_items": record.action_items(events),
    }


def render_drill(
    incident: Incident,
    events: Sequence[TimelineEvent],
    *,
    targets: Mapping[str, float],
    now: datetime,
    fmt: str = "md",
    user_dir: Path | None = None,
    currency: str = "USD",
) -> str:
    if fmt not in ("md", "html"):
        raise InvalidInput(f"unknown format {fmt!r}", hint="use md or html")
    ctx = build_drill_report(incident, events, targets=targets, now=now)
    return render(f"drill.{fmt}", ctx, user_dir=user_dir, currency=currency)
