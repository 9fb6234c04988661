"""Reading an incident's timeline into the pieces reports are made of: tagged review notes,
action items, check results, lineage and drift evidence, versions, actions.

Pure functions over ``TimelineEvent`` lists; nothing here formats or renders.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
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
NON_VERSION_ACTIONS = frozenset({"pause_batch", "resume_batch", "clear_fault", "stage"})
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
    title: str = ""  # the step's title as the engine wrote it ("" when not recorded)


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
            raw = p.get("evidence")
            ev: dict[str, Any] = raw if isinstance(raw, dict) else {}
            out.append(
                CheckResult(
                    str(p.get("step") or ""),
                    str(p["check"]),
                    p.get("passed"),
                    str(p.get("state") or ""),
                    str(p.get("summary") or e.message),
                    e.ts,
                    ev,
                    step_title(e),
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
    """One row per action (``action_id``) in the order they were requested: what, model,
    from → to, who asked, when it was requested, how it ended (the last ``action.*`` state)
    and ``moved``: what it changed, as text for people (see ``describe_action``)."""
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
                "before": None,
                "after": None,
                "version": None,
                "actor": e.actor,
                "requested_at": e.ts,
                "outcome": "",
                "ended_at": None,
                "duration_ms": None,
                "message": e.message,
            },
        )
        for k in ("action", "model", "from", "to"):
            row[k] = row[k] or p.get(k) or ""
        for k in ("before", "after", "version"):
            if p.get(k) is not None:
                row[k] = p[k]
        state = e.kind.split(".", 1)[1]
        if state not in ("requested", "step", "confirmed"):
            row["outcome"], row["ended_at"], row["message"] = state, e.ts, e.message
        if p.get("duration_ms") is not None:
            row["duration_ms"] = p["duration_ms"]
    for row in rows.values():
        row["moved"] = describe_action(row)
    return list(rows.values())


#: Outcomes after which an action's change holds (read back), for summaries and resolution.
APPLIED_OUTCOMES = ("finished", "verified")
#: Actions of simulated worlds only: what they move is the world's fault, not production.
FIX_ACTIONS = frozenset({"clear_fault"})


def _state_text(value: Any) -> str:
    """A before/after state as text: routes as ``v21:75% v22:25%``, a batch job's
    ``{"paused": true}`` as ``paused``, a stage as itself."""
    if isinstance(value, dict):
        if _is_routes(value):
            parts = sorted(value.items(), key=lambda kv: -float(kv[1]))
            return " ".join(f"{k.removeprefix('fallback:')}:{float(v):g}%" for k, v in parts if v)
        if set(value) == {"paused"}:
            return "paused" if value["paused"] else "running"
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def describe_action(row: dict[str, Any]) -> str:
    """What an action moved, never blank: ``v13 → v12`` (from/to as the action recorded
    them), ``v22: Canary → Staging`` (a stage), ``v21:75% v22:25% → v21:100%`` (before/after
    routes), ``fix deployed (simulated world)``; else the action's last message."""
    if row.get("action") in FIX_ACTIONS:
        return "fix deployed (simulated world)"
    old, new = row.get("from"), row.get("to")
    if old not in (None, "") and new not in (None, ""):
        return f"{old} → {new}"
    before, after = row.get("before"), row.get("after")
    if before is not None and after is not None:
        moved = f"{_state_text(before)} → {_state_text(after)}"
        return f"{row['version']}: {moved}" if row.get("version") else moved
    if new not in (None, ""):
        return f"→ {new}"
    return str(row.get("message") or row.get("action") or "action")


def step_title(event: TimelineEvent) -> str:
    """A step's title from its ``step.finished`` message (``"{title}: {state} — {summary}"``,
    as the engine writes it); "" when the message has another shape."""
    state = str(event.payload.get("state") or "")
    head, sep, _ = event.message.partition(f": {state} — ") if state else ("", "", "")
    return head if sep else ""


_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_YES_NO = re.compile(
    r"(is|are|was|were|does|do|did|has|have|had|can|could|will|would|should)\b", re.I
)


def question_kind(title: str) -> str | None:
    """``"yes/no"`` for a title phrased as a closed question ("Does the null rate trip the
    circuit breaker?"), ``"open"`` for an open one ("Which features drifted?"), None for a
    title that is not a question. Parenthesised asides are ignored: "The global rate (does
    it hide the segment?)" is not a question, "Are the scores wrong? (against …)" is."""
    bare = _PARENTHESES.sub("", title).strip()
    if not bare.endswith("?"):
        return None
    return "yes/no" if _YES_NO.match(bare) else "open"


def finding(title: str, state: str, summary: str) -> str | None:
    """A check phrased as a question, read as its answer; None for a check that is not a
    question. A check fails when it finds what it looks for, so a closed question that
    failed answers "yes" and one that passed "no" ("Does the null rate trip the circuit
    breaker? — yes: null rate 94.2% (threshold 5.0%)"); an open question is answered by
    its summary. A check with no data to judge says so rather than answering."""
    kind = question_kind(title)
    if kind is None:
        return None
    if state == "inconclusive":
        answer = "not known (no data to judge)"
        return f"{title} — {answer}: {summary}" if summary else f"{title} — {answer}"
    if kind == "yes/no" and state in ("failed", "passed"):
        word = "yes" if state == "failed" else "no"
        return f"{title} — {word}: {summary}" if summary else f"{title} — {word}"
    return f"{title} — {summary}" if summary else title


