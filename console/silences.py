"""Silences (e.g. during a drill), recorded on the timeline with their author and comment.

The metrics plugin does the work when it can (capability ``silences``: the ``prometheus``
plugin with ``alertmanager_url``, the ``alertmanager`` plugin, or the ``embedded`` world);
the core validates the matchers and records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from console.errors import ActionRefused, InvalidInput

if TYPE_CHECKING:
    from console.workspace import Workspace

_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Silence:
    """A silence as the metrics plugins report it (Alertmanager's fields)."""

    id: str
    matchers: tuple[str, ...]
    starts_at: datetime | None
    ends_at: datetime | None
    created_by: str
    comment: str
    state: str  # active | pending | expired

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": list(self.matchers),
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "created_by": self.created_by,
            "comment": self.comment,
            "state": self.state,
        }


@dataclass(frozen=True)
class Matcher:
    """One Alertmanager-style label matcher. A label the alert lacks reads as ``""``;
    regexes match the whole value (Alertmanager anchors them)."""

    name: str
    op: str  # = | != | =~ | !~
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        have = str(labels.get(self.name, ""))
        if self.op in ("=", "!="):
            hit = have == self.value
        else:
            hit = re.fullmatch(self.value, have) is not None
        return hit if self.op in ("=", "=~") else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    """``alertname=ModelErrorRateHigh``, ``model!=churn``, ``severity=~"crit.*"`` → a
    ``Matcher`` (quotes around the value are optional). Raises ``InvalidInput`` for anything
    else, and for a regex that does not compile."""
    m = _MATCHER.match(text)
    if not m:
        raise InvalidInput(
            f"bad matcher {text!r}",
            hint="write LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX",
        )
    name, op, value = m.groups()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise InvalidInput(f"bad regex in matcher {text!r}: {exc}") from None
    return Matcher(name, op, value)


def parse_matchers(texts: list[str] | tuple[str, ...]) -> list[Matcher]:
    """Every matcher parsed (at least one), before any backend is called."""
    if not texts:
        raise InvalidInput(
            "a silence needs at least one matcher",
            hint="e.g. --match alertname=ModelErrorRateHigh",
        )
    return [parse_matcher(t) for t in texts]


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"2h"``, ``"1h30m"``, ``"1d"`` → timedelta (must be > 0)."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise InvalidInput(f"bad duration {text!r}", hint="e.g. 30m, 2h, 1h30m, 1d")
    seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    if seconds <= 0:
        raise InvalidInput("a silence needs a positive duration")
    return timedelta(seconds=seconds)


def _silencer(ws: Workspace):
    m = ws.backends.metrics
    if not callable(getattr(m, "create_silence", None)):
        raise ActionRefused(
            f"the metrics plugin of environment {ws.env.name!r} cannot silence alerts",
            hint="use the prometheus plugin with alertmanager_url, or the alertmanager plugin",
        )
    return m


def _incident(ws: Workspace, incident_id: str | None, matchers: list[str]) -> str | None:
    from console.actions.recorder import incident_for

    if incident_id:
        return incident_for(ws, "", incident_id)
    models = [
        m.split("=", 1)[1].strip("\"'") for m in matchers if re.match(r"^\s*model\s*=[^~]", m)
    ]
    return incident_for(ws, models[0], None) if len(models) == 1 else None


def create_silence(
    ws: Workspace,
    matchers: list[str],
    *,
    comment: str,
    duration: timedelta,
    incident_id: str | None = None,
) -> dict[str, Any]:
    """Create a silence and append ``silence.created`` to the incident's timeline (the one
    given, else the open incident of the ``model=`` matcher's model, else a standalone
    audit record)."""
    if ws.env.read_only:
        raise ActionRefused(f"environment {ws.env.name!r} is read-only: silence refused")
    if not comment.strip():
        raise InvalidInput(
            "a silence needs a comment saying why", hint='--comment "drill: rollback of churn"'
        )
    parse_matchers(matchers)
    m = _silencer(ws)
    inc = _incident(ws, incident_id, matchers)
    sid = m.create_silence(
        list(matchers), author=ws.actor, comment=comment.strip(), duration=duration
    )
    now = ws.now()
    record = {
        "silence_id": sid,
        "matchers": list(matchers),
        "author": ws.actor,
        "comment": comment.strip(),
        "starts_at": now.isoformat(),
        "ends_at": (now + duration).isoformat(),
        "duration_s": duration.total_seconds(),
    }
    ws.store.append(
        inc,
        "silence.created",
        f"silenced {', '.join(matchers)} for {_fmt(duration)} ({ws.actor}: {comment.strip()})",
        actor=ws.actor,
        at=now,
        payload=record,
    )
    return {**record, "incident_id": inc}


def expire_silence(
    ws: Workspace, silence_id: str, *, incident_id: str | None = None, comment: str = ""
) -> dict[str, Any]:
    if ws.env.read_only:
        raise ActionRefused(f"environment {ws.env.name!r} is read-only: expiring refused")
    m = _silencer(ws)
    inc = None
    if incident_id:
        inc = _incident(ws, incident_id, [])
    else:  # record it where the silence was recorded
        for ev in ws.store.events(all_incidents=True, kind_prefix="silence.created"):
            if ev.payload.get("silence_id") == silence_id:
                inc = ev.incident_id
    m.expire_silence(silence_id)
    record = {"silence_id": silence_id, "author": ws.actor, "comment": comment.strip()}
    ws.store.append(
        inc,
        "silence.expired",
        f"silence {silence_id} expired by {ws.actor}"
        + (f": {comment.strip()}" if comment.strip() else ""),
        actor=ws.actor,
        at=ws.now(),
        payload=record,
    )
    return {**record, "incident_id": inc}


def list_silences(ws: Workspace) -> list:
    return list(_silencer(ws).silences())


def _fmt(d: timedelta) -> str:
    s = int(d.total_seconds())
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (sec, "s")) if v) or "0s"
