"""The built-in checks. Each is ``fn(ctx: StepContext, params) -> CheckOutcome`` registered
in ``console.runbooks.registry.CHECKS``; heavy imports happen inside the functions."""

from console.runbooks.checks import data, lineage, outputs, recovery, signals

__all__ = ["data", "lineage", "outputs", "recovery", "signals"]
