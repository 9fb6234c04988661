"""What people write for the channels: stakeholder updates and the published post-mortem.

``post_update`` records a stakeholder update on the incident's timeline (a ``note`` tagged
``update``) — the record first, always — then waits (bounded) while the workspace's
notifications send it, and says where it went. ``publish_postmortem`` records that a
post-mortem file was written (``postmortem.published``) and, for a process without a
workspace (``rollbook postmortem``), sends the environment's notifications once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.enums import EventKind
from console.errors import ActionRefused, InvalidInput
from console.notify.queue import Notification
from console.store import TimelineEvent

if TYPE_CHECKING:
    from console.config import Config
    from console.notify.queue import Store
    from console.workspace import Workspace

UPDATE_TAG = "update"
MAX_UPDATE = 2000  # characters: an update is a few lines for people, not a report


@dataclass
class UpdateResult:
    event: TimelineEvent
    channels: list[str]  # the channels of the environment that take updates
    deliveries: list[Notification] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    drill: bool = False

    @property
    def failed(self) -> bool:
        return any(n.state == "failed" for n in self.deliveries)

    def summary(self) -> str:
        """One line for a person: where the update went (the console's toast)."""
        head = f"update recorded on {self.event.incident_id}"
        if not self.channels:
            return f"{head}; no channel takes updates" + (" for drills" if self.drill else "")
        states = []
        for n in self.deliveries:
            if n.state == "failed":
                states.append(f"{n.channel}: FAILED — {n.error}")
            elif n.state == "sent":
                states.append(f"{n.channel}: sent")
            else:
                states.append(f"{n.channel}: {n.state} (sent by the next rollbook process)")
        return head + (" · " + " · ".join(states) if states else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event.to_dict(),
            "channels": self.channels,
            "drill": self.drill,
            "deliveries": [
                {
                    "channel": n.channel,
                    "notification_id": n.id,
                    "state": n.state,
                    "remote_id": n.remote_id,
                    "thread": n.thread,
                    "attempts": n.attempts,
                    "error": n.error,
                }
                for n in self.deliveries
            ],
            "problems": self.problems,
        }


def post_update(
    ws: Workspace, incident_id: str, text: str, *, wait: float | None = None
) -> UpdateResult:
    """Record ``text`` as a stakeholder update on the incident and let the environment's
    channels send it, waiting at most ``wait`` seconds (default: ``flush_seconds``); what is
    not sent by then stays queued for the next process. Raises ``InvalidInput`` for an empty
    or overlong text, ``NotFound`` for an unknown incident, ``ActionRefused`` for an incident
    of another environment (its channels are that environment's)."""
    body = text.strip()
    if not body:
        raise InvalidInput("an update needs some text")
    if len(body) > MAX_UPDATE:
        raise InvalidInput(
            f"an update is at most {MAX_UPDATE} characters (this one has {len(body)})",
            hint="link to a document for the long version",
        )
    inc = ws.store.get(incident_id)
    if inc.env != ws.env.name:
        raise ActionRefused(
            f"{inc.id} is an incident of environment {inc.env!r}, not {ws.env.name!r}",
            hint=f"rollbook --env {inc.env} update {inc.id} …",
        )
    ev = ws.store.append(
        inc.id, EventKind.NOTE, body, actor=ws.actor, at=ws.now(), payload={"tag": UPDATE_TAG}
    )
    from console.notify.model import Topic

    svc = ws.notifications
    takes = [
        ch.name
        for ch in (svc.channels if svc is not None else ())
        if ch.takes(Topic.UPDATE, drill=inc.drill, severity=inc.severity)
    ]
    result = UpdateResult(ev, takes, drill=inc.drill)
    if svc is None or not takes:
        return result
    svc.flush(wait)
    result.deliveries = svc.outcome([n.id for n in svc.ledger.of_source(ev.seq)])
    result.problems = list(svc.problems)
    return result


def publish_postmortem(
    config: Config,
    store: Store,
    incident_id: str,
    *,
    path: Path,
    fmt: str,
    actor: str,
    now: datetime,
    link: str | None = None,
) -> TimelineEvent:
    """Record that the post-mortem was written to ``path`` (``postmortem.published``), then
    send the incident environment's notifications (bounded by its ``flush_seconds``) — this
    process has no workspace whose notifications would."""
    from console.notify.queue import stamp

    inc = store.get(incident_id)
    ev = store.append(
        inc.id,
        EventKind.POSTMORTEM_PUBLISHED,
        f"post-mortem written to {path}",
        actor=actor,
        at=stamp(store, inc.id, now),
        payload={"path": str(path), "format": fmt, "link": link},
    )
    env = config.envs.get(inc.env)
    if env is not None and env.notify:
        from console.notify.channels import open_channels
        from console.notify.service import NotifyService

        when = ev.ts
        svc = NotifyService(store, env.name, open_channels(config, env), env.notify, lambda: when)
        svc.start().stop()
    return ev
