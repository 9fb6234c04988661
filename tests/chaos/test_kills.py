"""Every action that changes production, killed at N points spread over its run — SIGKILL (a
crash), SIGINT (Ctrl+C) and SIGTERM — leaves a consistent state or an unfinished action that
``audit pending`` lists with finish and undo commands that both work (``tests/chaos/kills.py``
says exactly what is checked). Kill points are fractions of the action's measured duration,
drawn from the seed (stratified: one in each N-th of the run, plus a margin past its end)."""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.chaos.kills import SIGNALS, kill_once
from tests.chaos.scenarios import SCENARIOS

MARGIN = 1.1  # kill points up to 10% past the measured duration: "it had already ended"
#: runs at once: a run mostly waits (slow backend calls, dwells), so a few share the CPU well
JOBS = max(1, int(os.environ.get("ROLLBOOK_CHAOS_JOBS") or 6))


def kill_fractions(seed: int, name: str, sig: str, n: int) -> list[float]:
    rng = random.Random(f"{seed}/{name}/{sig}")
    return [MARGIN * (i + rng.random()) / n for i in range(n)]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_killed_at_any_point_leaves_a_consistent_or_finishable_state(
    name, prepared, seed, n_kills, figures, tmp_path
):
    template, ref = prepared(name)
    points = [
        (sig, i, fraction)
        for sig in SIGNALS
        for i, fraction in enumerate(kill_fractions(seed, name, sig, n_kills))
    ]

    def one(point):
        sig, i, fraction = point
        workdir = tmp_path / f"{sig}-{i:03d}"
        outcome = kill_once(template, SCENARIOS[name], ref, sig, fraction, workdir)
        if outcome.verdict != "broken":
            shutil.rmtree(workdir, ignore_errors=True)
        return outcome

    with ThreadPoolExecutor(JOBS) as pool:
        outcomes = list(pool.map(one, points))
    for sig in SIGNALS:
        mine = [o for o in outcomes if o.signal == sig]
        figures.add(
            "kills",
            f"{name}/{sig}",
            {
                "duration_s": round(ref.duration, 3),
                "tried": len(mine),
                "verdicts": dict(Counter(o.verdict for o in mine)),
                "landed": dict(Counter(o.landed for o in mine)),
                "states": dict(Counter(o.action_state for o in mine)),
                "exit_codes": dict(Counter(str(o.exit_code) for o in mine)),
                "unrecorded_mitigation": sum(o.unrecorded_mitigation for o in mine),
                "before_rollbook": sum(o.before_rollbook for o in mine),
                "broken": [o.to_dict() for o in mine if o.verdict == "broken"],
            },
        )
    broken = [o for o in outcomes if o.verdict == "broken"]
    assert not broken, (
        f"seed {seed}: {len(broken)} of {len(outcomes)} kills of {name} "
        f"(measured {ref.duration:.2f} s) left a broken state:\n"
        + "\n".join(
            f"- {o.signal} at {o.fraction:.3f} ({o.offset:.2f} s), {o.landed}: {o.detail}"
            for o in broken
        )
    )
    # the kills did land inside the action, not only before or after it
    assert any(o.landed == "during the steps" for o in outcomes), Counter(
        o.landed for o in outcomes
    )
