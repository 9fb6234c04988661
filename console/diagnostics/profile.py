"""Column profiles: the sorted, binned reference a drift check compares windows against.

A :class:`ReferenceProfile` is fitted once from the baseline (training) frame and reused for
every later window, so the reference is sorted and binned only once. Numeric columns keep
their sorted finite values, PSI bin edges and bin counts; categorical columns keep their
category counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from console.diagnostics.errors import ColumnNotFound, DtypeMismatch, EmptyInput
from console.diagnostics.twosample import bin_counts, quantile_edges

Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True, eq=False)
class NumericColumn:
    """One numeric column, nulls and ±inf removed and the rest sorted.

    ``rows`` counts every row, ``nulls`` the missing values (NaN/None/NaT), ``infinite`` the
    ±inf values; ``sorted_values`` holds the remaining ``rows − nulls − infinite`` values."""

    name: str
    dtype: str
    rows: int
    nulls: int
    infinite: int
    sorted_values: np.ndarray

    kind: Kind = field(default="numeric", init=False)

    @property
    def valid(self) -> int:
        return int(self.sorted_values.shape[0])

    @cached_property
    def mean(self) -> float:
        """Mean of the finite values (NaN when there are none); computed once, so a fitted
        reference does not recompute it for every window."""
        return float(np.mean(self.sorted_values)) if self.valid else float("nan")


@dataclass(frozen=True, eq=False)
class CategoricalColumn:
    """One categorical column: its distinct non-null values and how often each occurs."""

    name: str
    dtype: str
    rows: int
    nulls: int
    categories: np.ndarray
    counts: np.ndarray
    numeric_source: bool = False  # the column held numbers (forced to be categories)

    kind: Kind = field(default="categorical", init=False)
    infinite: int = field(default=0, init=False)

    @property
    def valid(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True, eq=False)
class NumericReference:
    """A fitted numeric reference column: the column plus its PSI bins."""

    column: NumericColumn
    interior_edges: np.ndarray
    counts: np.ndarray


ColumnData = NumericColumn | CategoricalColumn
ColumnReference = NumericReference | CategoricalColumn


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """A baseline fitted once and compared against many windows.

    ``columns`` maps each profiled column to its fitted reference, ``rows`` is the number of
    rows of the baseline frame, ``bins`` the number of PSI quantile bins asked for."""

    columns: Mapping[str, ColumnReference]
    rows: int
    bins: int

    def kind(self, name: str) -> Kind:
        ref = self.columns[name]
        return "numeric" if isinstance(ref, NumericReference) else "categorical"


def is_numeric_series(series: pd.Series) -> bool:
    """True for integer, float, datetime and timedelta columns; booleans are categorical."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    )


def column_kind(series: pd.Series, categorical: Iterable[str] = ()) -> Kind:
    """``"categorical"`` when named in ``categorical`` or not numeric, else ``"numeric"``."""
    if series.name in set(categorical) or not is_numeric_series(series):
        return "categorical"
    return "numeric"


def numeric_values(series: pd.Series) -> np.ndarray:
    """The column as float64 with missing values as NaN (a view when already float64).

    Datetimes become seconds since the Unix epoch, timedeltas seconds."""
    return _numeric_values(series)[0]


