"""Config files the fuzzer (``test_config.py``) found crashing the loader or taken as if they
made sense, kept as named examples. Each is now a config error (exit 3) naming the file and
the key, before any command runs."""

from __future__ import annotations

import json

import pytest

from tests.fuzz.conftest import assert_clean, run_main

FOUND = {
    # TypeError out of Path(): a folder that is not a string
    "runbooks.paths of a boolean": ("[runbooks]\npaths = [false]\n", "runbooks.paths[0]"),
    # RuntimeError out of Path.expanduser(): "Could not determine home directory."
    "runbooks.paths of an unknown user's home": (
        '[runbooks]\npaths = ["~nosuchuser/rb"]\n',
        "runbooks.paths[0]",
    ),
    "templates.path of an unknown user's home": (
        '[templates]\npath = "~nosuchuser/t"\n',
        "templates.path",
    ),
    # a NaN threshold makes every comparison with it false: a check that can never pass
    "thresholds nan": ("[thresholds]\nnull_rate_warn = nan\n", "thresholds.null_rate_warn"),
    "thresholds inf": ("[thresholds]\npsi_significant = inf\n", "thresholds.psi_significant"),
    "thresholds negative": ("[thresholds]\nprediction_z = -3\n", "thresholds.prediction_z"),
    "drill target nan": ("[drill]\nmitigate_minutes = nan\n", "drill.mitigate_minutes"),
    # an incident's running cost of NaN or -inf per hour
    "revenue_per_hour nan": (
        "[env.demo.revenue_per_hour]\nchurn = nan\n",
        "env.demo.revenue_per_hour.churn",
    ),
    # an actor of 5 reached the timeline as a number
    "actor of a number": ("actor = 5\n", "actor"),
}


@pytest.mark.parametrize("name", FOUND)
def test_a_found_config_is_exit_3_naming_the_file_and_the_key(name, rollbook_home, monkeypatch):
    monkeypatch.delenv("ROLLBOOK_ACTOR", raising=False)
    text, key = FOUND[name]
    path = rollbook_home / "config.toml"
    path.write_text(text)
    argv = ["incidents", "--json"]
    code, out, err = run_main(argv)
    assert_clean(argv, code, out, err)
    assert code == 3, (out, err)
    message = json.loads(out)["error"]["message"]
    assert message.startswith(f"{path}: {key}: "), message
    assert f"{path}: {key}: " in err
