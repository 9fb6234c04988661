"""The library checks a runbook's Jinja when it is first used: opening an incident checks
the runbook it selects only, and what the library hands out and lists is what checking every
file at once (``validate_paths``) gives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.backends.types import Alert
from console.errors import InvalidInput
from console.runbooks import loader
from console.runbooks.loader import library, shipped_dir, validate_paths
from console.runbooks.selection import select_runbook

HERE = Path(__file__).parent
MINIMAL = (HERE / "good" / "minimal.yaml").read_text()
BAD_JINJA = 'text: "{{ results.nulls.summary "'


def runbook(rid: str, *, alerts: str = "SomethingWrong", jinja_error: bool = False) -> str:
    text = MINIMAL.replace("id: minimal", f"id: {rid}", 1).replace(
        "alerts: [SomethingWrong]", f"alerts: [{alerts}]"
    )
    if jinja_error:
        text = text.replace(
            "      title: Look at the dashboard\n",
            f"      title: Look at the dashboard\n      {BAD_JINJA}\n",
        )
    return text


def alert(name: str) -> Alert:
    return Alert(name, "churn", "fp", datetime(2026, 1, 1, tzinfo=UTC), "critical", "firing")


@pytest.fixture
def full_checks(monkeypatch):
    """Files whose templates the library checked."""
    seen: list[str] = []
    real = loader.check_parsed

    def spy(parsed, file, **kw):
        if kw.get("templates", True):
            seen.append(Path(file).name)
        return real(parsed, file, **kw)

    monkeypatch.setattr(loader, "check_parsed", spy)
    loader._CACHE.clear()
    yield seen
    loader._CACHE.clear()


def test_selecting_checks_only_the_chosen_runbook(tmp_path: Path, full_checks):
    for rid in ("a-first", "b-second", "c-third"):
        (tmp_path / f"{rid}.yaml").write_text(runbook(rid, alerts=f"Alert_{rid}"))
    lib = library([tmp_path], include_shipped=False)
    assert full_checks == []  # loading checked structure only
    rb = select_runbook(lib, model="churn", alerts=[alert("Alert_b-second")])
    assert rb.id == "b-second" and full_checks == ["b-second.yaml"]
    assert [r.id for r in lib] == ["a-first", "b-second", "c-third"]  # reading all: all checked
    assert sorted(full_checks) == ["a-first.yaml", "b-second.yaml", "c-third.yaml"]


def test_a_selected_runbook_with_a_jinja_error_is_passed_over(tmp_path: Path, full_checks):
    # "a-best" matches the alert and the model; "b-next" the alert only
    best = runbook("a-best").replace(
        "alerts: [SomethingWrong]", "alerts: [SomethingWrong]\n  models: [churn]"
    )
    (tmp_path / "a-best.yaml").write_text(
        best.replace(
            "      title: Look at the dashboard\n",
            f"      title: Look at the dashboard\n      {BAD_JINJA}\n",
        )
    )
    (tmp_path / "b-next.yaml").write_text(runbook("b-next"))
    lib = library([tmp_path], include_shipped=False)
    rb = select_runbook(lib, model="churn", alerts=[alert("SomethingWrong")])
    assert rb.id == "b-next"
    assert [p.file for p in lib.problems] == [str(tmp_path / "a-best.yaml")]
    with pytest.raises(InvalidInput, match="invalid Jinja"):
        lib.get("a-best")


def test_the_library_lists_what_checking_every_file_gives(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(runbook("a", jinja_error=True))
    (tmp_path / "b.yaml").write_text(runbook("b"))
    (tmp_path / "c.yaml").write_text(runbook("c").replace("severity: SEV3", "severity: P9"))
    (tmp_path / "d.yaml").write_text(runbook("d", jinja_error=True))
    eager, eager_problems = validate_paths([tmp_path])
    loader._CACHE.clear()
    lib = library([tmp_path], include_shipped=False)
    assert lib.get("b").id == "b"  # one runbook asked for first: the rest still unchecked
    assert [str(p) for p in lib.problems] == [str(p) for p in eager_problems]
    assert [r.id for r in lib] == [r.id for r in eager] == ["b"]
    loader._CACHE.clear()


def test_an_id_two_files_claim_counts_as_before(tmp_path: Path):
    # one folder: the first file's Jinja is broken, so the second is no duplicate
    (tmp_path / "a.yaml").write_text(runbook("same", jinja_error=True))
    (tmp_path / "b.yaml").write_text(runbook("same", alerts="Other"))
    eager, eager_problems = validate_paths([tmp_path])
    loader._CACHE.clear()
    lib = library([tmp_path], include_shipped=False)
    assert lib.get("same").path == tmp_path / "b.yaml" == eager[0].path
    assert [str(p) for p in lib.problems] == [str(p) for p in eager_problems]
    # a user's broken runbook does not replace the shipped one of its id
    user = tmp_path / "user"
    user.mkdir()
    (user / "mine.yaml").write_text(runbook("null-feature", jinja_error=True))
    loader._CACHE.clear()
    lib = library([user])
    assert lib.get("null-feature").path == shipped_dir() / "null-feature.yaml"
    assert [p.file for p in lib.problems] == [str(user / "mine.yaml")]
    loader._CACHE.clear()
