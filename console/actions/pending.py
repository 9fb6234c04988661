"""Actions that started and never ended — a crash or a kill mid-action. Each is reported
with the exact commands that finish or undo it, until a later action on the same model
ends (which supersedes it), or until its own finish or undo command, run to its last part,
finds nothing left to do (production already is where that command goes)."""

from __future__ import annotations

from typing import Any

from console.workspace import Workspace

TERMINAL = {"finished", "failed", "partial", "noop", "refused"}  # not "interrupted"


def incomplete_actions(ws: Workspace, model: str | None = None) -> list[dict[str, Any]]:
    """Each action that has a ``requested`` event and no terminal one, newest model action
    only: ``{action_id, action, model, incident_id, started_at, plan, finish, undo, state,
    completed_steps, interrupted}``. The finish and undo commands are the ones its plan
    recorded up front."""
    by_id: dict[str, dict[str, Any]] = {}
    last_terminal_seq: dict[str, int] = {}
    noops: list[tuple[int, str, str]] = []  # (seq, model, the command that found nothing to do)
    for ev in ws.store.events(all_incidents=True, kind_prefix="action."):
        p = ev.payload
        aid, kind = p.get("action_id"), ev.kind.removeprefix("action.")
        if not aid:
            continue
        entry = by_id.setdefault(
            aid,
            {
                "action_id": aid,
                "action": p.get("action"),
                "model": p.get("model"),
                "incident_id": ev.incident_id,
                "started_at": ev.ts.isoformat(),
                "steps": [],
                "plan": None,
                "ended": False,
                "seq": ev.seq,
            },
        )
        if kind == "requested":
            entry["plan"] = p.get("plan")
            entry["finish"], entry["undo"] = p.get("finish"), p.get("undo")
        elif kind == "interrupted":
            entry["interrupted"] = ev.message
        elif kind == "step":
            entry["steps"].append(p.get("step", {}))
        elif kind in TERMINAL:
            entry["ended"] = True
            if kind == "noop" and p.get("command"):
                noops.append((ev.seq, str(p.get("model")), str(p["command"])))
            # only an action that went ahead (was requested) supersedes an unfinished one: a
            # refusal or a no-op changed nothing, and must not hide it
            if entry["plan"] is not None:
                last_terminal_seq[str(p.get("model"))] = ev.seq
    out = []
    for entry in by_id.values():
        if entry["ended"] or entry["plan"] is None:
            continue
        if model and entry["model"] != model:
            continue
        if last_terminal_seq.get(str(entry["model"]), 0) > entry["seq"]:
            continue  # a later action on this model ended: superseded
        if _settled_by_noop(entry, noops):
            continue
        entry.setdefault("finish", None)
        entry.setdefault("undo", None)
        entry.setdefault("interrupted", None)
        done = [s.get("name") for s in entry["steps"] if s.get("ok")]
        entry["state"] = "partially applied" if done else "started, nothing confirmed changed"
        entry["completed_steps"] = done
        out.append(entry)
    return out


def _settled_by_noop(entry: dict[str, Any], noops: list[tuple[int, str, str]]) -> bool:
    """Whether the last command of ``entry``'s finish or undo (``a && b``: ``b``) was run
    after it and found nothing to do. Only its own commands count: another request's no-op
    says nothing about the parts this action may have changed."""
    ends = {
        line.split("&&")[-1].strip()
        for line in (entry.get("finish"), entry.get("undo"))
        if isinstance(line, str) and line.strip()
    }
    return any(
        seq > entry["seq"] and model == entry["model"] and command in ends
        for seq, model, command in noops
    )
