"""What a step sees: the incident, the model's versions, thresholds, earlier results — for
Jinja text and conditions — and, for checks, the data windows to compare.

Windows: the *reference* window is prediction-log and metric data from before the incident
(``reference_hours`` ending at the onset when it is known, else one hour before detection);
the *current* window runs from the onset (when known, at most ``current_hours`` back) to now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from console.clock import ManualClock, parse_ts
from console.store import Incident
from console.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from console.runbooks.model import Runbook, Step

#: Columns of a prediction log that are bookkeeping, not model inputs.
CORE_COLUMNS = ("tick", "row", "ts", "version", "prediction", "label", "score")


def incident_onset(incident: Incident) -> datetime | None:
    """The onset of impact: the incident's own, else a drill's or demo's injected facts."""
    if incident.onset_at is not None:
        return incident.onset_at
    onset = (incident.data.get("facts") or {}).get("onset")
    if isinstance(onset, str):
        try:
            return parse_ts(onset)
        except ValueError:
            return None
    return onset if isinstance(onset, datetime) else None


@dataclass
class StepContext:
    ws: Workspace
    incident: Incident
    step: Step | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    _versions: dict[str, str | None] | None = None

    # ---- basics ------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.incident.model

    @property
    def backends(self):
        return self.ws.backends

    def now(self) -> datetime:
        return self.ws.now()

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.ws.config.thresholds)

    @property
    def facts(self) -> dict[str, Any]:
        return dict(self.incident.data.get("facts") or {})

    @property
    def manual_clock(self) -> ManualClock | None:
        clock = self.ws.clock
        return clock if isinstance(clock, ManualClock) else None

    def versions(self) -> dict[str, str | None]:
        """``production`` (the pointer now), ``previous`` (where a rollback goes now — the
        rollback planner's own target, so a step's title never names another version than
        the plan the person is shown)."""
        if self._versions is None:
            from console.actions.targets import choose_target
            from console.errors import RollbookError

            try:
                prod = self.backends.registry.production_version(self.model)
                routes = self.backends.traffic.routes(self.model)
            except RollbookError:
                prod, routes = None, {}
            try:
                prev: str | None = choose_target(self.ws, self.model, prod, routes)[0]
            except RollbookError:
                prev = None
            self._versions = {
                "production": prod,
                "previous": prev,
                "bad": self.facts.get("bad_version"),
                "good": self.facts.get("good_version"),
            }
        return self._versions

    # ---- windows -----------------------------------------------------------------------
    def onset(self) -> datetime | None:
        return incident_onset(self.incident)

    def reference_window(self, hours: float = 6.0) -> tuple[datetime, datetime]:
        onset = self.onset()
        detected = self.incident.detected_at or self.now()
        end = onset if onset is not None else detected - timedelta(hours=1)
        end = min(end, detected)
        return end - timedelta(hours=hours), end

    def current_window(self, hours: float = 1.0) -> tuple[datetime, datetime]:
        now = self.now()
        start = now - timedelta(hours=hours)
        onset = self.onset()
        if onset is not None and start < onset < now:
            start = onset
        return start, now

    def samples(
        self,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        limit: int | None = 50_000,
    ) -> pd.DataFrame:
        from console.errors import BackendError

        log = self.backends.predictions
        if log is None:
            raise BackendError(
                f"environment {self.ws.env.name!r} has no prediction log",
                hint="configure a predictions plugin for this environment",
            )
        return log.samples(self.model, start, end, version=version, limit=limit)

    def model_info(self):
        for m in self.backends.registry.models():
            if m.name == self.model:
                return m
        return None

    # ---- Jinja -------------------------------------------------------------------------
    def jinja(
        self, runbook: Runbook | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        inc = self.incident
        return {
            "incident": inc.to_dict(),
            "model": inc.model,
            "versions": self.versions(),
            "thresholds": self.thresholds,
            "params": params or {},
            "results": _Results(self.results),
            "evidence": inc.data.get("evidence", []),
            "alert": inc.data.get("alert", {}),
            "facts": self.facts,
            "scenario": inc.data.get("scenario"),
            "drill": inc.drill,
            # the environment is a simulated world (the demo, drills): faults can be "fixed"
            "simulated": self.backends.world is not None,
            "runbook": {"id": runbook.id, "title": runbook.title} if runbook else {},
            "now": self.now().isoformat(),
        }


class StepResultView:
    """``results.<step id>`` in Jinja: attributes, so ``results.x.values.y`` reads the step's
    values rather than a dict method called ``values``."""

    __slots__ = ("state", "summary", "values", "evidence", "answer", "note", "passed", "failed")

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        self.state = data.get("state", "pending")
        self.summary = data.get("summary", "")
        self.values = dict(data.get("values") or {})
        self.evidence = dict(data.get("evidence") or {})
        self.answer = data.get("answer")
        self.note = data.get("note")
        self.passed = self.state == "passed"
        self.failed = self.state == "failed"

    def __repr__(self) -> str:
        return f"<result {self.state}: {self.summary}>"


class _Results(dict):
    """Results by step id; an id that has not run yet reads as an empty pending result."""

    def __init__(self, results: dict[str, dict[str, Any]]) -> None:
        super().__init__({k: StepResultView(v) for k, v in results.items()})

    def __missing__(self, key: str) -> StepResultView:
        return StepResultView()
