"""ActionRecorder: the timeline side of an action, one event per step, committed before the
next step starts so a crash leaves an exact trace of how far it got."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from console.workspace import Workspace


@dataclass
class StepRecord:
    name: str
    ok: bool
    duration_ms: float
    before: Any = None
    after: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "duration_ms": round(self.duration_ms, 2),
            "before": self.before,
            "after": self.after,
            "error": self.error,
        }


@dataclass
class ActionRecorder:
    ws: Workspace
    action: str
    model: str
    incident_id: str | None
    action_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    steps: list[StepRecord] = field(default_factory=list)

    def event(self, kind: str, message: str, **payload: Any) -> None:
        self.ws.store.append(
            self.incident_id,
            f"action.{kind}",
            message,
            actor=self.ws.actor,  # the time is read inside the store's append lock
            payload={
                "action_id": self.action_id,
                "action": self.action,
                "model": self.model,
                **payload,
            },
        )

    @contextmanager
    def step(self, name: str, before: Any = None) -> Iterator[StepRecord]:
        rec = StepRecord(name, ok=False, duration_ms=0.0, before=before)
        start = time.perf_counter()
        try:
            yield rec
            rec.ok = True
        except Exception as exc:
            rec.error = str(exc)
            raise
        finally:
            rec.duration_ms = (time.perf_counter() - start) * 1000
            self.steps.append(rec)
            self.event(
                "step",
                f"{name}: {'ok' if rec.ok else 'FAILED ' + str(rec.error)}",
                **{"step": rec.to_dict()},
            )


def incident_for(ws: Workspace, model: str, incident_id: str | None) -> str | None:
    """The incident an action is recorded on: the one given, else the model's only open
    incident in this environment, else None (a standalone audit record)."""
    if incident_id:
        return ws.store.get(incident_id.upper()).id
    open_ = ws.store.list(open_only=True, model=model, env=ws.env.name)
    return open_[-1].id if open_ else None
