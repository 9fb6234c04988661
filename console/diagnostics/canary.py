"""Canary judgement on a rate (CTR, conversion, success): two-proportion z-test, an optional
non-inferiority margin, and the sample size (and days) a decision needs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from console.diagnostics.errors import DiagnosticsInputError
from console.diagnostics.results import finite

Decision = Literal["promote", "rollback", "inconclusive"]
#: The most trials an arm may count: 2**53, the largest count a float holds exactly (the
#: test's rates and standard errors are floats; past it they round, and past ~1e308 overflow).
MAX_TRIALS = 2**53


@dataclass(frozen=True)
class Arm:
    """Successes out of trials for one arm."""

    successes: int
    trials: int

    def __post_init__(self) -> None:
        if self.trials <= 0:
            raise DiagnosticsInputError(f"an arm needs at least one trial, got {self.trials}")
        if self.trials > MAX_TRIALS:
            digits = len(str(self.trials))
            got = f"{self.trials:,}" if digits <= 30 else f"a number of {digits} digits"
            raise DiagnosticsInputError(f"an arm counts at most {MAX_TRIALS:,} trials, got {got}")
        if not 0 <= self.successes <= self.trials:
            raise DiagnosticsInputError(
                f"successes must be between 0 and trials ({self.trials}), got {self.successes}"
            )

    @property
    def rate(self) -> float:
        return self.successes / self.trials

    @classmethod
    def parse(cls, text: str) -> Arm:
        """``"SUCCESSES/TRIALS"`` → :class:`Arm`; raises :class:`DiagnosticsInputError`."""
        try:
            s, n = text.split("/")
            return cls(int(s), int(n))
        except ValueError as exc:
            raise DiagnosticsInputError(
                f"{text!r} is not SUCCESSES/TRIALS", hint="for example 1200/50000"
            ) from exc


@dataclass(frozen=True)
class CanaryResult:
    """``z`` and ``p_value`` are the pooled two-proportion z-test (two-sided) of
    treatment − control; ``significant`` is ``p_value < alpha``. With a margin δ,
    ``non_inferior`` is the one-sided test of H0: p_t − p_c ≤ −δ (unpooled standard error)
    at level ``alpha``; without one it is ``None``. Rates are fractions; ``difference`` is
    treatment − control in rate units (×100 for percentage points)."""

    control_rate: float
    treatment_rate: float
    difference: float
    z: float | None
    p_value: float | None
    significant: bool
    non_inferior: bool | None
    non_inferiority_z: float | None
    non_inferiority_p_value: float | None
    margin: float | None
    alpha: float
    decision: Decision
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "control_rate": self.control_rate,
            "treatment_rate": self.treatment_rate,
            "difference": self.difference,
            "z": finite(self.z),
            "p_value": finite(self.p_value),
            "significant": self.significant,
            "non_inferior": self.non_inferior,
            "non_inferiority_z": finite(self.non_inferiority_z),
            "non_inferiority_p_value": finite(self.non_inferiority_p_value),
            "margin": self.margin,
            "alpha": self.alpha,
            "decision": self.decision,
            "reason": self.reason,
        }


def two_proportion_test(
    control: Arm,
    treatment: Arm,
    *,
    alpha: float = 0.05,
    margin: float | None = None,
    higher_is_better: bool = True,
) -> CanaryResult:
    """Judge a canary (treatment) against the champion (control).

    Decision: with a margin, ``promote`` when non-inferior, ``rollback`` when significantly
    worse, else ``inconclusive``; without one, ``promote`` when significantly better,
    ``rollback`` when significantly worse, else ``inconclusive``. ``higher_is_better=False``
    is for rates where lower is better (errors): "better" and "worse" swap sides.
    When both arms have the same outcome on every trial the variance is zero: ``z`` and
    ``p_value`` are ``None`` and the decision is inconclusive (or promote, with a margin,
    since the arms are equal)."""
    from scipy.stats import norm

    if not 0 < alpha < 1:
        raise DiagnosticsInputError(f"alpha must be in (0, 1), got {alpha}")
    if margin is not None and not 0 <= margin < 1:
        raise DiagnosticsInputError(f"margin must be in [0, 1) (a rate difference), got {margin}")
    pc, pt = control.rate, treatment.rate
    sign = 1.0 if higher_is_better else -1.0
    diff = pt - pc
    pooled = (control.successes + treatment.successes) / (control.trials + treatment.trials)
    se = math.sqrt(pooled * (1 - pooled) * (1 / control.trials + 1 / treatment.trials))
    z = p = None
    significant = False
    if se > 0:
        z = diff / se
        p = float(2 * norm.sf(abs(z)))
        significant = p < alpha
    ni = ni_z = ni_p = None
    if margin is not None:
        se_u = math.sqrt(pt * (1 - pt) / treatment.trials + pc * (1 - pc) / control.trials)
        if se_u > 0:
            ni_z = (sign * diff + margin) / se_u
            ni_p = float(norm.sf(ni_z))
            ni = ni_p < alpha
        else:
            ni = sign * diff + margin > 0
    better = sign * diff > 0
    if z is None and margin is None:
        decision: Decision = "inconclusive"
        reason = "no variance: every trial in both arms had the same outcome"
    elif significant and not better:
        decision, reason = "rollback", f"treatment significantly worse (p = {p:.3g} < {alpha:g})"
    elif margin is not None and ni:
        decision = "promote"
        reason = f"treatment not worse than control by more than {margin:g}" + (
            f" (p = {ni_p:.3g})" if ni_p is not None else ""
        )
    elif margin is None and significant:
        decision, reason = "promote", f"treatment significantly better (p = {p:.3g} < {alpha:g})"
    else:
        decision = "inconclusive"
        reason = (
            "non-inferiority not shown"
            if margin is not None
            else f"no significant difference (p = {p:.3g})"
        )
    return CanaryResult(
        pc, pt, diff, z, p, significant, ni, ni_z, ni_p, margin, alpha, decision, reason
    )


@dataclass(frozen=True)
class SampleSize:
    """Trials needed per arm, and — given daily traffic and the canary's share — how many
    days the smaller arm takes to collect them (``None`` without traffic)."""

    n_per_arm: int
    days: float | None
    baseline: float
    target: float
    alpha: float
    power: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_per_arm": self.n_per_arm,
            "days": finite(self.days),
            "baseline": self.baseline,
            "target": self.target,
            "alpha": self.alpha,
            "power": self.power,
        }


def sample_size(
    baseline: float,
    mde: float,
    *,
    relative: bool = False,
    power: float = 0.8,
    alpha: float = 0.05,
    daily_traffic: float | None = None,
    share: float | None = None,
) -> SampleSize:
    """Per-arm sample size to detect a change of ``mde`` from ``baseline`` (two-sided):
    ``n = (z_{1−α/2}·√(2p̄(1−p̄)) + z_{1−β}·√(p1(1−p1) + p2(1−p2)))² / (p1 − p2)²``,
    rounded up, with ``p1 = baseline``, ``p2 = p1 + mde`` (or ``p1·(1 + mde)`` when
    ``relative``) and ``p̄ = (p1 + p2)/2``. Days = n / (daily_traffic × min(share, 1 − share))
    — the smaller arm decides. Raises :class:`DiagnosticsInputError` for rates outside
    (0, 1), a zero effect or one needing more than ``MAX_TRIALS`` per arm, daily traffic
    that is not a finite number > 0, or a share outside (0, 1). ``days`` is ``inf`` when the
    traffic is too small for the division to stay finite."""
    from scipy.stats import norm

    p1 = float(baseline)
    p2 = p1 * (1 + mde) if relative else p1 + mde
    if not 0 < p1 < 1:
        raise DiagnosticsInputError(f"baseline must be a rate in (0, 1), got {baseline}")
    if not 0 < p2 < 1 or p2 == p1:
        raise DiagnosticsInputError(
            f"baseline {p1:g} with effect {mde:g}{' (relative)' if relative else ''} gives "
            f"{p2:g}: the target rate must be in (0, 1) and differ from the baseline"
        )
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise DiagnosticsInputError("alpha and power must be in (0, 1)")
    pbar = (p1 + p2) / 2
    top = norm.ppf(1 - alpha / 2) * math.sqrt(2 * pbar * (1 - pbar)) + norm.ppf(power) * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    # an effect so small that its square underflows needs more trials than a float counts
    needed = top**2 / (p1 - p2) ** 2 if (p1 - p2) ** 2 > 0 else math.inf
    if not needed <= MAX_TRIALS:
        raise DiagnosticsInputError(
            f"an effect of {p2 - p1:g} from {p1:g} needs more than {MAX_TRIALS:,} trials per arm",
            hint="look for a larger effect (--mde)",
        )
    n = math.ceil(needed)
    days = None
    if daily_traffic is not None or share is not None:
        if daily_traffic is None or share is None:
            raise DiagnosticsInputError("days need both daily traffic and the canary share")
        # NaN fails both comparisons, so it is refused with them
        per_day = daily_traffic * min(share, 1 - share) if 0 < share < 1 else 0.0
        if not (0 < daily_traffic < math.inf and per_day > 0):
            raise DiagnosticsInputError(
                "daily traffic must be a finite number > 0 and share in (0, 1)"
            )
        days = n / per_day
    return SampleSize(n, days, p1, p2, alpha, power)
