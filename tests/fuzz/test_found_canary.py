"""``canary`` numbers the fuzzer (``test_canary.py``) found ending in a traceback or taken as
if they made sense, kept as named examples. Each is now invalid input (exit 7) saying which
number is wrong."""

from __future__ import annotations

import json

import pytest

from tests.fuzz.conftest import assert_clean, run_main

FOUND = {
    # OverflowError: a float divided by an int of 401 digits (the arm's standard error)
    "treatment of 10**400 trials": (
        ["canary", "--control", "0/1", "--treatment", f"0/{10**400}", "--margin", "0.0"],
        "at most 9,007,199,254,740,992 trials",
    ),
    "control of 2**53 + 1 trials": (
        ["canary", "--control", f"1/{2**53 + 1}", "--treatment", "1/10"],
        "at most 9,007,199,254,740,992 trials",
    ),
    # OverflowError: math.ceil(inf), the effect's square underflowing to 0
    "size of a 1e-300 effect": (
        ["canary", "size", "--baseline", "1e-300", "--mde", "1e-300"],
        "needs more than 9,007,199,254,740,992 trials per arm",
    ),
    # "about nan days at nan/day"
    "size with NaN daily traffic": (
        [
            "canary",
            "size",
            "--baseline",
            "0.05",
            "--mde",
            "0.01",
            "--daily-traffic",
            "nan",
            "--share",
            "0.1",
        ],
        "daily traffic must be a finite number > 0",
    ),
    "size with infinite daily traffic": (
        [
            "canary",
            "size",
            "--baseline",
            "0.05",
            "--mde",
            "0.01",
            "--daily-traffic",
            "inf",
            "--share",
            "0.1",
        ],
        "daily traffic must be a finite number > 0",
    ),
}


@pytest.mark.parametrize("name", FOUND)
def test_a_found_canary_number_is_invalid_input(name):
    argv, words = FOUND[name]
    argv = [*argv, "--json"]
    code, out, err = run_main(argv)
    assert_clean(argv, code, out, err)
    assert code == 7, (out, err)
    assert words in json.loads(out)["error"]["message"]
