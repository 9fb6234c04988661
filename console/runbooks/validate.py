"""The runbook schema, as explicit checks: every problem becomes ``file:line: field: message``.

Validation never stops at the first problem: a runbook author sees them all at once. A
runbook with any problem is not built (``check_parsed`` returns None for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.runbooks import flow
from console.runbooks.model import (
    END,
    MARKS,
    PHASES,
    SEVERITIES,
    STEP_KINDS,
    Runbook,
    Selector,
    Step,
)
from console.runbooks.source import Parsed, Problem
from console.runbooks.validate_base import ID_RE
from console.runbooks.validate_steps import StepKindChecks

TOP_KEYS = {
    "id": True,
    "title": True,
    "description": True,
    "severity": True,
    "select": True,
    "phases": True,
    "drill": False,
    "simulated": False,
}
SELECT_KEYS = ("alerts", "labels", "models", "scenarios", "fallback")
DRILL_KEYS = ("scenario", "targets")
DRILL_TARGETS = (
    "detect_minutes",
    "acknowledge_minutes",
    "mitigation_applied_minutes",
    "mitigate_minutes",
)
COMMON_KEYS = ("id", "kind", "title", "text", "marks", "goto", "when")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "check": ("check", "params", "pass_if", "stop_on_fail", "timeout"),
    "action": ("action", "params", "automatic", "stop_on_fail", "timeout"),
    "manual": ("require_note", "action_items"),
    "decision": ("options", "auto"),
    "note": ("tag", "auto_text", "require_note"),
}


class _Checker(StepKindChecks):
    def runbook(self, data: Any) -> Runbook | None:
        if not isinstance(data, dict):
            self.add(
                (),
                f"a runbook is a mapping with keys {', '.join(TOP_KEYS)}, got "
                f"{type(data).__name__}",
            )
            return None
        self.keys((), data, set(TOP_KEYS), tuple(k for k, req in TOP_KEYS.items() if req))
        rid = data.get("id")
        if (
            rid is not None
            and self.typed(("id",), rid, str, "a runbook id")
            and not ID_RE.match(rid)
        ):
            self.add(("id",), "ids use lowercase letters, digits, '-' and '_'")
        title = self.text(("title",), data.get("title"), required="title" in data)
        desc = self.text(("description",), data.get("description"), required="description" in data)
        severity = data.get("severity", "SEV3")
        if "severity" in data and severity not in SEVERITIES:
            self.add(("severity",), f"must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        selector = self.selector(data.get("select")) if "select" in data else Selector()
        targets = self.drill(data.get("drill")) if "drill" in data else {}
        steps = self.phases(data.get("phases")) if "phases" in data else []
        if self.problems or not isinstance(rid, str):  # a missing or bad id is a problem
            return None
        return Runbook(rid, title, desc, severity, selector, tuple(steps), drill_targets=targets)

    def selector(self, raw: Any) -> Selector:
        path = ("select",)
        if not self.typed(
            path, raw, dict, "a mapping (alerts, labels, models, scenarios, fallback)"
        ):
            return Selector()
        self.keys(path, raw, SELECT_KEYS)
        labels: dict[str, tuple[str, ...]] = {}
        if "labels" in raw and self.typed(
            (*path, "labels"), raw["labels"], dict, "a mapping of label = value(s)"
        ):
            for key, value in raw["labels"].items():
                labels[str(key)] = self.string_list((*path, "labels", key), value)
        fallback = raw.get("fallback", False)
        self.typed((*path, "fallback"), fallback, bool, "true or false")
        sel = Selector(
            alerts=self.string_list((*path, "alerts"), raw["alerts"]) if "alerts" in raw else (),
            labels=labels,
            models=self.string_list((*path, "models"), raw["models"]) if "models" in raw else (),
            scenarios=self.string_list((*path, "scenarios"), raw["scenarios"])
            if "scenarios" in raw
            else (),
            fallback=bool(fallback),
        )
        if not (sel.alerts or sel.labels or sel.models or sel.scenarios or sel.fallback):
            self.add(
                path,
                "selects nothing: name alerts, labels, models or scenarios, or set fallback: true",
            )
        return sel

    def drill(self, raw: Any) -> dict[str, float]:
        path = ("drill",)
        if not self.typed(path, raw, dict, "a mapping (scenario, targets)"):
            return {}
        self.keys(path, raw, DRILL_KEYS)
        if "scenario" in raw:
            self.typed((*path, "scenario"), raw["scenario"], str, "a scenario name")
        out: dict[str, float] = {}
        targets = raw.get("targets", {})
        if self.typed((*path, "targets"), targets, dict, "a mapping of target = minutes"):
            self.keys((*path, "targets"), targets, DRILL_TARGETS)
            for key, value in targets.items():
                if key in DRILL_TARGETS and self.typed(
                    (*path, "targets", key), value, (int, float), "minutes"
                ):
                    out[key] = float(value)
        return out

    # ---- phases and steps --------------------------------------------------------------
    def phases(self, raw: Any) -> list[Step]:
        path = ("phases",)
        if not self.typed(path, raw, dict, f"a mapping of the six phases ({', '.join(PHASES)})"):
            return []
        for name in raw:
            if name not in PHASES:
                self.add((*path, name), f"unknown phase (phases: {', '.join(PHASES)})")
        raw_steps: list[tuple[str, int, dict]] = []
        for phase in PHASES:
            if phase not in raw:
                self.add(
                    path,
                    f"missing phase {phase!r} (every runbook has all six: {', '.join(PHASES)})",
                )
                continue
            items = raw[phase]
            if not isinstance(items, list) or not items:
                self.add((*path, phase), "needs a list of at least one step")
                continue
            for i, item in enumerate(items):
                if self.typed((*path, phase, i), item, dict, "a step (a mapping)"):
                    raw_steps.append((phase, i, item))
        seen: dict[str, tuple] = {}
        for phase, i, item in raw_steps:
            sid = item.get("id")
            if isinstance(sid, str):
                if sid in seen:
                    self.add(
                        (*path, phase, i, "id"),
                        f"duplicate step id {sid!r} (first at line {self.lines.of(seen[sid])})",
                    )
                else:
                    seen[sid] = (*path, phase, i, "id")
        steps = [
            s
            for phase, i, item in raw_steps
            if (s := self.step((*path, phase, i), phase, item, set(seen))) is not None
        ]
        self.flow(raw_steps, seen)
        return steps

    def step(self, path: tuple, phase: str, raw: dict, ids: set[str]) -> Step | None:
        kind = raw.get("kind")
        if kind not in STEP_KINDS:
            self.add(
                (*path, "kind"),
                f"must be one of {', '.join(STEP_KINDS)}, got {kind!r}"
                if "kind" in raw
                else "missing required key 'kind'",
            )
            return None
        self.keys(path, raw, (*COMMON_KEYS, *KIND_KEYS[kind]), ("id", "title"))
        sid = raw.get("id")
        if sid is not None and self.typed((*path, "id"), sid, str, "a step id"):
            if sid == END:
                self.add((*path, "id"), f"{END!r} is reserved (it is the goto that ends a run)")
            elif not ID_RE.match(sid):
                self.add((*path, "id"), "ids use lowercase letters, digits, '-' and '_'")
        title = self.text((*path, "title"), raw.get("title"), required="title" in raw)
        text = self.text((*path, "text"), raw.get("text"))
        marks = raw.get("marks")
        if marks is not None and marks not in MARKS:
            self.add((*path, "marks"), f"must be one of {', '.join(MARKS)}, got {marks!r}")
        elif marks == "mitigated" and kind == "action":
            # mitigated means the impact was seen to stop: an action only applies a change
            self.add(
                (*path, "marks"),
                "an action cannot mark 'mitigated' (the action records mitigation_applied "
                "itself); put `marks: mitigated` on the recovery or alert_cleared check that "
                "observes the signal back",
            )
        goto = raw.get("goto")
        if (
            goto is not None
            and self.typed((*path, "goto"), goto, str, "a step id or 'end'")
            and goto != END
            and goto not in ids
        ):
            self.add((*path, "goto"), f"jumps to unknown step {goto!r}")
        when = raw.get("when")
        if when is not None and self.typed((*path, "when"), when, str, "a Jinja expression"):
            self.template((*path, "when"), when, expression=True)
        step = dict(
            id=sid,
            kind=kind,
            phase=phase,
            title=title,
            text=text,
            line=self.lines.of(path),
            marks=marks,
            goto=goto,
            when=when,
        )
        extra = getattr(self, f"_{kind}")(path, raw, ids)
        if not isinstance(sid, str) or kind not in STEP_KINDS:
            return None
        return Step(**step, **extra)

    def flow(self, raw_steps: list[tuple[str, int, dict]], seen: dict[str, tuple]) -> None:
        valid = [(p, i, s) for p, i, s in raw_steps if isinstance(s.get("id"), str)]
        if len(valid) != len(raw_steps) or len(seen) != len(valid):
            return  # ids are broken; reachability would only repeat those problems
        order = [s["id"] for _, _, s in valid]
        graph = flow.edges([s for _, _, s in valid], order)
        for sid in flow.unreachable(order, graph):
            self.add(
                seen[sid][:-1],
                f"step {sid!r} is unreachable: no path from the first "
                "step leads here (check the gotos before it)",
            )


def check_parsed(
    parsed: Parsed,
    file: str,
    *,
    checks: Mapping[str, Any] | None = None,
    actions: Mapping[str, Any] | None = None,
    templates: bool = True,
) -> tuple[Runbook | None, list[Problem]]:
    """Validate parsed YAML; returns the Runbook (None when there is any problem) and the
    problems sorted by line. ``templates=False`` checks everything but the Jinja syntax of
    texts and conditions (most of the time a check takes), for a library that checks that
    when the runbook is first used."""
    if checks is None or actions is None:
        from console.runbooks.registry import load_registries

        checks, actions = load_registries()
    if parsed.data is None and parsed.problems:  # unreadable; a `null` document is checked
        return None, list(parsed.problems)
    checker = _Checker(parsed, file, checks, actions, templates=templates)
    runbook = checker.runbook(parsed.data)
    problems = sorted(checker.problems, key=lambda p: (p.line, p.field))
    return (runbook if not problems else None), problems
