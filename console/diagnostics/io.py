"""Loading the data files the diagnostics commands take: CSV (also .csv.gz, .tsv) or Parquet.

Every failure is an :class:`UnreadableFile` naming the file and what is wrong (exit code 7).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from console.diagnostics.errors import ColumnNotFound, UnreadableFile

PARQUET_MAGIC = b"PAR1"


def file_format(path: Path) -> str:
    """``"parquet"`` or ``"csv"``: by suffix, else by the Parquet magic bytes."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq", ".parq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        return "csv"
    with path.open("rb") as fh:
        return "parquet" if fh.read(4) == PARQUET_MAGIC else "csv"


def load_frame(path: str | Path, *, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read ``path`` into a DataFrame, optionally only ``columns``.

    Raises :class:`UnreadableFile` when the file is missing, a directory, empty, or not
    parseable, and :class:`ColumnNotFound` when a requested column is absent."""
    p = Path(path)
    if not p.exists():
        raise UnreadableFile(p, "no such file")
    if p.is_dir():
        raise UnreadableFile(p, "is a directory, not a data file")
    if p.stat().st_size == 0:
        raise UnreadableFile(p, "the file is empty")
    wanted = list(columns) if columns is not None else None
    fmt = file_format(p)
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(p)
        else:
            sep = "\t" if p.name.lower().endswith(".tsv") else ","
            frame = pd.read_csv(p, sep=sep)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnreadableFile(p, f"cannot be read as {fmt.upper()}: {exc}".strip()) from exc
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        raise UnreadableFile(p, f"cannot be read as {fmt.upper()}: {exc}") from exc
    if wanted is not None:
        for col in wanted:
            if col not in frame.columns:
                raise ColumnNotFound(col, str(p), [str(c) for c in frame.columns])
        frame = frame[wanted]
    return frame


def file_aggregates(path: str | Path):
    """The pushdown view of a data file — or of a folder or glob of Parquet files (hive
    partitions become columns): DuckDB in process, through ibis, so data of any size is
    compared in bounded memory. Raises :class:`UnreadableFile` as :func:`load_frame` does."""
    from console.backends.ibislog import IbisAggregates

    text = str(path)
    p = Path(text).expanduser()
    many = any(ch in text for ch in "*?[") or p.is_dir()
    if not many:
        if not p.exists():
            raise UnreadableFile(p, "no such file")
        if p.stat().st_size == 0:
            raise UnreadableFile(p, "the file is empty")
        fmt = file_format(p)
    else:
        fmt = "parquet"
    try:
        import ibis

        con = ibis.duckdb.connect()
        con.raw_sql("SET enable_progress_bar = false")  # it would draw on stdout
        if many:
            source = str(p / "**" / "*.parquet") if p.is_dir() else text
            table = con.read_parquet(source, hive_partitioning=True, union_by_name=True)
        elif fmt == "parquet":
            table = con.read_parquet(str(p))
        else:
            sep = "\t" if p.name.lower().endswith(".tsv") else ","
            table = con.read_csv(str(p), delim=sep, header=True)
        table.schema()
    except Exception as exc:  # duckdb raises its own error types for corrupt files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UnreadableFile(p, f"cannot be read as {fmt.upper()}: {first}") from exc

    def failed(what: str, message: str) -> UnreadableFile:
        # DuckDB reads a CSV's types from a sample: a later row can still fail a query
        return UnreadableFile(p, f"cannot be read as {fmt.upper()} ({what}): {message}")

    return IbisAggregates(
        lambda: table, engine=f"duckdb ({p.name})", close=con.disconnect, failed=failed
    )
