"""The lineage check: what moved between two versions — code, data, features, params,
environment — and whether anything was deployed or promoted shortly before the onset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.errors import InvalidInput
from console.runbooks.context import StepContext
from console.runbooks.registry import CheckOutcome, Param, check


def _last_deploy(ctx: StepContext, before: datetime) -> tuple[datetime | None, str | None]:
    """The last time the production pointer moved at or before ``before`` (the onset):
    what the incident's own mitigation did afterwards is not a suspect."""
    from console.actions.history import production_history

    history = [h for h in production_history(ctx.ws, ctx.model) if h[0] <= before]
    return (history[-1][0], history[-1][1]) if history else (None, None)


def _stage_changes(ctx: StepContext, anchor: datetime, window: float) -> list[dict[str, Any]]:
    """Versions moved to Canary, Shadow or Production within ``window`` hours before the
    onset (a canary taking traffic is a deploy too)."""
    out = []
    for c in ctx.backends.registry.stage_history(ctx.model):
        hours = (anchor - c.at).total_seconds() / 3600.0
        if c.to_stage in ("Canary", "Shadow", "Production") and 0 <= hours <= window:
            out.append(
                {
                    "version": c.version,
                    "stage": c.to_stage,
                    "hours_before": hours,
                    "at": c.at.isoformat(),
                    "actor": c.actor,
                }
            )
    return out


@check(
    "lineage_diff",
    params={
        "from": Param("string", False, "older version (default: the previous good one)"),
        "to": Param("string", False, "newer version (default: production)"),
        "window_hours": Param("number", False, "a deploy this recent counts as a suspect (24)"),
    },
)
def lineage_diff(ctx: StepContext, params: dict[str, Any]) -> CheckOutcome:
    """What moved between two versions (code, data, features, params, environment) and
    whether anything was deployed shortly before the onset: code, data or model?"""
    from console.diagnostics.lineage import lineage_diff as diff_lineage

    versions = ctx.versions()
    new = params.get("to") or versions["production"]
    old = params.get("from") or versions["previous"]
    if not new or not old:
        raise InvalidInput(
            f"{ctx.model} has no two versions to compare", hint="name them with params from: / to:"
        )
    reg = ctx.backends.registry
    diff = diff_lineage(
        reg.version(ctx.model, old).lineage.to_dict(), reg.version(ctx.model, new).lineage.to_dict()
    )
    anchor = ctx.onset() or ctx.incident.detected_at or ctx.now()
    deployed_at, deployed = _last_deploy(ctx, anchor)
    window = float(params.get("window_hours", 24.0))
    hours = None if deployed_at is None else (anchor - deployed_at).total_seconds() / 3600.0
    recent = hours is not None and 0 <= hours <= window
    if recent:
        lead = f"{deployed} was deployed {hours:.1f} h before the onset — a code/model suspect"
    elif hours is not None:
        lead = (
            f"nothing deployed in the {window:g} h before the onset ({deployed} in "
            f"production for {hours / 24:.1f} days): the data or the world moved"
        )
    else:
        lead = "no deployment history"
    staged = _stage_changes(ctx, anchor, window)
    if staged:
        lead += "; registry changes before the onset: " + ", ".join(
            f"{c['version']} → {c['stage']} {c['hours_before']:.1f} h before" for c in staged
        )
    moved = ", ".join(diff.moved) or "nothing"
    return CheckOutcome(
        f"{lead}; {old} → {new} moved: {moved}",
        {
            "deployed_recently": recent,
            "hours_since_deploy": hours,
            "from": old,
            "to": new,
            "material": diff.material,
            "moved": list(diff.moved),
            "code_changed": "code" in diff.moved,
            "data_changed": "data" in diff.moved,
            "environment_changed": "environment" in diff.moved,
            "staged_recently": [c["version"] for c in staged],
        },
        {
            **diff.to_dict(),
            "from": old,
            "to": new,
            "last_deploy": deployed,
            "last_deploy_at": deployed_at.isoformat() if deployed_at else None,
            "hours_since_deploy": hours,
            "stage_changes": staged,
        },
        not recent,
    )