def step_reading(event: TimelineEvent) -> str | None:
    """How a finished step reads in a report, when it is a question: a check phrased as a
    question as its answer (``finding``), a decision as its question and what was decided
    ("Roll back, hotfix or retrain? — decided: Hotfix the pipeline"); None for any other
    step (its message reads as it is)."""
    if event.kind != "step.finished":
        return None
    p = event.payload
    title, summary = step_title(event), str(p.get("summary") or "")
    if not title:
        return None
    if p.get("kind") == "check":
        return finding(title, str(p.get("state") or ""), summary)
    if p.get("kind") == "decision" and summary:
        return f"{title} — {summary}"
    return None


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
        if a["action"] == "stage" and a["version"]:
            add(a["model"], a["version"], f"stage {a['moved'].partition(': ')[2]}")
        if a["action"] in NON_VERSION_ACTIONS:
            continue
        for when, key in (("before", "from"), ("after", "to")):
            routes = a["before" if key == "from" else "after"]
            if isinstance(routes, dict) and _is_routes(routes):
                # a traffic change, kill switch or restore: the versions that took traffic
                for version, share in routes.items():
                    if share:
                        add(a["model"], version, f"served {when} the {a['action']}")
            elif not _is_routes_text(a[key]):
                add(a["model"], a[key], f"{when} {a['action']}")
    return out


def _is_routes(value: dict[str, Any]) -> bool:
    return bool(value) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    )


def _is_routes_text(value: Any) -> bool:
    """``v21:75% v22:25%`` (routes as an action wrote them), not a version."""
    return isinstance(value, str) and "%" in value


class RecordDigest:
    """What this module's readers need from a timeline, gathered in one pass (``add`` each
    event in order), so a 100,000-event timeline is read once and never held whole.

    ``kept`` holds the events the readers use: the review's content (tagged notes, action
    items), every ``action.*`` event, the lifecycle's ``incident.*`` events (not
    ``incident.updated``: an alert that keeps firing writes one per firing), the first
    ``alert.firing``, every ``drill.scored``, and the check results (``step.finished`` with a
    ``check``) — except a result identical to the check result just before it (same kind,
    actor, message and payload: a check run again with the same outcome), which is counted
    in ``check_runs`` against the kept one instead. ``notes_by_tag``, ``action_items``,
    ``actions``, ``lineage_diff``, ``drift_evidence`` and ``versions_involved`` give over
    ``kept`` what they give over the whole timeline; ``checks`` gives each run of identical
    results once. ``people`` is ``participants`` of the whole timeline; ``count``,
    ``first_seq``, ``last_seq`` and ``last_hash`` its extent (None when empty)."""

    def __init__(self) -> None:
        self.kept: list[TimelineEvent] = []
        #: seq of a kept check result → (times it ran with that result, time of the last)
        self.check_runs: dict[int, tuple[int, datetime]] = {}
        self.people: list[str] = []
        self._people: set[str] = set()
        self._last_check: TimelineEvent | None = None
        self._alert_seen = False
        self.count = 0
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.last_hash: str | None = None
        #: stakeholder updates (notes tagged ``update``) with where each was sent
        self.updates: list[dict[str, Any]] = []
        self._update_at: dict[int, dict[str, Any]] = {}  # the update note's seq → its row
        self._deliveries: dict[str, dict[str, Any]] = {}  # notification id → its delivery

    def add(self, e: TimelineEvent) -> None:
        self.count += 1
        self._add_update(e)
        if self.first_seq is None:
            self.first_seq = e.seq
        self.last_seq, self.last_hash = e.seq, e.hash
        if e.actor not in self._people:
            self._people.add(e.actor)
            if is_person(e.actor):
                self.people.append(e.actor)
        kind = e.kind
        if kind == "step.finished" and (e.payload or {}).get("check"):
            last = self._last_check
            if (
                last is not None
                and last.actor == e.actor
                and last.message == e.message
                and last.payload == e.payload
            ):
                runs, _ = self.check_runs.get(last.seq, (1, last.ts))
                self.check_runs[last.seq] = (runs + 1, e.ts)
                return
            self._last_check = e
            self.kept.append(e)
        elif (
            kind.startswith("action.")
            or (kind.startswith("incident.") and kind != "incident.updated")
            or kind == "drill.scored"
            or is_review_content(e)
        ):
            self.kept.append(e)
        elif kind == "alert.firing" and not self._alert_seen:
            self._alert_seen = True
            self.kept.append(e)

    def _add_update(self, e: TimelineEvent) -> None:
        """A stakeholder update, and the deliveries of its notifications (``notify.*``
        events, which come after it): ``channel``, ``state`` (queued, sent, failed) and the
        service's id for it."""
        p = e.payload or {}
        if e.kind == "note" and p.get("tag") == "update":
            row = {"at": e.ts, "actor": e.actor, "text": e.message, "seq": e.seq, "sent": []}
            self.updates.append(row)
            self._update_at[e.seq] = row
        elif e.kind == "notify.queued" and p.get("source_seq") in self._update_at:
            sent: dict[str, Any] = {
                "channel": p.get("channel"),
                "state": "queued",
                "remote_id": None,
                "at": None,
            }
            self._update_at[p["source_seq"]]["sent"].append(sent)
            self._deliveries[str(p.get("notification_id"))] = sent
        elif e.kind in ("notify.sent", "notify.failed"):
            done = self._deliveries.get(str(p.get("notification_id")))
            if done is not None:
                done["state"] = e.kind.split(".", 1)[1]
                done["remote_id"], done["at"] = p.get("remote_id"), e.ts

    def add_all(self, events: Iterable[TimelineEvent]) -> RecordDigest:
        for e in events:
            self.add(e)
        return self


def participants(events: Sequence[TimelineEvent], data: dict[str, Any] | None = None) -> list[str]:
    """People in the record: ``data["participants"]`` first, then every human actor, in
    order of first appearance."""
    names = [str(n) for n in (data or {}).get("participants") or []]
    for e in events:
        if is_person(e.actor) and e.actor not in names:
            names.append(e.actor)
    return names
