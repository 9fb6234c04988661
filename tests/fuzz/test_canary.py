"""``rollbook canary`` (the two-proportion judge) and ``canary size``: counts and rates from
0, negatives, huge and past the float range, successes above trials, NaN, ±inf and junk,
through the CLI (in process, with and without ``--json``); then the core functions
(``two_proportion_test``, ``sample_size``) on valid ranges with their basic properties:
a p-value in [0, 1], the judge symmetric when the arms swap, equal arms not significant, a
sample size that grows with power and shrinks with the effect.

Every CLI input ends with 0, 1 (rollback), 2 (usage) or 7 (invalid counts) and no traceback;
``--json`` parses and holds no NaN or infinity (JSON has neither).
"""

from __future__ import annotations

import json
import math

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.fuzz.conftest import assert_clean, count, fuzz_settings, run_main

INTS = st.one_of(
    st.integers(-5, 100),
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, 1, 2**63, 10**400]),
)
COUNT_TEXT = st.one_of(
    st.tuples(INTS, INTS).map(lambda sn: f"{sn[0]}/{sn[1]}"),
    st.sampled_from(["1/0", "0/0", "nan/10", "1.5/10", "/", "1/2/3", "", " 5 / 10 ", "1e3/1e4"]),
    st.sampled_from(["9" * 5000 + "/1", "1/" + "9" * 5000, "½/2", "١/٢"]),
    st.text(max_size=8),
)
NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1, 2).map(repr),
    st.sampled_from(["0", "-0", "1", "0.05", "0.5", "0.999", "1e-300", "1e-320", "1e309"]),
    st.sampled_from(["nan", "inf", "-inf", "", "x", "0x10"]),
)


@st.composite
def judge_argv(draw) -> list[str]:
    argv = ["canary"]
    for opt in ("--control", "--treatment"):
        if draw(st.integers(0, 5)):
            argv += [opt, draw(COUNT_TEXT)]
    for opt in ("--margin", "--alpha"):
        if draw(st.booleans()):
            argv += [opt, draw(NUMBER_TEXT)]
    if draw(st.booleans()):
        argv.append("--lower-is-better")
    if draw(st.booleans()):
        argv.append("--json")
    return argv


@st.composite
def size_argv(draw) -> list[str]:
    argv = ["canary", "size"]
    for opt in ("--baseline", "--mde"):
        if draw(st.integers(0, 8)):
            argv += [opt, draw(NUMBER_TEXT)]
    for opt in ("--power", "--alpha", "--daily-traffic", "--share"):
        if draw(st.booleans()):
            argv += [opt, draw(NUMBER_TEXT)]
    if draw(st.booleans()):
        argv.append("--relative")
    if draw(st.booleans()):
        argv.append("--json")
    return argv


def strict_json(out: str) -> None:
    """JSON without NaN or Infinity: what a strict parser (and every other language) reads."""

    def refuse(name: str) -> None:
        raise AssertionError(f"--json printed {name}: {out[:2000]}")

    json.loads(out, parse_constant=refuse)


def run_cli(argv: list[str]) -> None:
    code, out, err = run_main(argv)
    assert_clean(argv, code, out, err)
    assert code in (0, 1, 2, 7), f"exit {code}: {argv}\n{out}\n{err}"
    if "--json" in argv and out.strip():
        strict_json(out)


def test_canary_judge_numbers_end_cleanly():
    @fuzz_settings(examples=150)
    @given(argv=judge_argv())
    def run(argv: list[str]) -> None:
        run_cli(argv)
        count("canary (judge, cli)")

    run()


def test_canary_size_numbers_end_cleanly():
    @fuzz_settings(examples=150)
    @given(argv=size_argv())
    def run(argv: list[str]) -> None:
        run_cli(argv)
        count("canary size (cli)")

    run()


# ---- the core functions on valid ranges ---------------------------------------------------
@st.composite
def arm(draw):
    from console.diagnostics import Arm

    trials = draw(st.one_of(st.integers(1, 200), st.integers(1, 10**12)))
    return Arm(draw(st.integers(0, trials)), trials)


def test_the_judge_on_valid_counts_is_a_probability_and_symmetric():
    from console.diagnostics import two_proportion_test

    @fuzz_settings(examples=300)
    @given(
        control=arm(),
        treatment=arm(),
        alpha=st.floats(1e-6, 0.5),
        margin=st.one_of(st.none(), st.floats(0, 0.5)),
        higher=st.booleans(),
    )
    def run(control, treatment, alpha, margin, higher) -> None:
        r = two_proportion_test(
            control, treatment, alpha=alpha, margin=margin, higher_is_better=higher
        )
        count("canary (core judge)")
        assert r.decision in ("promote", "rollback", "inconclusive")
        for p in (r.p_value, r.non_inferiority_p_value):
            assert p is None or 0.0 <= p <= 1.0, r
        assert r.z is None or math.isfinite(r.z), r
        assert r.significant == (r.p_value is not None and r.p_value < alpha)
        swapped = two_proportion_test(treatment, control, alpha=alpha, higher_is_better=higher)
        if r.z is None:
            assert swapped.z is None
        else:
            assert swapped.z is not None and math.isclose(swapped.z, -r.z, abs_tol=1e-9)
            assert math.isclose(swapped.p_value, r.p_value, rel_tol=1e-9, abs_tol=1e-300)
        same = two_proportion_test(control, control, alpha=alpha)
        assert not same.significant and same.decision == "inconclusive"
        assert same.p_value is None or math.isclose(same.p_value, 1.0)
        json.dumps(r.to_dict(), allow_nan=False)

    run()


def test_sample_size_on_valid_rates_grows_with_power_and_shrinks_with_the_effect():
    from console.diagnostics import sample_size

    @fuzz_settings(examples=300)
    @given(
        baseline=st.floats(0.001, 0.999),
        mde=st.floats(0.001, 0.5),
        power=st.floats(0.5, 0.95),
        alpha=st.floats(0.001, 0.2),
    )
    def run(baseline, mde, power, alpha) -> None:
        assume(baseline + 2 * mde < 1)
        n = sample_size(baseline, mde, power=power, alpha=alpha).n_per_arm
        count("canary size (core)")
        assert isinstance(n, int) and n >= 1
        assert sample_size(baseline, mde, power=power + 0.04, alpha=alpha).n_per_arm >= n
        assert sample_size(baseline, 2 * mde, power=power, alpha=alpha).n_per_arm <= n
        days = sample_size(baseline, mde, power=power, alpha=alpha, daily_traffic=1000, share=0.1)
        assert days.days is not None and math.isclose(days.days, n / 100)

    run()
