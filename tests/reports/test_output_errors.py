"""`-o` to a path that cannot be written: an error naming the path and the reason, exit 1,
no traceback."""

from __future__ import annotations

import os

import pytest

from console.cli.main import main
from console.config import load
from console.store import open_store

from .conftest import build_drill_incident


def rollbook(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def incident_id(rollbook_home):
    with open_store(load().data_dir) as store:
        return build_drill_incident(store)


EXPOSURE = (
    "report",
    "exposure",
    "--requests-per-hour",
    "5000000",
    "--seconds",
    "5",
    "--share",
    "0.25",
)


@pytest.mark.parametrize("command", ["postmortem", "report"])
def test_a_file_where_a_folder_should_be(capsys, tmp_path, incident_id, command):
    (tmp_path / "somefile").write_text("x")
    target = tmp_path / "somefile" / "sub.md"
    args = ("postmortem", incident_id) if command == "postmortem" else EXPOSURE
    code, _, err = rollbook(capsys, *args, "-o", str(target))
    assert code == 1 and "Traceback" not in err
    assert f"cannot write {target}: {tmp_path / 'somefile'} is a file, not a folder" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk(capsys, incident_id):
    code, _, err = rollbook(capsys, "postmortem", incident_id, "-o", "/dev/full")
    assert code == 1 and "Traceback" not in err
    assert "cannot write /dev/full: No space left on device" in err
    code, _, err = rollbook(capsys, "postmortem", incident_id, "--action-items-csv", "/dev/full")
    assert code == 1 and "cannot write /dev/full" in err


def test_a_writable_path_still_writes(capsys, tmp_path, incident_id):
    target = tmp_path / "pm.md"
    code, _, err = rollbook(capsys, "postmortem", incident_id, "-o", str(target))
    assert code == 0 and f"Wrote {target}" in err and target.read_text().strip()


def test_a_missing_folder_is_an_error_not_created(capsys, tmp_path, incident_id):
    target = tmp_path / "typo" / "pm.md"
    code, _, err = rollbook(capsys, "postmortem", incident_id, "-o", str(target))
    assert code == 1 and "Traceback" not in err
    assert f"cannot write {target}: the folder {tmp_path / 'typo'} does not exist" in err
    assert not (tmp_path / "typo").exists()


def test_action_items_csv_alone_writes_only_the_csv(capsys, tmp_path, incident_id):
    target = tmp_path / "items.csv"
    code, out, err = rollbook(capsys, "postmortem", incident_id, "--action-items-csv", str(target))
    assert code == 0 and f"Wrote {target}" in err
    assert target.read_text().startswith("what,")
    assert "Post-mortem" not in out and out.strip() == ""
