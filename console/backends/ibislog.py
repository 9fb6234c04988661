"""The one query builder: :class:`LogAggregates` as ibis expressions, for any engine.

ibis builds each question once as an expression and compiles it (through sqlglot) to the
SQL of the engine that holds the log — DuckDB over Parquet or CSV files, PostgreSQL, Spark
— so no dialect is written by hand and every engine answers the same question. ibis is
imported on first use only; this module is engine-neutral (the plugins open the engine and
hand over a table).

Every answer is a handful of rows: one row per window (or segment) for :meth:`summarize`,
one per grid key for :meth:`histogram`, one per category for :meth:`categories`. Values
cross into Python only through :meth:`values` (refused above its limit) and
:meth:`cell_values` (a few grid cells).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.backends.aggregates import (
    ALL,
    CATEGORY_LIMIT,
    EXACT_LIMIT,
    ColumnSummary,
    ColumnType,
    Family,
    Grid,
    Histogram,
    LogAggregates,
    LogWindow,
)
from console.errors import BackendError, InvalidInput, RollbookError

if TYPE_CHECKING:
    import numpy as np

_MAX_DOUBLE = 1.7976931348623157e308
_CAP = 1e150  # |y| before asinh(y): its square must stay finite (as in grid.asinh_t)
#: Largest |value| whose column gets a variance: past it the sum of squared deviations can
#: overflow, which DuckDB raises as an error ("VARPOP is out of range") for the whole query.
_VAR_CAP = 1e100
#: Canonical names of the bookkeeping columns, as the checks read them.
CANONICAL = ("ts", "version", "prediction", "label")


def family_of(dtype: Any) -> Family:
    """The kind of an ibis data type: booleans are ``bool`` (compared as categories)."""
    if dtype.is_boolean():
        return "bool"
    if dtype.is_timestamp() or dtype.is_date():
        return "datetime"
    if dtype.is_numeric():
        return "number"
    return "text"


class IbisAggregates(LogAggregates):
    """:class:`LogAggregates` over an ibis table.

    ``table`` is called on every question (a plugin may reopen a lost connection there);
    its columns carry the canonical names (``ts``, ``version``, ``prediction``, ``label``:
    a plugin renames the log's own columns before handing the table over). ``engine`` names
    the engine in errors. A failing query is a :class:`BackendError` (the log's engine or
    its configuration), or what ``failed(what, message)`` makes of it: over a data file, a
    query that fails on its content (a value a late row cannot convert, a column name the
    engine cannot quote) is bad input data, not an unreachable backend."""

    def __init__(
        self,
        table: Callable[[], Any],
        *,
        engine: str,
        close: Callable[[], None] | None = None,
        failed: Callable[[str, str], RollbookError] | None = None,
    ) -> None:
        self._table = table
        self.engine = engine
        self._close = close
        self._failed = failed
        self._schema: dict[str, Any] | None = None

    # ---- plumbing ------------------------------------------------------------------------
    def _run(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except RollbookError:
            raise
        except Exception as exc:  # engines raise their own error types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self._failed is not None:
                raise self._failed(what, first[:300]) from exc
            raise BackendError(
                f"{self.engine}: {what} failed: {first[:300]}",
                hint="check the prediction log's configuration (path/table and columns)",
            ) from exc

    def _types(self) -> dict[str, Any]:
        if self._schema is None:
            schema = self._run("reading the schema", lambda: self._table().schema())
            self._schema = dict(zip(schema.names, schema.types, strict=True))
        return self._schema

    def _check(self, column: str) -> Any:
        types = self._types()
        if column not in types:
            shown = ", ".join(list(types)[:12])
            raise InvalidInput(
                f"column {column!r} is not in the prediction log",
                hint=f"columns: {shown}",
            )
        return types[column]

    def _filtered(self, window: LogWindow) -> Any:
        import ibis

        t = self._table()
        types = self._types()
        conds = []
        if (window.start or window.end) and "ts" in types:
            ts, dtype = t["ts"], types["ts"]
            for bound, op in ((window.start, "ge"), (window.end, "lt")):
                if bound is None:
                    continue
                lit = _time_literal(ibis, bound, dtype)
                conds.append(ts >= lit if op == "ge" else ts < lit)
        elif window.start or window.end:
            raise InvalidInput(
                "the prediction log has no timestamp column to cut a window from",
                hint="set timestamp = COLUMN in the predictions plugin's options",
            )
        if window.version is not None:
            self._check("version")
            conds.append(t["version"].cast("string") == str(window.version))
        for col, value in window.where.items():
            self._check(col)
            conds.append(t[col].cast("string") == str(value))
        return t.filter(*conds) if conds else t

    def _number(self, t: Any, column: str) -> tuple[Any, Any, Any]:
        """(the column as float64, its null test, its finite test)."""
        dtype = self._check(column)
        col = t[column]
        if dtype.is_timestamp():
            value = col.epoch_seconds().cast("float64")
        elif dtype.is_date():
            value = col.cast("timestamp").epoch_seconds().cast("float64")
        else:
            value = col.cast("float64")
        if dtype.is_floating() or dtype.is_decimal():
            nan = value.isnan()
            null = col.isnull() | nan
            # ±inf as "beyond the largest double", not isinf(): Spark's compiled isinf
            # compares with CAST('Inf' AS DOUBLE), which Spark does not parse
            # one range test: NULL fails it, and NaN sorts above every number on DuckDB,
            # PostgreSQL and Spark alike, so it fails it too
            finite = value.between(-_MAX_DOUBLE, _MAX_DOUBLE)
        else:
            null = col.isnull()
            finite = col.notnull()
        return value, null, finite

    def _finite(self, window: LogWindow, column: str) -> tuple[Any, Any]:
        """The window's rows where ``column`` is finite, and the column as float64 there."""
        t = self._filtered(window)
        kept = t.filter(self._number(t, column)[2])
        return kept, self._number(kept, column)[0]

    def _group(self, t: Any, by: Sequence[str]) -> Any:
        import ibis

        if not by:
            return ibis.literal(ALL)
        parts = []
        for col in by:
            self._check(col)
            parts.append(t[col].cast("string").fill_null("None"))
        key = parts[0]
        for part in parts[1:]:
            key = key.concat("/", part)
        return key

    # ---- LogAggregates -------------------------------------------------------------------
    def columns(self, window: LogWindow | None = None) -> list[ColumnType]:
        return [ColumnType(n, str(d), family_of(d)) for n, d in self._types().items()]

    def rows(self, window: LogWindow, *, by: Sequence[str] = ()) -> dict[str, int]:
        t = self._filtered(window)
        key = self._group(t, by).name("__key")
        frame = self._run("a row count", t.group_by(key).aggregate(__n=t.count()).to_pandas)
        return {str(k): _int(n) for k, n in zip(frame["__key"], frame["__n"], strict=True)}

    def summarize(
        self,
        window: LogWindow,
        columns: Sequence[str],
        *,
        edges: Mapping[str, Sequence[float]] | None = None,
        by: Sequence[str] = (),
    ) -> dict[str, dict[str, ColumnSummary]]:
        import ibis

        edges = edges or {}
        t = self._filtered(window)
        metrics: dict[str, Any] = {"rows": t.count()}
        plan: list[tuple[str, bool, int]] = []
        for i, name in enumerate(columns):
            dtype = self._check(name)
            numeric = family_of(dtype) in ("number", "datetime")
            if not numeric:
                metrics[f"n{i}"] = _count_if(t[name].isnull())
                plan.append((name, False, 0))
                continue
            value, null, finite = self._number(t, name)
            # the finite value or NULL, and plain aggregates over it: DuckDB runs FILTER
            # clauses by copying the input per aggregate (quadratic in the columns)
            fv = ibis.ifelse(finite, value, ibis.null("float64"))
            cuts = [float(e) for e in edges.get(name, ())]
            metrics[f"n{i}"] = _count_if(null)
            metrics[f"f{i}"] = fv.count()
            if dtype.is_floating() or dtype.is_decimal():
                minus = ~value.isnan() & (value < -_MAX_DOUBLE)
                metrics[f"ni{i}"] = _count_if(minus)
            metrics[f"lo{i}"] = fv.min()
            metrics[f"hi{i}"] = fv.max()
            metrics[f"mu{i}"] = fv.mean()
            # a column with a value past _VAR_CAP has no variance (None, like an empty one);
            # below it the clip changes nothing
            wide = fv.abs().max() > _VAR_CAP
            var = fv.clip(-_VAR_CAP, _VAR_CAP).var(how="pop")
            metrics[f"var{i}"] = ibis.ifelse(wide, ibis.null("float64"), var)
            for k, e in enumerate(cuts):
                metrics[f"b{i}_{k}"] = _count_if(fv < e)
            plan.append((name, True, len(cuts)))
        if by:
            key = self._group(t, by).name("__key")
            query = t.group_by(key).aggregate(**metrics)
        else:  # no GROUP BY: one row even for an empty window
            query = t.aggregate(**metrics)
        frame = self._run("a summary query", query.to_pandas)
        out: dict[str, dict[str, ColumnSummary]] = {}
        for rec in frame.to_dict("records"):
            rows = _int(rec["rows"])
            if not by and rows == 0:
                break
            per: dict[str, ColumnSummary] = {}
            for i, (name, numeric, ncuts) in enumerate(plan):
                nulls = _int(rec[f"n{i}"])
                if not numeric:
                    per[name] = ColumnSummary(name, rows, nulls)
                    continue
                valid = _int(rec[f"f{i}"])
                per[name] = ColumnSummary(
                    name,
                    rows,
                    nulls,
                    infinite=rows - nulls - valid,
                    negative_infinite=_int(rec.get(f"ni{i}", 0)),
                    valid=valid,
                    minimum=_float(rec[f"lo{i}"]) if valid else None,
                    maximum=_float(rec[f"hi{i}"]) if valid else None,
                    mean=_float(rec[f"mu{i}"]) if valid else None,
                    variance=_float(rec[f"var{i}"]) if valid else None,
                    below=tuple(_int(rec[f"b{i}_{k}"]) for k in range(ncuts)),
                )
            out[str(rec["__key"]) if by else ALL] = per
        return out

    def categories(
        self,
        window: LogWindow,
        column: str,
        *,
        by: Sequence[str] = (),
        limit: int = CATEGORY_LIMIT,
    ) -> dict[str, tuple[list[Any], list[int], int]]:
        import ibis

        dtype = self._check(column)
        t = self._filtered(window)
        present = t[column].notnull()
        if dtype.is_floating() or dtype.is_decimal():
            present = present & ~t[column].cast("float64").isnan()
        kept = t.filter(present)
        key = self._group(kept, by).name("__key")
        counts = kept.group_by([key, kept[column].name("__value")]).aggregate(__n=kept.count())
        rank = ibis.row_number().over(group_by=counts["__key"], order_by=ibis.desc(counts["__n"]))
        ranked = counts.mutate(__rank=rank)
        top = ranked.filter(ranked["__rank"] < limit)
        totals = ranked.group_by("__key").aggregate(__total=ranked["__n"].sum())
        top_frame = self._run("a category count", top.to_pandas)
        full = top_frame.groupby("__key").size() if len(top_frame) else None
        if full is not None and int(full.max()) >= limit:
            total_frame = self._run("a category count", totals.to_pandas)
        else:  # no group was cut: nothing past the limit
            total_frame = top_frame.groupby("__key", as_index=False).agg(__total=("__n", "sum"))
        out: dict[str, tuple[list[Any], list[int], int]] = {}
        for key_value, part in top_frame.groupby("__key", sort=False):
            part = part.sort_values(["__n", "__rank"], ascending=[False, True])
            out[str(key_value)] = (
                [_plain(v) for v in part["__value"]],
                [int(n) for n in part["__n"]],
                0,
            )
        for rec in total_frame.to_dict("records"):
            k = str(rec["__key"])
            values, ns, _ = out.get(k, ([], [], 0))
            out[k] = (values, ns, _int(rec["__total"]) - sum(ns))
        return out

    def _grid_key(self, value: Any, grid: Grid) -> Any:
        """The grid key of a finite ``value`` (see :class:`Grid`): arithmetic only. (A
        tree of comparisons cost DuckDB 0.5–2.5 µs a row; this costs a few ns.)"""
        import ibis

        if grid.kind == "values":
            return value
        if grid.kind == "linear":
            return ((value - grid.origin) / grid.width).floor().cast("int64")
        y = (value - grid.center) / grid.scale
        y = ibis.greatest(-_CAP, ibis.least(_CAP, y))
        t = y.sign() * (y.abs() + (y * y + 1.0).sqrt()).ln()
        return ((t - grid.origin) / grid.width).floor().cast("int64")

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
        import ibis
        import numpy as np

        kept, value = self._finite(window, column)
        key = self._group(kept, by).name("__key")
        cell = self._grid_key(value, grid).name("__cell")
        groups = [key, cell]
        cuts = None if edges is None else np.asarray(sorted(map(float, edges)), dtype=np.float64)
        split = _split_cells(grid, cuts) if cuts is not None and cuts.size else None
        if cuts is not None and cuts.size and grid.kind != "values":
            if split is not None:
                # only the cells next to an edge need a comparison: one CASE on the cell
                # (the Σ (value ≥ edge) of every edge cost 2× the histogram itself)
                flag = ibis.cases(
                    *((cell == k, value >= e) for k, e in split.items()), else_=ibis.literal(False)
                )
                groups.append(flag.name("__flag"))
            else:  # edges closer than two cells: count each bin the plain way
                bin_ = ibis.literal(0)
                for e in cuts:
                    bin_ = bin_ + ibis.ifelse(value >= float(e), 1, 0)
                groups.append(bin_.name("__bin"))
        query = kept.group_by(groups).aggregate(__n=kept.count(), __s=value.sum())
        if limit is not None and not by:
            query = query.limit(limit + 1)
        frame = self._run("a histogram query", query.to_pandas)
        if limit is not None and not by and len(frame) > limit:
            return None
        dtype = np.float64 if grid.kind == "values" else np.int64
        out: dict[str, Histogram] = {}
        if cuts is not None and "__bin" not in frame.columns and len(frame):
            frame["__bin"] = _bins_of(grid, cuts, split, frame)
        for key_value, part in frame.groupby("__key", sort=False):
            bins = None
            if cuts is not None and not cuts.size:
                bins = np.array([int(part["__n"].sum())], dtype=np.int64)
            elif cuts is not None:
                per_bin = part.groupby("__bin")["__n"].sum()
                bins = np.zeros(cuts.size + 1, dtype=np.int64)
                bins[per_bin.index.to_numpy(dtype=np.int64)] = per_bin.to_numpy(dtype=np.int64)
                part = part.groupby("__cell", as_index=False).agg(
                    __n=("__n", "sum"), __s=("__s", "sum")
                )
            part = part.sort_values("__cell")
            out[str(key_value)] = Histogram(
                part["__cell"].to_numpy(dtype=dtype),
                part["__n"].to_numpy(dtype=np.int64),
                part["__s"].to_numpy(dtype=np.float64),
                bins,
            )
        return out

    def approx_distinct(self, window: LogWindow, columns: Sequence[str]) -> dict[str, int]:
        import ibis

        t = self._filtered(window)
        metrics = {}
        for i, column in enumerate(columns):
            value, _, finite = self._number(t, column)
            metrics[f"d{i}"] = ibis.ifelse(finite, value, ibis.null("float64")).approx_nunique()
        if not metrics:
            return {}
        rec = self._run("a distinct count", t.aggregate(**metrics).to_pandas).to_dict("records")[0]
        return {c: _int(rec[f"d{i}"]) for i, c in enumerate(columns)}

    def values(
        self, window: LogWindow, column: str, *, by: Sequence[str] = (), limit: int = EXACT_LIMIT
    ) -> dict[str, np.ndarray] | None:
        import numpy as np

        kept, value = self._finite(window, column)
        key = self._group(kept, by).name("__key")
        sizes = self._run("a count", kept.group_by(key).aggregate(__n=kept.count()).to_pandas)
        if len(sizes) and int(sizes["__n"].max()) > limit:
            return None
        table = self._run("reading values", kept.select(key, value.name("__v")).to_pyarrow)
        keys = table.column("__key").to_numpy(zero_copy_only=False)
        vals = table.column("__v").to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        if not by:
            return {ALL: vals}
        out: dict[str, np.ndarray] = {}
        for k in np.unique(keys.astype(str)) if keys.size else []:
            out[str(k)] = vals[keys.astype(str) == k]
        return out

    def cell_values(
        self, window: LogWindow, column: str, grid: Grid, keys: Sequence[int]
    ) -> dict[int, np.ndarray]:
        import numpy as np

        kept, value = self._finite(window, column)
        cell = self._grid_key(value, grid)
        wanted = kept.mutate(__cell=cell).filter(lambda t: t["__cell"].isin([int(k) for k in keys]))
        query = wanted.select("__cell", self._number(wanted, column)[0].name("__v"))
        table = self._run("reading grid cells", query.to_pyarrow)
        cells = table.column("__cell").to_numpy(zero_copy_only=False).astype(np.int64)
        vals = table.column("__v").to_numpy(zero_copy_only=False).astype(np.float64)
        return {int(k): vals[cells == k] for k in keys}

    def approx_quantiles(
        self, window: LogWindow, columns: Sequence[str], probabilities: Sequence[float]
    ) -> dict[str, list[float]]:
        import ibis

        t = self._filtered(window)
        qs = [float(p) for p in probabilities]
        metrics = {}
        for c, column in enumerate(columns):
            value, _, finite = self._number(t, column)
            fv = ibis.ifelse(finite, value, ibis.null("float64"))
            # one sketch per column for all the probabilities (not one per probability)
            metrics[f"q{c}"] = fv.approx_quantile(qs)
        frame = self._run("a quantile query", t.aggregate(**metrics).to_pandas)
        rec = frame.to_dict("records")[0]
        out: dict[str, list[float]] = {}
        for c, column in enumerate(columns):
            got = rec[f"q{c}"]
            values = [] if got is None else [_float(v) for v in got]
            out[column] = [v for v in values if v is not None]
        return out

    def close(self) -> None:
        if self._close is not None:
            close, self._close = self._close, None
            close()


def _split_cells(grid: Grid, cuts: Any) -> dict[int, float] | None:
    """Cell → the one edge it (or a neighbour, for rounding) may hold; ``None`` when two
    edges fall within two cells of each other (then every row is compared with every
    edge). A values grid needs none: its keys are the values."""
    if grid.kind == "values":
        return {}
    out: dict[int, float] = {}
    for e, k in zip(cuts.tolist(), grid.keys_of(cuts).tolist(), strict=True):
        for cell in (k - 1, k, k + 1):
            if cell in out and out[cell] != e:
                return None
            out[cell] = e
    return out


def _bins_of(grid: Grid, cuts: Any, split: dict[int, float] | None, frame: Any) -> Any:
    """Each histogram row's bin (the number of edges ≤ its values), exact: a values grid
    compares its keys; a cell next to an edge has the engine's comparison flag; any other
    cell lies wholly between two edges (none within a cell of it), so its lower end says."""
    import numpy as np

    keys = frame["__cell"].to_numpy()
    if grid.kind == "values":
        return np.searchsorted(cuts, keys.astype(np.float64), side="right")
    bins = np.searchsorted(cuts, grid.left(keys), side="right")
    if split:
        position = {e: int(np.searchsorted(cuts, e, side="left")) for e in set(split.values())}
        near = np.array([int(k) in split for k in keys], dtype=bool)
        if near.any():
            flags = frame["__flag"].to_numpy(dtype=bool)
            own = np.array(
                [position[split[int(k)]] if int(k) in split else 0 for k in keys], dtype=np.int64
            )
            bins = np.where(near, own + flags, bins)
    return bins


def _count_if(condition: Any) -> Any:
    """Rows where ``condition`` holds (a null condition does not count). ``CASE`` rather
    than a cast: PostgreSQL cannot cast a boolean to a bigint."""
    import ibis

    return ibis.ifelse(condition, 1, 0).sum()


def _time_literal(ibis: Any, when: datetime, dtype: Any) -> Any:
    """``when`` in the type of the log's timestamp column: epoch seconds for a number, a
    naive UTC timestamp for a column without a time zone, an aware one otherwise."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    if dtype.is_numeric():
        return ibis.literal(aware.timestamp())
    if getattr(dtype, "timezone", None):
        return ibis.literal(aware.astimezone(UTC), type=dtype)
    return ibis.literal(aware.astimezone(UTC).replace(tzinfo=None), type=dtype)


def _int(value: Any) -> int:
    try:
        return 0 if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return None if out != out else out


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so categories compare across engines."""
    return value.item() if hasattr(value, "item") else value
