"""Reading an incident's timeline into the pieces reports are made of: tagged review notes,
action items, check results, lineage and drift evidence, versions, actions.

Pure functions over ``TimelineEvent`` lists; nothing here formats or renders.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from console.store import TimelineEvent
from console.store.models import NOTE_TAGS

REVIEW_TAGS = NOTE_TAGS
# Actors that are the console itself or an integration, never an author or a participant.
SYSTEM_ACTORS = frozenset(
    {
        "alerting",
        "engine",
        "runbook",
        "system",
        "rollbook",
        "drill",
        "scheduler",
        "auto",
        "automation",
        "bot",
    }
)
# Actions whose from/to are states, not model versions.
NON_VERSION_ACTIONS = frozenset({"pause_batch", "resume_batch"})
LINEAGE_GROUPS = ("code", "data", "features", "params", "environment", "artifact")
# Which of the three things that move independently each lineage group belongs to.
MOVED_THING = {
    "code": "code",
    "environment": "code",
    "data": "data",
    "features": "data",
    "params": "model",
    "artifact": "model",
}


@dataclass(frozen=True)
class Note:
    text: str
    actor: str
    at: datetime
    seq: int


@dataclass(frozen=True)
class ActionItem:
    what: str
    owner: str
    due: str  # ISO date, "" when not set
    type: str  # prevent | detect | mitigate | "" when not set
    link: str
    actor: str
    at: datetime
    seq: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        return d


@dataclass(frozen=True)
class CheckResult:
    step: str
    check: str
    passed: bool | None
    state: str
    summary: str
    at: datetime
    evidence: dict[str, Any]


def is_person(actor: str) -> bool:
    return bool(actor) and actor.lower() not in SYSTEM_ACTORS


def tag_of(event: TimelineEvent) -> str | None:
    """The review tag of a note (``why``, ``root_cause``, …), None for a plain note."""
    if event.kind != "note":
        return None
    tag = event.payload.get("tag")
    return tag if tag in REVIEW_TAGS else None


def is_review_content(event: TimelineEvent) -> bool:
    """Tagged notes and action items are the review's content, not timeline entries."""
    return event.kind == "action_item" or tag_of(event) is not None


def notes_by_tag(events: Sequence[TimelineEvent]) -> dict[str, list[Note]]:
    """Every review tag → its notes in timeline order (the 5 whys are ``["why"]``)."""
    out: dict[str, list[Note]] = {t: [] for t in REVIEW_TAGS}
    for e in events:
        tag = tag_of(e)
        if tag:
            out[tag].append(Note(e.message, e.actor, e.ts, e.seq))
    return out


def action_items(events: Sequence[TimelineEvent]) -> list[ActionItem]:
    """``action_item`` events in order. An item without ``what`` uses the event message.

    The timeline is append-only, so an edit is a new, complete ``action_item`` event whose
    payload names the event it replaces in ``supersedes`` (a seq: the original or an
    earlier edit); each item is listed once, as its latest edit, where it was first added."""
    edits = {
        e.payload["supersedes"]: e
        for e in events
        if e.kind == "action_item" and e.payload.get("supersedes") is not None
    }
    items = []
    for e in events:
        if e.kind != "action_item" or e.payload.get("supersedes") is not None:
            continue
        seen: set[int] = set()
        while e.seq in edits and e.seq not in seen:
            seen.add(e.seq)
            e = edits[e.seq]
        p = e.payload
        kind = str(p.get("type") or "")
        items.append(
            ActionItem(
                str(p.get("what") or e.message),
                str(p.get("owner") or ""),
                str(p.get("due") or ""),
                kind,
                str(p.get("link") or ""),
                e.actor,
                e.ts,
                e.seq,
            )
        )
    return items


CSV_COLUMNS = ("what", "owner", "due", "type", "link")


