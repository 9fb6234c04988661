"""Loading and validating runbooks: the shipped ones pass, each broken one reports the
expected ``file:line: field: message``."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.errors import InvalidInput
from console.runbooks.loader import library, load_file, shipped_dir, validate_paths
from console.runbooks.model import PHASES
from console.runbooks.source import parse_yaml

HERE = Path(__file__).parent
BROKEN = sorted((HERE / "broken").glob("*.yaml"))


def test_shipped_runbooks_are_valid():
    runbooks, problems = validate_paths([shipped_dir()])
    assert problems == [], "\n".join(map(str, problems))
    ids = {r.id for r in runbooks}
    assert ids >= {
        "null-feature",
        "constant-output",
        "prediction-shift",
        "canary-latency",
        "pricing-zero",
        "concept-drift",
        "segment-drift",
        "model-misbehaving",
    }
    for rb in runbooks:
        assert {s.phase for s in rb.steps} == set(PHASES), rb.id


def test_minimal_runbook_model():
    rb, problems = load_file(HERE / "good" / "minimal.yaml")
    assert problems == [] and rb is not None
    assert [s.id for s in rb.steps][:3] == ["ack", "nulls", "look"]
    decide = rb.step("decide")
    assert decide.kind == "decision" and [o.goto for o in decide.options] == ["roll_back", "hotfix"]
    assert rb.step("nulls").params == {"threshold": "{{ thresholds.null_rate_warn }}"}
    assert rb.step("ack").line == 9


def expectation(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_runbook_reports_expected_problem(path: Path):
    rb, problems = load_file(path)
    assert rb is None
    want = f"{path}:{expectation(path)}"
    shown = [str(p) for p in problems]
    assert any(s.startswith(want) for s in shown), f"wanted {want!r} in:\n" + "\n".join(shown)


def test_there_are_enough_broken_examples():
    assert len(BROKEN) >= 20


def test_all_problems_reported_at_once(tmp_path: Path):
    text = (HERE / "good" / "minimal.yaml").read_text()
    text = text.replace("check: null_rate", "check: nope").replace("severity: SEV3", "severity: P9")
    f = tmp_path / "two.yaml"
    f.write_text(text)
    _, problems = load_file(f)
    assert {p.field for p in problems} >= {"severity", "phases.detect[1].check"}
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_duplicate_keys_are_problems():
    parsed = parse_yaml("id: a\nid: b\n", "f.yaml")
    assert [str(p) for p in parsed.problems] == ["f.yaml:2: id: duplicate key (first at line 1)"]


def test_duplicate_runbook_ids_across_files(tmp_path: Path):
    text = (HERE / "good" / "minimal.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    _, problems = validate_paths([tmp_path])
    assert any(p.field == "id" and "duplicate runbook id" in p.message for p in problems)


def test_user_folder_overrides_shipped_id_and_reports_broken_files(tmp_path: Path):
    text = (HERE / "good" / "minimal.yaml").read_text().replace("id: minimal", "id: null-feature")
    (tmp_path / "mine.yaml").write_text(text)
    (tmp_path / "broken.yaml").write_text((BROKEN[0]).read_text())
    lib = library([tmp_path])
    assert lib.get("null-feature").title == "Minimal runbook"
    assert lib.problems and all(p.file.endswith("broken.yaml") for p in lib.problems)
    with pytest.raises(InvalidInput):
        lib.get("broken")
