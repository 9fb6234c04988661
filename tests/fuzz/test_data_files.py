"""CSV and Parquet pairs through ``rollbook drift REF CUR`` and ``rollbook schema REF CUR``
(with and without ``--json``; drift also with ``--columns``, ``--categorical`` and
``--segment-by`` naming a column of the files): generated frames of mixed types, all-null
columns, no rows or one, NaN and ±inf, unicode, quotes, commas and newlines in names and
values, duplicate column names in CSV, columns missing on one side — plus corrupt files
(a truncated Parquet file, binary junk named .csv, Parquet named .csv and CSV named .parquet,
ragged rows, an empty file).

Every pair ends in a clean answer (0, or 1 for a critical drift or a schema change) or
invalid input data (7) with no traceback, and ``--json`` parses.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import assert_clean, count, fuzz_settings, run_main

NAMES = st.one_of(
    st.sampled_from(["a", "b", "score", "plan_type", "tenure_months", "A", "a ", ""]),
    st.sampled_from(["é", "列", "a,b", 'q"uote', "new\nline", "1", "NULL", "#", "x" * 300]),
    st.text(max_size=6),
)
TEXT = st.one_of(
    st.sampled_from(["x", "y", "", " ", "NA", "null", "nan", "inf", "1", "1.5", "true", "é"]),
    st.text(max_size=8),
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def column(draw, rows: int) -> list:
    kind = draw(st.sampled_from(["int", "float", "bool", "text", "null", "mixed", "time"]))
    if kind == "int":
        return draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows))
    if kind == "float":
        return draw(st.lists(st.one_of(FLOATS, st.none()), min_size=rows, max_size=rows))
    if kind == "bool":
        return draw(st.lists(st.one_of(st.booleans(), st.none()), min_size=rows, max_size=rows))
    if kind == "text":
        return draw(st.lists(st.one_of(TEXT, st.none()), min_size=rows, max_size=rows))
    if kind == "null":
        return [None] * rows
    if kind == "time":
        return list(pd.date_range("2026-11-22", periods=rows, freq="h", tz="UTC"))
    return draw(st.lists(st.one_of(TEXT, FLOATS, st.integers()), min_size=rows, max_size=rows))


@st.composite
def frame(draw, names: list[str] | None = None) -> tuple[list[str], list[list]]:
    rows = draw(st.sampled_from([0, 1, 2, 5, 30]))
    if names is None:
        names = draw(st.lists(NAMES, min_size=1, max_size=5))
    return names, [draw(column(rows)) for _ in names]


def write(path: Path, names: list[str], cols: list[list], fmt: str) -> None:
    rows = len(cols[0]) if cols else 0
    if fmt == "parquet":
        # Parquet keeps one column per name, and one type per column
        data: dict[str, list] = {}
        for name, values in zip(names, cols, strict=True):
            types = {type(v) for v in values if v is not None and not isinstance(v, float)}
            if len(types) > 1 or (types and any(isinstance(v, float) for v in values)):
                values = [None if v is None else str(v) for v in values]
            data[name] = values
        pd.DataFrame(data, index=range(rows)).to_parquet(path, index=False)
    else:
        frame = pd.DataFrame(dict(enumerate(cols)), index=range(rows))
        frame.columns = names  # duplicate names stay duplicate in a CSV
        frame.to_csv(path, index=False)


CORRUPT = [
    "truncated parquet",
    "junk as csv",
    "parquet named csv",
    "csv named parquet",
    "ragged csv",
    "empty",
    "header only",
    "bom and semicolons",
]


def corrupt(path_dir: Path, kind: str, seed: bytes) -> Path:
    if kind == "truncated parquet":
        p = path_dir / "bad.parquet"
        pd.DataFrame({"a": range(50), "b": ["x"] * 50}).to_parquet(p)
        data = p.read_bytes()
        p.write_bytes(data[: max(1, len(data) * (seed[0] if seed else 1) // 256)])
        return p
    if kind == "junk as csv":
        p = path_dir / "junk.csv"
        p.write_bytes(seed or b"\x00\xff")
        return p
    if kind == "parquet named csv":
        p = path_dir / "pq.csv"
        pd.DataFrame({"a": [1, 2]}).to_parquet(p)
        return p
    if kind == "csv named parquet":
        p = path_dir / "csv.parquet"
        p.write_text("a,b\n1,2\n")
        return p
    if kind == "ragged csv":
        p = path_dir / "ragged.csv"
        p.write_text('a,b\n1,2,3\n4\n"5,6\n')
        return p
    if kind == "empty":
        p = path_dir / "empty.csv"
        p.write_text("")
        return p
    if kind == "header only":
        p = path_dir / "header.csv"
        p.write_text("a,b\n")
        return p
    p = path_dir / "bom.csv"
    p.write_bytes("\ufeffa;b\n1;2\n".encode())
    return p


@st.composite
def pair(draw, tmp: Path) -> tuple[Path, Path, list[str]]:
    """Two files; the second often shares some of the first's columns."""
    names, cols = draw(frame())
    files = []
    for side in ("ref", "cur"):
        if draw(st.integers(0, 6)) == 0:
            kind = draw(st.sampled_from(CORRUPT))
            sub = tmp / side
            sub.mkdir(exist_ok=True)
            files.append(corrupt(sub, kind, draw(st.binary(min_size=1, max_size=300))))
            continue
        if side == "cur" and draw(st.integers(0, 3)):
            keep = draw(st.lists(st.sampled_from(names), max_size=len(names) + 1))
            extra = draw(st.lists(NAMES, max_size=2))
            names_cur, cols_cur = draw(frame(keep + extra))
        else:
            names_cur, cols_cur = names, cols
        fmt = draw(st.sampled_from(["csv", "parquet"]))
        if fmt == "parquet" and len(set(names_cur)) != len(names_cur):
            fmt = "csv"
        path = tmp / f"{side}.{fmt}"
        write(path, names_cur, cols_cur, fmt)
        files.append(path)
    return files[0], files[1], names


def test_drift_and_schema_of_generated_files_end_cleanly(tmp_path):
    runs = iter(range(10**9))

    @fuzz_settings(examples=40)
    @given(data=st.data())
    def run(data) -> None:
        work = tmp_path / f"ex{next(runs)}"
        work.mkdir()
        ref, cur, names = data.draw(pair(work))
        as_json = data.draw(st.booleans())
        for command in ("drift", "schema"):
            argv = [command, str(ref), str(cur)]
            if command == "drift" and names and data.draw(st.booleans()):
                option = data.draw(st.sampled_from(["--columns", "--categorical", "--segment-by"]))
                argv += [option, data.draw(st.sampled_from(names))]
            if as_json:
                argv.append("--json")
            code, out, err = run_main(argv)
            assert_clean(argv, code, out, err)
            assert code in (0, 1, 7), f"exit {code}: {argv}\n{out[-2000:]}\n{err[-2000:]}"
            count(f"{command} (csv/parquet pairs)")

    run()


def test_written_frames_read_back():
    """The writer above keeps what it is given (so the inputs are the frames drawn)."""
    names, cols = ["a", "é"], [[1, None, 3], [math.inf, -1.5, np.nan]]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for fmt in ("csv", "parquet"):
            p = Path(d) / f"f.{fmt}"
            write(p, names, cols, fmt)
            back = pd.read_parquet(p) if fmt == "parquet" else pd.read_csv(p)
            assert list(back.columns) == names and len(back) == 3
