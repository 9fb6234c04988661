"""A reference profile fitted from a log window or a data file, as stored with a version.

JSON, small: per numeric column its counts, moments, PSI edges and bin counts and a grid
histogram (:mod:`console.diagnostics.grid`); per categorical column its category counts
(the ``CATEGORY_LIMIT`` most frequent, the rest under ``__other__``); per segment the same
when asked for. Built by :func:`console.diagnostics.pushdown.fit_log_profile`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from console.backends.aggregates import ColumnType, Grid, Histogram
from console.diagnostics.errors import EmptyInput
from console.diagnostics.profile import CategoricalColumn
from console.diagnostics.results import finite

PROFILE_FORMAT = 2  # 2: asinh/values grids (1 had quantile-placed cells)
OTHER = "__other__"


# ---- profiles -------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NumericProfile:
    """A numeric column of a reference window: counts, moments, PSI bins and its grid
    histogram (``grid`` and ``hist``; ``None`` without finite values). ``sorted_values``
    is kept in memory when the window was small enough to read (the exact KS/Wasserstein
    path); it is never stored."""

    name: str
    dtype: str
    rows: int
    nulls: int
    infinite: int
    valid: int
    mean: float | None
    variance: float | None
    minimum: float | None
    maximum: float | None
    interior_edges: np.ndarray
    counts: np.ndarray
    grid: Grid | None
    hist: Histogram | None
    median: float | None = None
    sorted_values: np.ndarray | None = None

    kind: str = field(default="numeric", init=False)

    def counts_tuple(self) -> tuple[int, int, int, int]:
        return (self.rows, self.nulls, self.infinite, self.valid)

    def to_dict(self) -> dict[str, Any]:
        hist = self.hist
        return {
            "kind": "numeric",
            "dtype": self.dtype,
            "rows": self.rows,
            "nulls": self.nulls,
            "infinite": self.infinite,
            "valid": self.valid,
            "mean": finite(self.mean),
            "variance": finite(self.variance),
            "min": finite(self.minimum),
            "max": finite(self.maximum),
            "median": finite(self.median),
            "edges": [float(e) for e in self.interior_edges],
            "counts": [int(c) for c in self.counts],
            "grid": self.grid.to_dict() if self.grid else None,
            "hist": None
            if hist is None
            else {
                "keys": hist.keys.tolist(),
                "counts": hist.counts.tolist(),
                "sums": hist.sums.tolist(),
            },
        }

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> NumericProfile:
        grid = Grid.from_dict(d["grid"]) if d.get("grid") else None
        hist = None
        if grid is not None and d.get("hist"):
            dtype = np.float64 if grid.kind == "values" else np.int64
            hist = Histogram(
                np.asarray(d["hist"]["keys"], dtype=dtype),
                np.asarray(d["hist"]["counts"], dtype=np.int64),
                np.asarray(d["hist"]["sums"], dtype=np.float64),
            )
        return cls(
            name,
            d["dtype"],
            int(d["rows"]),
            int(d["nulls"]),
            int(d["infinite"]),
            int(d["valid"]),
            d.get("mean"),
            d.get("variance"),
            d.get("min"),
            d.get("max"),
            np.asarray(d["edges"], dtype=np.float64),
            np.asarray(d["counts"], dtype=np.int64),
            grid,
            hist,
            d.get("median"),
        )


@dataclass(frozen=True, eq=False)
class CategoryProfile:
    """A categorical column of a reference window; ``column.counts`` holds the counts of
    the ``CATEGORY_LIMIT`` most frequent values, the rest summed under ``__other__``."""

    column: CategoricalColumn
    family: str

    kind: str = field(default="categorical", init=False)

    @property
    def name(self) -> str:
        return self.column.name

    def counts_tuple(self) -> tuple[int, int, int, int]:
        c = self.column
        return (c.rows, c.nulls, 0, c.valid)

    def to_dict(self) -> dict[str, Any]:
        c = self.column
        return {
            "kind": "categorical",
            "dtype": c.dtype,
            "family": self.family,
            "rows": c.rows,
            "nulls": c.nulls,
            "numeric_source": c.numeric_source,
            "categories": [_json_value(v) for v in c.categories],
            "counts": [int(n) for n in c.counts],
        }

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> CategoryProfile:
        col = CategoricalColumn(
            name=name,
            dtype=d["dtype"],
            rows=int(d["rows"]),
            nulls=int(d["nulls"]),
            categories=np.asarray(d["categories"], dtype=object),
            counts=np.asarray(d["counts"], dtype=np.int64),
            numeric_source=bool(d["numeric_source"]),
        )
        return cls(col, d.get("family", "text"))


ColumnProfile = NumericProfile | CategoryProfile


@dataclass(frozen=True, eq=False)
class LogProfile:
    """A reference fitted from a log window or a data file. ``segments`` holds the same
    per value of ``segment_by`` when it was asked for; ``meta`` says where it came from."""

    columns: Mapping[str, ColumnProfile]
    rows: int
    bins: int
    schema: Mapping[str, ColumnType] = field(default_factory=dict)
    segment_by: tuple[str, ...] = ()
    segments: Mapping[str, LogProfile] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "rows": self.rows,
            "bins": self.bins,
            "meta": dict(self.meta),
            "schema": {n: [c.dtype, c.family] for n, c in self.schema.items()},
            "columns": {n: c.to_dict() for n, c in self.columns.items()},
            "segment_by": list(self.segment_by),
            "segments": {k: s.to_dict() for k, s in self.segments.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LogProfile:
        if d.get("format") != PROFILE_FORMAT:
            raise EmptyInput(
                f"unknown profile format {d.get('format')!r}",
                hint="rebuild it with `rollbook profile build`",
            )
        cols: dict[str, ColumnProfile] = {}
        for name, c in d["columns"].items():
            cols[name] = (
                NumericProfile.from_dict(name, c)
                if c["kind"] == "numeric"
                else CategoryProfile.from_dict(name, c)
            )
        return cls(
            cols,
            int(d["rows"]),
            int(d["bins"]),
            {n: ColumnType(n, v[0], v[1]) for n, v in d.get("schema", {}).items()},
            tuple(d.get("segment_by", ())),
            {k: cls.from_dict(s) for k, s in d.get("segments", {}).items()},
            d.get("meta", {}),
        )

    @classmethod
    def from_json(cls, text: str) -> LogProfile:
        return cls.from_dict(json.loads(text))


def _json_value(v: Any) -> Any:
    v = v.item() if hasattr(v, "item") else v
    return v if isinstance(v, int | float | str | bool) or v is None else str(v)