def _numeric_values(series: pd.Series) -> tuple[np.ndarray, bool]:
    """:func:`numeric_values` and whether the array is a fresh copy the caller may change."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype == np.float64:
        return series.to_numpy(), False
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        as_ns = series.to_numpy(dtype="int64", na_value=np.iinfo(np.int64).min)
        out = as_ns.astype(np.float64) / 1e9
        out[as_ns == np.iinfo(np.int64).min] = np.nan
        return out, True
    try:
        # copy=True: an extension array may hand back its own float64 buffer otherwise
        return series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True), True
    except (TypeError, ValueError) as exc:
        raise DtypeMismatch(
            f"column {series.name!r} ({dtype}) cannot be read as numbers: {exc}",
            hint=f"pass --categorical {series.name} to compare it as categories",
        ) from exc


def numeric_column(series: pd.Series) -> NumericColumn:
    """Profile a numeric column: one copy, one sort, NaN and ±inf counted and cut off."""
    values, owned = _numeric_values(series)
    if owned:  # already a copy: sort it in place rather than copy it again
        values.sort()
    else:
        values = np.sort(values)  # NaN sorts to the end, −inf/+inf to the ends
    size = values.shape[0]
    stop = (
        int(np.searchsorted(values, np.nan, side="left"))
        if size and values[-1] != values[-1]
        else size
    )
    low = int(np.searchsorted(values[:stop], -np.inf, side="right"))
    high = int(np.searchsorted(values[:stop], np.inf, side="left"))
    return NumericColumn(
        name=str(series.name),
        dtype=str(series.dtype),
        rows=size,
        nulls=size - stop,
        infinite=low + (stop - high),
        sorted_values=values[low:high],
    )


def categorical_column(series: pd.Series) -> CategoricalColumn:
    """Profile a categorical column: counts of each distinct non-null value."""
    try:
        counts = series.value_counts(dropna=True, sort=False)
    except TypeError as exc:  # unhashable cells (lists, dicts)
        raise DtypeMismatch(
            f"column {series.name!r} holds values that cannot be compared as categories: {exc}"
        ) from exc
    values = counts.to_numpy(dtype=np.int64)
    rows = int(series.shape[0])
    return CategoricalColumn(
        name=str(series.name),
        dtype=str(series.dtype),
        rows=rows,
        nulls=rows - int(values.sum()),  # value_counts drops exactly what isna() finds
        categories=counts.index.to_numpy(dtype=object),
        counts=values,
        numeric_source=is_numeric_series(series),
    )


def profile_column(series: pd.Series, kind: Kind) -> ColumnData:
    """Profile ``series`` as ``kind``."""
    return numeric_column(series) if kind == "numeric" else categorical_column(series)


def reference_column(series: pd.Series, kind: Kind, bins: int) -> ColumnReference:
    """Profile a reference column and, for numbers, fit its PSI quantile bins."""
    data = profile_column(series, kind)
    if isinstance(data, CategoricalColumn):
        return data
    if data.valid == 0:
        return NumericReference(data, np.empty(0), np.zeros(1, dtype=np.int64))
    edges = quantile_edges(data.sorted_values, bins)
    return NumericReference(data, edges, bin_counts(data.sorted_values, edges))


def select_columns(frame: pd.DataFrame, columns: Iterable[str] | None, where: str) -> list[str]:
    """The requested columns (all of ``frame``'s when ``None``), checked to exist."""
    if columns is None:
        return [str(c) for c in frame.columns]
    names = list(columns)
    available = [str(c) for c in frame.columns]
    for name in names:
        if name not in frame.columns:
            raise ColumnNotFound(name, where, available)
    return names


def fit_profile(
    reference: pd.DataFrame,
    *,
    bins: int = 10,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] = (),
    workers: int = 2,
) -> ReferenceProfile:
    """Fit a reusable baseline from ``reference``.

    ``columns`` limits the profile (default: every column); columns named in ``categorical``
    are treated as categories even when numeric; ``bins`` is the number of PSI quantile bins
    (at least 1). Raises :class:`EmptyInput` for a frame without rows and
    :class:`ColumnNotFound` for an unknown column. Numeric columns are sorted on ``workers``
    threads (numpy releases the GIL while sorting)."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    if reference.shape[0] == 0:
        raise EmptyInput(
            "the reference has no rows", hint="fit the profile on a non-empty baseline"
        )
    names = select_columns(reference, columns, "the reference")
    forced = set(categorical)

    def fit_one(name: str) -> tuple[str, ColumnReference]:
        series = reference[name]
        return name, reference_column(series, column_kind(series, forced), bins)

    if workers > 1 and len(names) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            fitted = dict(pool.map(fit_one, names))
    else:
        fitted = dict(map(fit_one, names))
    return ReferenceProfile(columns=fitted, rows=int(reference.shape[0]), bins=bins)