def action_items_csv(items: Sequence[ActionItem]) -> str:
    """Action items as CSV (header ``what,owner,due,type,link``), for a tracker import."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for it in items:
        w.writerow([it.what, it.owner, it.due, it.type, it.link])
    return buf.getvalue()


def checks(events: Sequence[TimelineEvent]) -> list[CheckResult]:
    """Results of runbook check steps (``step.finished`` with a ``check``)."""
    out = []
    for e in events:
        p = e.payload
        if e.kind == "step.finished" and p.get("check"):
            ev = p.get("evidence") if isinstance(p.get("evidence"), dict) else {}
            out.append(
                CheckResult(
                    str(p.get("step") or ""),
                    str(p["check"]),
                    p.get("passed"),
                    str(p.get("state") or ""),
                    str(p.get("summary") or e.message),
                    e.ts,
                    ev,
                )
            )
    return out


def lineage_diff(events: Sequence[TimelineEvent]) -> dict[str, Any] | None:
    """The last lineage diff recorded: ``{"groups": {group: [changes]}, "moved": [...],
    "things": {"code"|"data"|"model": bool}, "from", "to", "summary",
    "hours_since_deploy"}``; None when no check produced one. ``summary`` is the check's
    own reading (e.g. "nothing deployed in the 24 h before the onset"), which matters more
    than the raw diff when the versions compared predate the incident."""
    found, check = None, None
    for c in checks(events):
        if isinstance(c.evidence.get("groups"), dict):
            found, check = c.evidence, c
    if found is None or check is None:
        return None
    groups = {g: list(found["groups"].get(g) or []) for g in LINEAGE_GROUPS}
    for g, changes in found["groups"].items():
        groups.setdefault(g, list(changes or []))
    moved = list(found.get("moved") or [g for g, ch in groups.items() if ch])
    things = {t: False for t in ("code", "data", "model")}
    for g in moved:
        things[MOVED_THING.get(g, "model")] = True
    return {
        "groups": groups,
        "moved": moved,
        "things": things,
        "from": found.get("from"),
        "to": found.get("to"),
        "summary": check.summary,
        "hours_since_deploy": found.get("hours_since_deploy"),
    }


def describe_change(change: Any) -> str:
    """One lineage change as text: its ``reason`` when the diagnostic gave one, else
    ``field: before → after`` (``from``/``to`` accepted too), else ``str(change)``."""
    if not isinstance(change, dict):
        return str(change)
    if change.get("reason"):
        return str(change["reason"])
    key = change.get("field") or change.get("key") or change.get("name") or ""
    if any(k in change for k in ("before", "after", "from", "to")):
        old = change.get("before", change.get("from"))
        new = change.get("after", change.get("to"))
        return f"{key}: {old} → {new}" if key else f"{old} → {new}"
    return ", ".join(f"{k}={v}" for k, v in change.items())


def _first(row: dict[str, Any], *keys: str) -> Any:
    return next((row[k] for k in keys if row.get(k) is not None), None)


def drift_evidence(events: Sequence[TimelineEvent]) -> dict[str, list[dict[str, Any]]]:
    """Per-feature drift and null-rate rows, and suggested renames, from every check.

    Rows are normalised to ``name, psi, ks_statistic, null_rate_reference,
    null_rate_current, severity`` whichever check produced them (a drift check's
    ``name``/``psi``/…, a null-rate check's ``feature``/``null_rate``/``reference``/
    ``over``); a feature seen by several checks is one row, later checks filling gaps."""
    rows: dict[str, dict[str, Any]] = {}
    renames: list[dict[str, Any]] = []
    for c in checks(events):
        for f in c.evidence.get("features") or []:
            if not isinstance(f, dict) or not _first(f, "name", "feature"):
                continue
            name = str(_first(f, "name", "feature"))
            severity = f.get("severity") or ("over threshold" if f.get("over") else None)
            new = {
                "name": name,
                "psi": f.get("psi"),
                "ks_statistic": f.get("ks_statistic"),
                "null_rate_reference": _first(f, "null_rate_reference", "reference"),
                "null_rate_current": _first(f, "null_rate_current", "null_rate"),
                "severity": severity,
            }
            row = rows.setdefault(name, dict.fromkeys(new))
            from_drift = f.get("psi") is not None  # a drift check's reading wins
            for k, v in new.items():
                if v is not None and (row[k] is None or from_drift):
                    row[k] = v
        renames.extend(r for r in c.evidence.get("renames") or [] if isinstance(r, dict))
    seen, unique = set(), []
    for r in renames:
        key = (r.get("from"), r.get("to"))
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return {"features": list(rows.values()), "renames": unique}


def actions(events: Sequence[TimelineEvent]) -> list[dict[str, Any]]:
    """One row per action (``action_id``): what, model, from → to, who asked, when it was
    requested and how it ended (the last ``action.*`` state)."""
    rows: dict[Any, dict[str, Any]] = {}
    for e in events:
        if not e.kind.startswith("action.") or e.kind == "action_item":
            continue
        p = e.payload
        key = p.get("action_id") or f"seq-{e.seq}"
        row = rows.setdefault(
            key,
            {
                "action_id": key,
                "action": p.get("action") or "",
                "model": p.get("model") or "",
                "from": p.get("from"),
                "to": p.get("to"),
                "actor": e.actor,
                "requested_at": e.ts,
                "outcome": "",
                "ended_at": None,
                "duration_ms": None,
            },
        )
        for k in ("action", "model", "from", "to"):
            row[k] = row[k] or p.get(k) or ""
        state = e.kind.split(".", 1)[1]
        if state not in ("requested", "step", "confirmed"):
            row["outcome"], row["ended_at"] = state, e.ts
        if p.get("duration_ms") is not None:
            row["duration_ms"] = p["duration_ms"]
    return list(rows.values())


def versions_involved(
    events: Sequence[TimelineEvent], data: dict[str, Any]
) -> list[dict[str, str]]:
    """Model versions the record names: ``data["versions"]``, the lineage diff's two
    versions, the version the alert fired on, and every action's from/to (first role wins)."""
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(model: str, version: Any, role: str) -> None:
        if version in (None, "") or str(version).startswith("fallback:"):
            return
        key = (model, str(version))
        if key not in seen:
            seen.add(key)
            out.append({"model": model, "version": str(version), "role": role})

    for role, version in (data.get("versions") or {}).items():
        add(str(data.get("model") or ""), version, str(role))
    lineage = lineage_diff(events)
    if lineage:
        add(str(data.get("model") or ""), lineage["from"], "earlier version (lineage diff)")
        add(str(data.get("model") or ""), lineage["to"], "later version (lineage diff)")
    labels = (data.get("alert") or {}).get("labels") or {}
    add(str(data.get("model") or ""), labels.get("version"), "version the alert fired on")
    for a in actions(events):
        if a["action"] in NON_VERSION_ACTIONS:
            continue
        add(a["model"], a["from"], f"before {a['action']}")
        add(a["model"], a["to"], f"after {a['action']}")
    return out


def participants(events: Sequence[TimelineEvent], data: dict[str, Any] | None = None) -> list[str]:
    """People in the record: ``data["participants"]`` first, then every human actor, in
    order of first appearance."""
    names = [str(n) for n in (data or {}).get("participants") or []]
    for e in events:
        if is_person(e.actor) and e.actor not in names:
            names.append(e.actor)
    return names
