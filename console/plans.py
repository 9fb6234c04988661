"""An action's plan as lines a person reads (the CLI's `run` and the console's confirmation
show the same thing): no braces, quotes or True/False."""

from __future__ import annotations


def plain(value) -> str:
    """A value as a person reads it: no braces, quotes or True/False; numbers to 4
    significant digits; timestamps as HH:MM:SS."""
    from datetime import datetime

    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return f"{value:%H:%M:%S}"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return f"{datetime.fromisoformat(value):%H:%M:%S}"
        except ValueError:
            return value
    if isinstance(value, dict):
        if set(value) == {"at", "value"}:  # a point of a series
            return f"{plain(value['at'])} {plain(value['value'])}"
        return ", ".join(f"{k}: {plain(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "—"
    return "—" if value is None else str(value)


def plan_lines(plan: dict | None) -> list[str]:
    if not plan:
        return ["(no plan details)"]
    out = []
    if plan.get("summary"):
        out.append(str(plan["summary"]))
    from console.fleet import format_routes

    for key in (
        "from",
        "to",
        "level",
        "route",
        "traffic_before",
        "traffic_after",
        "model",
        "message",
    ):
        if plan.get(key) is not None:
            value = plan[key]
            shown = (
                format_routes(value)
                if key.startswith("traffic_") and isinstance(value, dict)
                else plain(value)
            )
            out.append(f"{key:<15} {shown}")
    for c in plan.get("checks") or []:
        if isinstance(c, dict):
            mark = (
                "✔ PASS" if c.get("ok") else ("⚑ OVERRIDDEN" if c.get("overridden") else "✖ FAIL")
            )
            out.append(f"  {mark:<8} {c.get('name', ''):<18} {c.get('detail', '')}")
    for key in ("before", "after"):
        if isinstance(plan.get(key), dict):
            out.append(f"{key:<15} {plain(plan[key])}")
    inner = plan.get("plan")
    if isinstance(inner, dict):
        out += [ln for ln in plan_lines(inner) if ln not in out and ln != "(no plan details)"]
    return out or [plain({k: v for k, v in plan.items() if k != "status"})]
