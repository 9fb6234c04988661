"""The two-person rule: a blank confirmer is no confirmer, and the actor cannot confirm
their own action under another spelling of their name."""

import pytest

from console.workspace import open_workspace

CONFIG = """
actor = "ana"
[env.prod]
registry = "embedded"
metrics = "embedded"
traffic = "embedded"
predictions = "embedded"
two_person = true
"""


@pytest.fixture
def prod(rollbook_home, monkeypatch):
    monkeypatch.delenv("ROLLBOOK_ACTOR", raising=False)
    (rollbook_home / "config.toml").write_text(CONFIG)
    return rollbook_home


def production(model):
    with open_workspace("prod") as ws:
        return ws.backends.registry.production_version(model)


@pytest.mark.parametrize(
    "confirmer, words",
    [
        ("", "second person"),
        (" ", "second person"),
        ("\t ", "second person"),
        ("Ana", "different person"),
        (" ANA ", "different person"),
    ],
)
def test_blank_or_self_confirmation_is_refused(prod, rollbook, confirmer, words):
    before = production("churn")
    code, out, err = rollbook(
        "--env", "prod", "rollback", "churn", "--yes", "--confirmed-by", confirmer
    )
    assert code == 1, out + err
    assert words in err and "APPLIED" not in out
    assert production("churn") == before


def test_another_person_confirms_and_is_recorded_trimmed(prod, rollbook):
    code, out, err = rollbook(
        "--env", "prod", "rollback", "churn", "--yes", "--confirmed-by", " bob "
    )
    assert code == 0, out + err
    with open_workspace("prod") as ws:
        [confirmed] = [
            e for e in ws.store.events(all_incidents=True) if e.kind == "action.confirmed"
        ]
    assert confirmed.payload["confirmed_by"] == "bob" and confirmed.actor == "ana"
