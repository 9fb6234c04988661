""":class:`LogAggregates` over samples: a log that can only hand over rows (the
``PredictionLog.samples`` contract) answers the same questions, in process.

Each window's sample frame is read once (up to ``limit`` rows, as the checks always did) and
queried with DuckDB through the same ibis expressions as a real engine
(:class:`console.backends.ibislog.IbisAggregates`), so the checks have one code path and the
numbers cannot drift apart between a log with pushdown and one without. Columns that are
empty in a window's sample are missing from its :meth:`columns` (the embedded log leaves a
renamed raw column out of the windows after the rename).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from console.backends.aggregates import (
    CATEGORY_LIMIT,
    EXACT_LIMIT,
    ColumnSummary,
    ColumnType,
    Grid,
    Histogram,
    LogAggregates,
    LogWindow,
)
from console.backends.ibislog import IbisAggregates

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: samples(start, end, version, segment) -> frame
Sampler = Callable[[Any, Any, "str | None", "Mapping[str, str] | None"], "pd.DataFrame"]


class SamplesAggregates(LogAggregates):
    """Aggregates over the frames ``sampler`` returns for each window."""

    def __init__(self, sampler: Sampler, *, engine: str = "samples") -> None:
        self._sampler = sampler
        self.engine = engine
        self._cache: dict[tuple, IbisAggregates] = {}
        self._con: Any = None

    def _for(self, window: LogWindow | None) -> IbisAggregates:
        window = window or LogWindow()
        key = (window.start, window.end, window.version, tuple(sorted(window.where.items())))
        got = self._cache.get(key)
        if got is None:
            import ibis

            frame = self._sampler(
                window.start, window.end, window.version, dict(window.where) or None
            )
            # a column with no value has no type; DuckDB needs one: an empty number
            empty = [c for c in frame.columns if frame[c].dtype == object and frame[c].isna().all()]
            if empty:
                frame = frame.astype({c: "float64" for c in empty})
            if self._con is None:
                self._con = ibis.duckdb.connect()
                self._con.raw_sql("SET enable_progress_bar = false")
            table = self._con.create_table(f"w{len(self._cache)}", frame, temp=True)
            got = self._cache[key] = IbisAggregates(lambda: table, engine=self.engine)
        return got

    @staticmethod
    def _inner(window: LogWindow) -> LogWindow:
        # the sample already is the window: only the segment filters of a by-query remain
        return LogWindow()

    def columns(self, window: LogWindow | None = None) -> list[ColumnType]:
        return self._for(window).columns()

    def rows(self, window: LogWindow, *, by: Sequence[str] = ()) -> dict[str, int]:
        return self._for(window).rows(self._inner(window), by=by)

    def summarize(
        self,
        window: LogWindow,
        columns: Sequence[str],
        *,
        edges: Mapping[str, Sequence[float]] | None = None,
        by: Sequence[str] = (),
    ) -> dict[str, dict[str, ColumnSummary]]:
        return self._for(window).summarize(self._inner(window), columns, edges=edges, by=by)

    def categories(
        self, window: LogWindow, column: str, *, by: Sequence[str] = (), limit: int = CATEGORY_LIMIT
    ) -> dict[str, tuple[list[Any], list[int], int]]:
        return self._for(window).categories(self._inner(window), column, by=by, limit=limit)

    def histogram(
        self,
        window: LogWindow,
        column: str,
        grid: Grid,
        *,
        by: Sequence[str] = (),
        limit: int | None = None,
        edges: Sequence[float] | None = None,
    ) -> dict[str, Histogram] | None:
        return self._for(window).histogram(
            self._inner(window), column, grid, by=by, limit=limit, edges=edges
        )

    def approx_distinct(self, window: LogWindow, columns: Sequence[str]) -> dict[str, int]:
        return self._for(window).approx_distinct(self._inner(window), columns)

    def values(
        self, window: LogWindow, column: str, *, by: Sequence[str] = (), limit: int = EXACT_LIMIT
    ) -> dict[str, np.ndarray] | None:
        return self._for(window).values(self._inner(window), column, by=by, limit=limit)

    def cell_values(
        self, window: LogWindow, column: str, grid: Grid, keys: Sequence[int]
    ) -> dict[int, np.ndarray]:
        return self._for(window).cell_values(self._inner(window), column, grid, keys)

    def approx_quantiles(
        self, window: LogWindow, columns: Sequence[str], probabilities: Sequence[float]
    ) -> dict[str, list[float]]:
        return self._for(window).approx_quantiles(self._inner(window), columns, probabilities)

    def close(self) -> None:
        self._cache.clear()
        if self._con is not None:
            con, self._con = self._con, None
            con.disconnect()
