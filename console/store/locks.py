"""One mitigation at a time per model, across the team: who holds a model's lock, since when.

The lock belongs to the acting *process*, so it goes away with it — a person whose console
crashed mid-rollback never blocks the team; the next person sees the unfinished action
instead (``rollbook audit pending``). SQLite: an ``flock`` on a file per model beside the
database (the kernel releases it when the process dies), the holder written into the file.
PostgreSQL: a session advisory lock (released when the connection drops), the holder named
by the session's ``application_name`` — read from the lock's own session, never from a row
that may not be committed yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.clock import parse_ts


@dataclass(frozen=True)
class LockHolder:
    person: str
    action: str
    since: datetime

    def describe(self, model: str) -> str:
        return f"{self.action} of {model} in progress by {self.person} since {self.since:%H:%M:%S}"

    def encode(self) -> str:
        return json.dumps(
            {"person": self.person, "action": self.action, "since": self.since.isoformat()}
        )

    @classmethod
    def decode(cls, text: str) -> LockHolder | None:
        try:
            d: dict[str, Any] = json.loads(text)
            return cls(str(d["person"]), str(d["action"]), parse_ts(str(d["since"])))
        except (ValueError, KeyError, TypeError):
            return None

    def app_name(self) -> str:
        """For PostgreSQL's ``application_name`` (63 bytes at most)."""
        return f"rollbook|{self.action[:16]}|{self.since.isoformat()}|{self.person}"[:63]

    @classmethod
    def from_app_name(cls, name: str) -> LockHolder | None:
        parts = name.split("|", 3)
        if len(parts) != 4 or parts[0] != "rollbook":
            return None
        try:
            return cls(parts[3], parts[1], parse_ts(parts[2]))
        except ValueError:
            return None
