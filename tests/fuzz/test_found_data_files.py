"""Data file pairs the fuzzer (``test_data_files.py``) found ending in "backend unreachable"
(exit 5, with a hint about the prediction log's configuration) for what is bad input data,
kept as named examples. Each now ends cleanly, or in exit 7 naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz.conftest import assert_clean, run_main

REFERENCE = "a,b\n1,0.5\n2,0.25\n3,0.75\n"


def late_text(path: Path) -> None:
    """Numbers for longer than DuckDB's type sample, then text: the query, not the read,
    fails."""
    rows = "".join(f"{i},{i * 0.5}\n" for i in range(30_000))
    path.write_text("a,b\n" + rows + "x,y\n")


FOUND = {
    # a finite value near the largest double: "VARPOP is out of range!" failed the query
    "huge finite values": (lambda p: p.write_text("a,b\n1e308,1\n-1e308,2\n5,3\n"), {0, 1}),
    # a NUL byte in a column name (binary junk read as CSV): the SQL could not quote it
    # (drift reports it as an added column, critical; schema's queries cannot name it)
    "NUL in a column name": (lambda p: p.write_bytes(b"a\x00b,c\n1,2\n"), {1, 7}),
    "text after 30,000 rows of numbers": (late_text, {7}),
}


@pytest.mark.parametrize("command", ["drift", "schema"])
@pytest.mark.parametrize("name", FOUND)
def test_a_found_pair_ends_cleanly_or_names_the_file(name, command, tmp_path):
    make, codes = FOUND[name]
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text(REFERENCE)
    make(cur)
    argv = [command, str(ref), str(cur), "--json"]
    code, out, err = run_main(argv)
    assert_clean(argv, code, out, err)
    assert code in codes, (code, out, err)
    if code == 7:
        error = json.loads(out)["error"]
        assert error["message"].startswith(f"{cur}: cannot be read as CSV"), error


def test_two_files_that_share_no_column_report_their_own_row_counts(tmp_path):
    """Found beside the fuzzer: with no shared column the reference's profile had nothing to
    count rows with and the report said 'reference 0 rows' for a 3-row file."""
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text(REFERENCE)
    cur.write_text("c,d\n1,2\n3,4\n")
    code, out, err = run_main(["drift", str(ref), str(cur), "--json"])
    assert_clean(["drift", "--json"], code, out, err)
    body = json.loads(out)
    assert body["rows"] == {"reference": 3, "current": 2}
    assert body["missing_columns"] == ["a", "b"] and body["added_columns"] == ["c", "d"]
