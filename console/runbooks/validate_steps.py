"""Validation of each step kind's own keys: check and action names and parameters,
manual steps' action items, decision options, note tags."""

from __future__ import annotations

from collections.abc import Mapping

from console.runbooks import templating
from console.runbooks.model import ACTION_ITEM_TYPES, END, NOTE_TAGS, ActionItem, Option
from console.runbooks.registry import Param
from console.runbooks.validate_base import CheckerBase

OPTION_KEYS = ("id", "label", "goto", "description")
ITEM_KEYS = ("what", "type", "owner", "due_days", "link")
_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "string": (str,),
    "bool": (bool,),
    "list": (list,),
    "mapping": (dict,),
}


class StepKindChecks(CheckerBase):
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
