"""The runbook schema, as explicit checks: every problem becomes ``file:line: field: message``.

Validation never stops at the first problem: a runbook author sees them all at once. A
runbook with any problem is not built (``build`` returns None).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from console.runbooks import flow, templating
from console.runbooks.model import (
    ACTION_ITEM_TYPES,
    END,
    MARKS,
    NOTE_TAGS,
    PHASES,
    SEVERITIES,
    STEP_KINDS,
    ActionItem,
    Option,
    Runbook,
    Selector,
    Step,
)
from console.runbooks.registry import Param
from console.runbooks.source import Lines, Parsed, Problem, dotted

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TOP_KEYS = {
    "id": True,
    "title": True,
    "description": True,
    "severity": True,
    "select": True,
    "phases": True,
    "drill": False,
}
SELECT_KEYS = ("alerts", "labels", "models", "scenarios", "fallback")
DRILL_KEYS = ("scenario", "targets")
DRILL_TARGETS = ("detect_minutes", "acknowledge_minutes", "mitigate_minutes")
COMMON_KEYS = ("id", "kind", "title", "text", "marks", "goto", "when")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "check": ("check", "params", "pass_if", "stop_on_fail", "timeout"),
    "action": ("action", "params", "automatic", "stop_on_fail", "timeout"),
    "manual": ("require_note", "action_items"),
    "decision": ("options", "auto"),
    "note": ("tag", "auto_text", "require_note"),
}
OPTION_KEYS = ("id", "label", "goto", "description")
ITEM_KEYS = ("what", "type", "owner", "due_days", "link")
_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "string": (str,),
    "bool": (bool,),
    "list": (list,),
    "mapping": (dict,),
}


class _Checker:
    def __init__(
        self, parsed: Parsed, file: str, checks: Mapping[str, Any], actions: Mapping[str, Any]
    ) -> None:
        self.lines: Lines = parsed.lines
        self.file = file
        self.problems: list[Problem] = list(parsed.problems)
        self.checks = checks
        self.actions = actions

    def add(self, path: tuple, message: str, *, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, line or self.lines.of(path), dotted(path), message))

    # ---- generic helpers ---------------------------------------------------------------
    def typed(self, path: tuple, value: Any, kind: type | tuple[type, ...], what: str) -> bool:
        bad_bool = isinstance(value, bool) and bool not in (
            kind if isinstance(kind, tuple) else (kind,)
        )
        if not isinstance(value, kind) or bad_bool:
            self.add(path, f"expected {what}, got {type(value).__name__} {value!r}")
            return False
        return True

    def keys(
        self,
        path: tuple,
        mapping: dict,
        allowed: tuple[str, ...] | set[str],
        required: tuple[str, ...] = (),
    ) -> None:
        for key in mapping:
            if key not in allowed:
                self.add((*path, key), f"unknown key (known here: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in mapping:
                self.add(path, f"missing required key {key!r}")

    def template(self, path: tuple, value: Any, *, expression: bool = False) -> None:
        if not isinstance(value, str):
            return
        err = templating.syntax_error(value, expression=expression)
        if err is not None:
            where, msg = err
            what = "expression" if expression else "template"
            self.add(
                path,
                f"invalid Jinja {what}: {msg}"
                + (f" (line {where} of the text)" if not expression and where > 1 else ""),
            )

    def text(self, path: tuple, value: Any, *, required: bool = False) -> str:
        if value is None:
            if required:
                self.add(path, "missing required text")
            return ""
        if not self.typed(path, value, str, "text"):
            return ""
        if required and not value.strip():
            self.add(path, "must not be empty")
        self.template(path, value)
        return value

    def string_list(self, path: tuple, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not self.typed(path, value, list, "a list of names"):
            return ()
        out = []
        for i, item in enumerate(value):
            if self.typed((*path, i), item, str, "a name"):
                out.append(item)
        return tuple(out)

    # ---- top level ---------------------------------------------------------------------
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
        if self.problems:
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

    def _params(self, path: tuple, raw: dict, spec: Mapping[str, Param] | None) -> dict:
        params = raw.get("params", {})
        if not self.typed((*path, "params"), params, dict, "a mapping of parameters"):
            return {}
        for key, value in params.items():
            ppath = (*path, "params", key)
            self.template(ppath, value)
            if isinstance(value, list | dict):
                for sub in value if isinstance(value, list) else value.values():
                    self.template(ppath, sub)
            if spec is None:
                continue
            p = spec.get(key)
            if p is None:
                known = ", ".join(sorted(spec)) or "none"
                self.add(ppath, f"unknown parameter (known: {known})")
            elif p.kind in _TYPES and not templating.is_templated(value):
                self.typed(ppath, value, _TYPES[p.kind], f"a {p.kind}")
        for key, p in (spec or {}).items():
            if p.required and key not in params:
                self.add((*path, "params"), f"missing required parameter {key!r}")
        return params

    def _timeout(self, path: tuple, raw: dict) -> float | None:
        value = raw.get("timeout")
        if value is None:
            return None
        if self.typed((*path, "timeout"), value, (int, float), "seconds") and value <= 0:
            self.add((*path, "timeout"), "must be a positive number of seconds")
        return float(value) if isinstance(value, int | float) else None

    def _flag(self, path: tuple, raw: dict, key: str) -> bool:
        value = raw.get(key, False)
        return bool(self.typed((*path, key), value, bool, "true or false") and value)

    def _check(self, path: tuple, raw: dict, ids: set[str]) -> dict:
        name = raw.get("check")
        spec = None
        if name is None:
            self.add(path, "missing required key 'check' (the name of a check)")
        elif self.typed((*path, "check"), name, str, "a check name"):
            spec = self.checks.get(name)
            if spec is None:
                self.add(
                    (*path, "check"),
                    f"unknown check {name!r} (known: {', '.join(sorted(self.checks))})",
                )
        pass_if = raw.get("pass_if")
        if pass_if is not None and self.typed(
            (*path, "pass_if"), pass_if, str, "a Jinja expression"
        ):
            self.template((*path, "pass_if"), pass_if, expression=True)
        return dict(
            name=name,
            params=self._params(path, raw, spec.params if spec else None),
            pass_if=pass_if,
            stop_on_fail=self._flag(path, raw, "stop_on_fail"),
            timeout_s=self._timeout(path, raw),
        )

    def _action(self, path: tuple, raw: dict, ids: set[str]) -> dict:
        name = raw.get("action")
        spec = None
        if name is None:
            self.add(path, "missing required key 'action' (the name of an action)")
        elif self.typed((*path, "action"), name, str, "an action name"):
            spec = self.actions.get(name)
            if spec is None:
                self.add(
                    (*path, "action"),
                    f"unknown action {name!r} (known: {', '.join(sorted(self.actions))})",
                )
        return dict(
            name=name,
            params=self._params(path, raw, spec.params if spec else None),
            automatic=self._flag(path, raw, "automatic"),
            stop_on_fail=self._flag(path, raw, "stop_on_fail"),
            timeout_s=self._timeout(path, raw),
        )

    def _manual(self, path: tuple, raw: dict, ids: set[str]) -> dict:
        items: list[ActionItem] = []
        value = raw.get("action_items", [])
        if self.typed((*path, "action_items"), value, list, "a list of action items"):
            for i, item in enumerate(value):
                ipath = (*path, "action_items", i)
                if not self.typed(
                    ipath, item, dict, "an action item (what, type, owner, due_days, link)"
                ):
                    continue
                self.keys(ipath, item, ITEM_KEYS, ("what", "type"))
                if "type" in item and item["type"] not in ACTION_ITEM_TYPES:
                    self.add(
                        (*ipath, "type"),
                        f"must be one of {', '.join(ACTION_ITEM_TYPES)}, got {item['type']!r}",
                    )
                due = item.get("due_days", 14)
                if self.typed((*ipath, "due_days"), due, int, "a whole number of days") and due < 0:
                    self.add((*ipath, "due_days"), "must not be negative")
                for key in ("what", "owner", "link"):
                    if key in item:
                        self.text((*ipath, key), item[key], required=key == "what")
                items.append(
                    ActionItem(
                        str(item.get("what", "")),
                        str(item.get("type", "")),
                        str(item.get("owner", "")),
                        due if isinstance(due, int) else 14,
                        str(item.get("link", "")),
                    )
                )
        return dict(require_note=self._flag(path, raw, "require_note"), action_items=tuple(items))

    def _decision(self, path: tuple, raw: dict, ids: set[str]) -> dict:
        options: list[Option] = []
        value = raw.get("options")
        if value is None:
            self.add(path, "missing required key 'options' (a decision needs options)")
        elif self.typed((*path, "options"), value, list, "a list of options"):
            if len(value) < 2:
                self.add((*path, "options"), "a decision needs at least two options")
            seen: set[str] = set()
            for i, opt in enumerate(value):
                opath = (*path, "options", i)
                if not self.typed(opath, opt, dict, "an option (id, label, goto)"):
                    continue
                self.keys(opath, opt, OPTION_KEYS, ("id", "label", "goto"))
                oid, goto = opt.get("id"), opt.get("goto")
                if isinstance(oid, str):
                    if oid in seen:
                        self.add((*opath, "id"), f"duplicate option id {oid!r}")
                    seen.add(oid)
                if (
                    goto is not None
                    and self.typed((*opath, "goto"), goto, str, "a step id or 'end'")
                    and goto != END
                    and goto not in ids
                ):
                    self.add((*opath, "goto"), f"jumps to unknown step {goto!r}")
                label = self.text((*opath, "label"), opt.get("label"), required="label" in opt)
                desc = self.text((*opath, "description"), opt.get("description"))
                options.append(Option(str(oid), label, str(goto), desc))
        if "goto" in raw:
            self.add((*path, "goto"), "a decision jumps through its options, not goto")
        auto = raw.get("auto")
        if auto is not None and self.typed((*path, "auto"), auto, str, "a Jinja expression"):
            self.template((*path, "auto"), auto, expression=True)
        return dict(options=tuple(options), auto=auto)

    def _note(self, path: tuple, raw: dict, ids: set[str]) -> dict:
        tag = raw.get("tag")
        if tag is None:
            self.add(path, f"missing required key 'tag' (one of {', '.join(NOTE_TAGS)})")
        elif tag not in NOTE_TAGS:
            self.add((*path, "tag"), f"must be one of {', '.join(NOTE_TAGS)}, got {tag!r}")
        auto_text = self.text((*path, "auto_text"), raw.get("auto_text")) or None
        required = raw.get("require_note", True)
        self.typed((*path, "require_note"), required, bool, "true or false")
        return dict(tag=tag, auto_text=auto_text, require_note=required is not False)

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
) -> tuple[Runbook | None, list[Problem]]:
    """Validate parsed YAML; returns the Runbook (None when there is any problem) and the
    problems sorted by line."""
    if checks is None or actions is None:
        from console.runbooks.registry import load_registries

        checks, actions = load_registries()
    if parsed.data is None:
        return None, list(parsed.problems)
    checker = _Checker(parsed, file, checks, actions)
    runbook = checker.runbook(parsed.data)
    problems = sorted(checker.problems, key=lambda p: (p.line, p.field))
    return (runbook if not problems else None), problems
