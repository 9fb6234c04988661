"""Rollback preflight: before anything moves, is the target there, is its artifact the one
its lineage recorded, did its gates pass, does it answer? Each is a ``Check``; a failed one
refuses the rollback unless the person overrides it (``--override NAME``)."""

from __future__ import annotations

from typing import Any

from console.actions.calls import DEFAULT_TIMEOUT_S, call
from console.actions.plan import Check, Plan
from console.errors import ActionRefused, NotFound, RollbookError
from console.workspace import Workspace

OVERRIDABLE = ("exists", "artifact", "gates", "health")


def preflight(
    ws: Workspace,
    model: str,
    target: str,
    overrides: tuple[str, ...] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[Check]:
    """Exists, artifact hash matches lineage, gates passed, healthy — each a Check."""
    unknown = set(overrides) - set(OVERRIDABLE)
    if unknown:
        raise ActionRefused(
            f"cannot override {', '.join(sorted(unknown))}",
            hint=f"overridable checks: {', '.join(OVERRIDABLE)}",
        )
    reg, traffic = ws.backends.registry, ws.backends.traffic

    def check(name: str, ok: bool, detail: str) -> Check:
        return Check(name, ok, detail, overridden=(not ok and name in overrides))

    try:
        mv = call(reg.version, model, target, timeout=timeout, what="registry.version")
    except NotFound:
        names = [v.version for v in call(reg.versions, model, timeout=timeout)]
        return [
            check(
                "exists",
                False,
                f"{model} has no version {target} (versions: {', '.join(names[-8:]) or 'none'})",
            )
        ]
    checks = [check("exists", True, f"{model} {target} is in the registry (stage {mv.stage})")]
    checks.append(_artifact_check(reg, model, target, mv.lineage.artifact_hash, check, timeout))
    failed = mv.lineage.gates_failed
    if failed:
        checks.append(check("gates", False, f"gates failed: {', '.join(failed)}"))
    elif mv.lineage.gates:
        checks.append(check("gates", True, "all gates passed"))
    else:  # a registry set up without gate tags: shown, not blocking
        checks.append(check("gates", True, "gate results not recorded for this version"))
    try:
        h = call(traffic.probe, model, target, timeout=timeout, what="traffic.probe")
        checks.append(
            check("health", h.healthy, h.detail or ("healthy" if h.healthy else "unhealthy"))
        )
    except RollbookError as exc:
        checks.append(check("health", False, f"probe failed: {exc.message}"))
    return checks


def _artifact_check(
    reg: Any, model: str, target: str, recorded: str, check: Any, timeout: float
) -> Check:
    """The stored artifact's hash against the lineage record. A hash that cannot be had
    (none recorded, the registry cannot compute one, or computing it failed or ran out of
    time) passes as "not available", with the reason: it proves nothing either way."""
    unavailable = "artifact hash not available to compare"
    if not recorded:
        # Nothing to compare with: do not make the registry fetch the artifact for nothing.
        return check("artifact", True, f"{unavailable}: the lineage records none")
    try:
        stored = call(reg.artifact_check, model, target, timeout=timeout, what="registry.artifact")
    except RollbookError as exc:
        return check("artifact", True, f"{unavailable}: {exc.message}")
    if stored.value is None:
        return check(
            "artifact", True, unavailable + (f": {stored.reason}" if stored.reason else "")
        )
    if stored.value == recorded:
        return check("artifact", True, "artifact hash matches lineage")
    return check("artifact", False, f"artifact hash {stored.value[:12]} ≠ lineage {recorded[:12]}")


def refusal(plan: Plan) -> str:
    """Why the plan's preflight refuses it, naming every check that can be overridden."""
    bad = [c for c in plan.checks if c.blocking]
    flags = " ".join(f"--override {c.name}" for c in bad if c.name in OVERRIDABLE)
    return (
        "preflight failed: "
        + "; ".join(f"{c.name}: {c.detail}" for c in bad)
        + (f" (override with {flags} if you are sure)" if flags else "")
    )
