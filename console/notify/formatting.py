"""What a timeline event means for the people around the incident: zero or one ``Draft``.

The words come from the record only — the event's own message and payload and what earlier
events of the incident said (``IncidentFacts``) — never from a simulator's answer key. The
status words are the record's: APPLIED (read back), RECOVERED (the signal seen back), NOT
RECOVERED (the watch's deadline passed), FAILED / PARTIALLY APPLIED / INTERRUPTED.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.enums import CHANGES_SERVING, EventKind
from console.formatting import format_signal
from console.notify.model import Message, Topic, clip
from console.store import Incident, TimelineEvent

HEADLINE_MAX = 150
TEXT_MAX = 3000
DRILL_PREFIX = "[DRILL] "
DRILL_LINE = "DRILL — a rehearsal, not a real incident."


@dataclass
class IncidentFacts:
    """What the incident's record said up to the event being read, folded event by event
    (``see``): severity, status, versions, the runbook step in progress, the opening
    event's hash (the incident's stable key)."""

    incident_id: str
    severity: str = "SEV4"
    status: str = "open"
    opened_hash: str = ""
    step: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # action_id -> plan

    @property
    def key(self) -> str:
        return f"{self.incident_id}-{self.opened_hash[:12]}" if self.opened_hash else ""

    def see(self, e: TimelineEvent) -> None:
        p = e.payload or {}
        if e.kind == EventKind.INCIDENT_OPENED:
            self.opened_hash = e.hash
            self.severity = str(p.get("severity") or self.severity)
            alert = (p.get("data") or {}).get("alert") or {}
            version = (alert.get("labels") or {}).get("version")
            if version:
                self.versions["at_alert"] = str(version)
        elif e.kind == EventKind.INCIDENT_UPDATED and p.get("severity"):
            self.severity = str(p["severity"])
        if e.kind.startswith("incident.") and p.get("status"):
            self.status = str(p["status"])
        if e.kind == EventKind.STEP_STARTED:
            self.step = e.message
        elif e.kind == EventKind.ACTION_REQUESTED and p.get("action_id"):
            self.plans[str(p["action_id"])] = dict(p.get("plan") or {})
        elif e.kind == EventKind.ACTION_FINISHED and (p.get("from") or p.get("to")):
            if p.get("from"):
                self.versions["before"] = str(p["from"])
            if p.get("to"):
                self.versions["now"] = str(p["to"])


@dataclass(frozen=True)
class Draft:
    """What to say about one event, before it is addressed to a channel."""

    topic: Topic
    headline: str
    body: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    link: str | None = None

    def message(
        self,
        notification_id: str,
        event: TimelineEvent,
        inc: Incident,
        facts: IncidentFacts,
    ) -> Message:
        """The ``Message`` for one channel. A drill's headline starts with ``[DRILL]`` and
        its text says DRILL again under it."""
        prefix = DRILL_PREFIX if inc.drill else ""
        headline = clip(prefix + self.headline, HEADLINE_MAX)
        lines = [headline, *((DRILL_LINE,) if inc.drill else ()), *self.body]
        if self.link:
            lines.append(self.link)
        alert = (inc.data.get("alert") or {}) if isinstance(inc.data, dict) else {}
        labels = alert.get("labels") or {}
        signal = labels.get("signal")
        details: dict[str, Any] = {
            "incident": inc.id,
            "title": title_of(inc),
            "model": inc.model,
            "env": inc.env,
            "severity": facts.severity,
            "status": facts.status,
            "versions": dict(facts.versions),
            "runbook": inc.runbook,
            "runbook_step": facts.step,
            "drill": inc.drill,
        }
        if signal:
            details["signal"] = {
                "name": signal,
                "at_alert": format_signal(str(signal), _number(alert.get("value"))),
            }
        if self.link:
            details["link"] = self.link
        return Message(
            id=notification_id,
            incident_id=inc.id,
            incident_key=facts.key or inc.id,
            topic=self.topic,
            headline=headline,
            text=clip("\n".join(lines), TEXT_MAX),
            severity=facts.severity,
            status=facts.status,
            model=inc.model,
            env=inc.env,
            title=title_of(inc),
            drill=inc.drill,
            at=event.ts.isoformat(),
            actor=event.actor,
            fields=(
                ("Severity", facts.severity),
                ("Status", facts.status),
                ("Model", inc.model),
                ("Environment", inc.env),
                *self.fields,
            )[:10],
            link=self.link,
            alert=alert.get("name"),
            details=details,
        )


def title_of(inc: Incident) -> str:
    """The incident's title as messages show it: a drill's own ``[drill]`` prefix is left
    out, since every drill message already starts with ``[DRILL]``."""
    t = inc.title
    return t[len("[drill]") :].lstrip() if inc.drill and t.lower().startswith("[drill]") else t


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _on_production(p: dict[str, Any]) -> bool:
    return str(p.get("action") or "") in CHANGES_SERVING


def draft(
    e: TimelineEvent,
    inc: Incident,
    facts: IncidentFacts,
    *,
    postmortem_url: str | None = None,
) -> Draft | None:
    """The notification ``e`` means, or None. ``facts`` is the incident as it was *before*
    ``e`` (the caller folds ``e`` in afterwards): the severity before a change, the plan
    of the action that finished."""
    p = e.payload or {}
    iid, kind = inc.id, e.kind
    if kind == EventKind.INCIDENT_OPENED:
        alert = (p.get("data") or {}).get("alert") or {}
        title = title_of(inc)
        body = [f"Model {inc.model} ({inc.env}): {title}"]
        fields: list[tuple[str, str]] = []
        if alert.get("name"):
            summary = (alert.get("annotations") or {}).get("summary") or ""
            body.append(f"Alert {alert['name']}" + (f": {summary}" if summary else ""))
            fields.append(("Alert", str(alert["name"])))
        if p.get("runbook"):
            body.append(f"Runbook: {p['runbook']}")
            fields.append(("Runbook", str(p["runbook"])))
        body.append(f"Opened by {e.actor} at {e.ts:%H:%M} UTC")
        sev = p.get("severity") or inc.severity
        headline = f"{sev} {iid} opened — {inc.model}: {title}"
        return Draft(Topic.OPENED, headline, tuple(body), tuple(fields))
    if kind == EventKind.INCIDENT_UPDATED:
        new = p.get("severity")
        if not new or new == facts.severity:
            return None
        return Draft(
            Topic.SEVERITY,
            f"{iid} severity {facts.severity} → {new} — {inc.model}: {title_of(inc)}",
            (f"Changed by {e.actor}: {e.message}",),
        )
    if kind == EventKind.INCIDENT_ACKNOWLEDGED:
        return Draft(Topic.ACKNOWLEDGED, f"{iid} {e.message}", (f"At {e.ts:%H:%M} UTC",))
    if kind == EventKind.ACTION_REQUESTED and _on_production(p):
        plan = p.get("plan") or {}
        summary = str(plan.get("summary") or e.message)
        body = []
        if plan.get("rule") or plan.get("why"):
            body.append(" — ".join(str(x) for x in (plan.get("rule"), plan.get("why")) if x))
        for w in plan.get("warnings") or ():
            body.append(f"Warning: {w.get('message')}")
        if p.get("reason"):
            body.append(f"Reason: {p['reason']}")
        body.append(f"By {e.actor}; the result follows (APPLIED only when read back)")
        return Draft(Topic.MITIGATION, f"{iid} mitigation starting: {summary}", tuple(body))
    if kind == EventKind.ACTION_FINISHED and _on_production(p):
        moved = f"{p['from']} → {p['to']}" if p.get("from") and p.get("to") else ""
        body = ["Production read back as planned"] + ([f"Version {moved}"] if moved else [])
        body.append("Watching for recovery next: the impact is not known to have stopped yet")
        return Draft(Topic.APPLIED, f"{iid} APPLIED: {e.message}", tuple(body))
    if kind in (EventKind.ACTION_FAILED, EventKind.ACTION_PARTIAL, EventKind.ACTION_INTERRUPTED):
        if not _on_production(p):
            return None
        word = {
            EventKind.ACTION_FAILED: "FAILED",
            EventKind.ACTION_PARTIAL: "PARTIALLY APPLIED",
            EventKind.ACTION_INTERRUPTED: "INTERRUPTED",
        }[EventKind(kind)]
        body = [e.message]
        if p.get("finish"):
            body.append(f"Finish: {p['finish']}")
        if p.get("undo"):
            body.append(f"Undo: {p['undo']}")
        plan = facts.plans.get(str(p.get("action_id")), {})
        what = plan.get("summary") or p.get("action")
        return Draft(Topic.ACTION_FAILED, f"{iid} {word}: {what}", tuple(body))
    if kind == EventKind.INCIDENT_MITIGATED:
        if p.get("implied_by"):
            return None  # resolved without an observed recovery: RECOVERED would overstate it
        text = e.message.removeprefix("mitigated: ")
        return Draft(Topic.RECOVERED, f"{iid} RECOVERED: impact stopped — {text}", ())
    if kind == EventKind.RECOVERY_NOT_RECOVERED:
        opts = p.get("next_options") or []
        return Draft(Topic.NOT_RECOVERED, f"{iid} {e.message}", tuple(f"Next: {o}" for o in opts))
    if kind == EventKind.INCIDENT_RESOLVED:
        body = [e.message] if e.message and e.message != "resolved" else []
        if inc.detected_at is not None:
            minutes = (e.ts - inc.detected_at).total_seconds() / 60.0
            body.append(f"Resolved {minutes:.0f} min after detection")
        headline = f"{iid} resolved — {inc.model}: {title_of(inc)}"
        return Draft(Topic.RESOLVED, headline, tuple(body))
    if kind == EventKind.POSTMORTEM_PUBLISHED:
        link = p.get("link") or (postmortem_url.format(incident=iid) if postmortem_url else None)
        link = link or p.get("path")
        return Draft(
            Topic.POSTMORTEM,
            f"{iid} post-mortem written by {e.actor}",
            (f"Format: {p.get('format') or 'md'}",),
            link=str(link) if link else None,
        )
    if kind == EventKind.NOTE and p.get("tag") == "update":
        return Draft(Topic.UPDATE, f"{iid} update from {e.actor}", (e.message,))
    return None
