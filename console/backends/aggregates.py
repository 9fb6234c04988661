"""The pushdown questions a prediction log answers: aggregates computed where the data lives.

A check never needs the rows of a window, only what they add up to: row and null counts,
the columns present and their types, category counts, counts on given bin edges, counts and
sums on a fine grid (for KS and Wasserstein), moments, and — when the window is small
enough to sort (``EXACT_LIMIT`` values) — the values themselves. :class:`LogAggregates` is
that contract. Its answers are small (bounded by the number of bins, categories or
segments, never by the row count, except :meth:`LogAggregates.values`, which refuses more
than ``limit`` values).

Engine-neutral: no engine is imported here. The one implementation over SQL engines lives
in :mod:`console.backends.ibislog` (ibis compiles it for DuckDB, PostgreSQL, Spark and the
rest); the statistics built from the answers live in :mod:`console.diagnostics.pushdown`.

Nulls: a missing value *or a floating NaN* is null, as in pandas; ±inf are counted apart
(``infinite``) and are neither null nor finite values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

#: Values a window may hand to Python for the exact KS/Wasserstein path (per column and
#: side; per segment for segment drift): 1 M float64 values are 8 MB.
EXACT_LIMIT = 1_000_000
#: Distinct categories returned per column and side; the rest are summed into one count.
CATEGORY_LIMIT = 10_000

Family = Literal["number", "text", "bool", "datetime"]
#: |(x − center) / scale| is capped here before asinh: its square must stay finite.
ASINH_CAP = 1e150
#: The group key of a window that was not split by segment.
ALL = "__all__"


@dataclass(frozen=True)
class LogWindow:
    """Which rows: ``start <= ts < end`` (either end open when ``None``), one ``version``
    and segment filters (column → value, compared as text) when given."""

    start: datetime | None = None
    end: datetime | None = None
    version: str | None = None
    where: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        a = self.start.isoformat() if self.start else "…"
        b = self.end.isoformat() if self.end else "…"
        return f"{a} → {b}" if (self.start or self.end) else "all rows"


@dataclass(frozen=True)
class ColumnType:
    """A column as the engine types it: ``dtype`` is the engine-neutral type name (ibis's,
    e.g. ``float64``, ``int64``, ``string``), ``family`` its kind."""

    name: str
    dtype: str
    family: Family

    @property
    def numeric(self) -> bool:
        return self.family in ("number", "datetime")


@dataclass(frozen=True)
class ColumnSummary:
    """One column of one window (or segment). ``nulls`` counts missing values and NaN;
    numbers also get ``infinite`` (±inf, ``negative_infinite`` of them −inf), ``valid``
    (finite values), their ``minimum``, ``maximum``, ``mean`` and population ``variance``
    (``None`` without finite values, and when one is beyond ±1e100: its square could
    overflow) and ``below``: for each edge asked for, how many
    finite values are ``< edge`` (the bin counts on those edges are its differences)."""

    name: str
    rows: int
    nulls: int
    infinite: int = 0
    negative_infinite: int = 0
    valid: int = 0
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    variance: float | None = None
    below: tuple[int, ...] = ()


@dataclass(frozen=True)
class Grid:
    """Cells for CDF counts. ``kind="values"``: one cell per distinct finite value (the key
    is the value). ``kind="linear"``: cells of equal ``width`` from ``origin``, key
    ``floor((x − origin) / width)``. ``kind="asinh"``: cells of equal ``width`` on the scale
    ``t = asinh((x − center) / scale)``; an engine keys a finite ``x`` as
    ``floor((t − origin) / width)`` — arithmetic only, with ``asinh(y)`` computed as
    ``sign(y)·ln(|y| + sqrt(y² + 1))`` and ``|y|`` capped at 1e150."""

    kind: Literal["asinh", "linear", "values"] = "asinh"
    center: float = 0.0
    scale: float = 1.0
    origin: float = 0.0
    width: float = 1.0

    def keys_of(self, values: np.ndarray) -> np.ndarray:
        """Each finite value's cell as the engines compute it (a values grid: the value),
        in numpy with the same operations."""
        import numpy as np

        v = np.asarray(values, dtype=np.float64)
        if self.kind == "values":
            return v
        if self.kind == "linear":
            return np.floor((v - self.origin) / self.width).astype(np.int64)
        y = np.clip((v - self.center) / self.scale, -ASINH_CAP, ASINH_CAP)
        t = np.sign(y) * np.log(np.abs(y) + np.sqrt(y * y + 1.0))
        return np.floor((t - self.origin) / self.width).astype(np.int64)

    def left(self, keys: np.ndarray) -> np.ndarray:
        """The lower end of each cell (a values grid's cell is its value)."""
        import numpy as np

        k = np.asarray(keys, dtype=np.float64)
        if self.kind == "values":
            return k
        if self.kind == "linear":
            return self.origin + k * self.width
        return self.center + self.scale * np.sinh(self.origin + k * self.width)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "center": self.center,
            "scale": self.scale,
            "origin": self.origin,
            "width": self.width,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grid:
        got = data.get("kind")
        kind: Literal["asinh", "linear", "values"] = (
            "values" if got == "values" else "linear" if got == "linear" else "asinh"
        )
        return cls(
            kind,
            float(data.get("center", 0.0)),
            float(data.get("scale", 1.0)),
            float(data.get("origin", 0.0)),
            float(data.get("width", 1.0)),
        )


@dataclass(frozen=True)
class Histogram:
    """Counts and sums of finite values per grid key (see :class:`Grid`), keys ascending."""

    keys: np.ndarray  # int64 cells, or float64 values for a values grid
    counts: np.ndarray  # int64
    sums: np.ndarray  # float64
    #: counts per bin of the ``edges`` the histogram was asked for (``None`` without)
    bin_counts: np.ndarray | None = None


class LogAggregates(ABC):
    """Aggregates over one model's prediction log, computed by the engine that holds it.

    ``by`` names segment columns: answers are then keyed by the segment's value (several
    columns joined with ``/``; a null segment is ``"None"``); without ``by`` the one key is
    :data:`ALL`. Every method raises :class:`console.errors.BackendError` when the engine
    fails and :class:`console.errors.InvalidInput` for a column the log does not have."""

    @abstractmethod
    def columns(self, window: LogWindow | None = None) -> list[ColumnType]:
        """Every column of the log (bookkeeping columns included), in the log's order. A
        table's columns do not depend on the window; a log read as samples per window (the
        fallback) may leave out columns that are empty in ``window``."""

    @abstractmethod
    def rows(self, window: LogWindow, *, by: Sequence[str] = ()) -> dict[str, int]:
        """Group key → rows in ``window`` (no key for a group without rows)."""

    @abstractmethod
    def summarize(
        self,
        window: LogWindow,
        columns: Sequence[str],
        *,
        edges: Mapping[str, Sequence[float]] | None = None,
        by: Sequence[str] = (),
    ) -> dict[str, dict[str, ColumnSummary]]:
        """Group key → column → :class:`ColumnSummary`, in one pass over the window.
        ``edges`` asks, per numeric column, for the counts below each edge."""

    @abstractmethod
    def categories(
        self,
        window: LogWindow,
        column: str,
        *,
        by: Sequence[str] = (),
        limit: int = CATEGORY_LIMIT,
    ) -> dict[str, tuple[list[Any], list[int], int]]:
        """Group key → (values, counts, count of the values past ``limit``): the non-null
        values of ``column`` with their counts, most frequent first."""

    @abstractmethod
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
        """Group key → counts and sums of the finite values per grid key, and with
        ``edges`` the counts per bin ``(−∞, e0), [e0, e1), …, [e_k, +∞)`` from the same pass.
        ``None`` when a values grid met more than ``limit`` distinct values."""

    @abstractmethod
    def approx_distinct(self, window: LogWindow, columns: Sequence[str]) -> dict[str, int]:
        """Column → the engine's estimate of its distinct finite values, in one pass (a
        sketch on most engines: it only chooses between a values and an asinh grid)."""

    @abstractmethod
    def values(
        self, window: LogWindow, column: str, *, by: Sequence[str] = (), limit: int = EXACT_LIMIT
    ) -> dict[str, np.ndarray] | None:
        """Group key → the finite values of ``column`` as float64 (any order), or ``None``
        when some group holds more than ``limit`` of them (nothing is transferred then)."""

    @abstractmethod
    def cell_values(
        self, window: LogWindow, column: str, grid: Grid, keys: Sequence[int]
    ) -> dict[int, np.ndarray]:
        """Grid key → the finite values with that key, for the ``keys`` asked (exact
        quantiles refine from these: a few cells' worth of values, not the window)."""

    @abstractmethod
    def approx_quantiles(
        self, window: LogWindow, columns: Sequence[str], probabilities: Sequence[float]
    ) -> dict[str, list[float]]:
        """Column → quantiles of its finite values as the engine estimates them (exact on
        some engines, a sketch on others), all columns in one pass. Used only to place a
        grid, never as a result."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Safe to call twice."""
