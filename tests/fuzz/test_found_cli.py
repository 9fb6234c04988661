"""Option values the fuzzer (and the look around it) found ending in a traceback or taken
as if they made sense, kept as named examples. Each is now a usage error (exit 2) that says
which value is wrong, before anything is read or changed."""

from __future__ import annotations

import json

import pytest

from tests.fuzz.conftest import assert_clean, run_main

FOUND = {
    # found by tests/fuzz/test_cli_options.py: thread.join() of a huge deadline overflowed
    "killswitch --timeout 9223372037": ["killswitch", "churn", "--timeout", "9223372037.0"],
    "pointer --timeout 9223372037": ["pointer", "churn", "v4", "--timeout", "9223372037.0"],
    # the same option's other values nobody can wait for (ValueError, OverflowError)
    "rollback --timeout nan": ["rollback", "credit-score", "--timeout", "nan", "--dry-run"],
    "rollback --timeout inf": ["rollback", "credit-score", "--timeout", "inf", "--dry-run"],
    # ran as "timed out after -1s" (exit 5) without a call being made
    "rollback --timeout -1": ["rollback", "credit-score", "--timeout", "-1", "--dry-run"],
    # a rollout of 'nan min' stages, or aborted 'after -15 min'
    "rollout --dwell nan": ["rollout", "fraud", "v22", "--dwell", "nan", "--dry-run"],
    "rollout --dwell -5": ["rollout", "fraud", "v22", "--dwell", "-5", "--yes"],
    "rollout --dwell 1e300": ["rollout", "fraud", "v22", "--dwell", "1e300", "--yes"],
    "rollout --margin nan": ["rollout", "fraud", "v22", "--margin", "nan", "--dry-run"],
    "rollout --alpha 2": ["rollout", "fraud", "v22", "--alpha", "2", "--dry-run"],
    # time.sleep(nan) / time.sleep(inf) between rounds: a traceback after the first round
    "alerts --watch nan": ["alerts", "--watch", "nan", "--count", "2"],
    "alerts --watch inf": ["alerts", "--watch", "inf", "--count", "2"],
    "incident watch --poll nan": ["incident", "watch", "INC-0001", "--poll", "nan"],
    "incident watch --poll -1": ["incident", "watch", "INC-0001", "--poll", "-1"],
    "schema --min-confidence nan": ["schema", "a.csv", "b.csv", "--min-confidence", "nan"],
}


@pytest.mark.parametrize("name", FOUND)
def test_a_value_nobody_can_use_is_a_usage_error(name):
    argv = FOUND[name]
    option = name.split()[-2]
    code, out, err = run_main([*argv, "--json"])
    assert_clean([*argv, "--json"], code, out, err)
    assert code == 2, (out, err)
    assert json.loads(out)["error"]["exit_code"] == 2
    assert f"Invalid value for '{option}'" in err, err
