"""A prediction log that is a table in some engine: the ``parquet``, ``postgres`` and
``spark`` plugins open the engine and the table, this class does the rest through ibis.

Options every table plugin shares (``[env.NAME.predictions]``)::

    timestamp = "ts"            # the log's columns, mapped to the names the checks use
    version = "version"
    prediction = "prediction"
    label = "label"             # optional
    segments = ["plan_type", "region"]
    features = ["tenure_months", "avg_order_value_90d"]   # else the registry's lineage
    model_column = "model"      # when one table holds several models (else: one per model)
    [env.NAME.predictions.models.churn]
    table = "churn_predictions" # or path = …: any option above, per model

Engine-neutral: ibis is imported on first use and the engine through the plugin's opener.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.backends.aggregates import LogWindow
from console.backends.ibislog import IbisAggregates
from console.backends.interfaces import PredictionLog
from console.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    import pandas as pd

#: Options about columns, shared by every table plugin.
COLUMN_OPTIONS = (
    "timestamp",
    "version",
    "prediction",
    "label",
    "segments",
    "features",
    "model_column",
    "models",
)
DEFAULT_COLUMNS = {"ts": "ts", "version": "version", "prediction": "prediction", "label": "label"}
_OPTION_OF = {"ts": "timestamp", "version": "version", "prediction": "prediction", "label": "label"}

#: opener(options for one model) -> an ibis table
Opener = Callable[[Mapping[str, Any]], Any]


class TablePredictionLog(PredictionLog):
    """:class:`PredictionLog` over one ibis table per model (or one table with a model
    column). ``opener`` gets the merged options of a model and returns its table."""

    capabilities = frozenset({"aggregates", "segments", "labels"})

    def __init__(
        self,
        engine: str,
        options: Mapping[str, Any],
        opener: Opener,
        *,
        close: Callable[[], None] | None = None,
        config_key: str = "predictions",
    ) -> None:
        self.engine = engine
        self.options = dict(options)
        self._opener = opener
        self._close = close
        self._key = config_key
        self._tables: dict[str, Any] = {}
        models = self.options.get("models") or {}
        if not isinstance(models, Mapping):
            raise ConfigError(None, f"{config_key}.models", "must be a table of models")

    def model_options(self, model: str) -> dict[str, Any]:
        """The options for ``model``: the shared ones, overridden by ``models.<model>``."""
        merged = {k: v for k, v in self.options.items() if k != "models"}
        merged.update((self.options.get("models") or {}).get(model) or {})
        return merged

    def table(self, model: str) -> Any:
        """``model``'s rows with the bookkeeping columns under their canonical names."""
        got = self._tables.get(model)
        if got is not None:
            return got
        opts = self.model_options(model)
        t = self._opener(opts)
        names = set(t.columns)
        model_col = opts.get("model_column")
        if model_col:
            if model_col not in names:
                raise InvalidInput(
                    f"{self.engine}: model column {model_col!r} is not in the log",
                    hint=f"columns: {', '.join(sorted(names)[:12])}",
                )
            t = t.filter(t[model_col].cast("string") == model).drop(model_col)
        renames = {}
        for canonical, default in DEFAULT_COLUMNS.items():
            source = str(opts.get(_OPTION_OF[canonical], default))
            if source != canonical and source in names and canonical not in names:
                renames[canonical] = source
        if renames:
            t = t.rename(renames)
        self._tables[model] = t
        return t

    def aggregates(self, model: str) -> IbisAggregates:
        return IbisAggregates(lambda: self.table(model), engine=f"{self.engine} ({model})")

    def features(self, model: str) -> list[str]:
        return [str(f) for f in self.model_options(model).get("features") or []]

    def segments(self, model: str) -> list[str]:
        return [str(s) for s in self.model_options(model).get("segments") or []]

    def samples(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        segment: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """The most recent ``limit`` rows of the window, oldest first (``ts`` in UTC)."""
        import ibis

        if limit is not None and limit < 0:
            raise InvalidInput(f"limit must be >= 0, got {limit}")
        agg = self.aggregates(model)
        t = agg._filtered(LogWindow(start, end, version, dict(segment or {})))
        if "ts" in t.columns:
            t = t.order_by(ibis.desc("ts"))
        if limit is not None:
            t = t.limit(limit)
        frame = agg._run("reading samples", t.to_pandas)
        if "ts" in frame.columns:
            frame = frame.iloc[::-1].reset_index(drop=True)
            import pandas as pd

            ts = frame["ts"]
            if pd.api.types.is_numeric_dtype(ts):
                frame["ts"] = pd.to_datetime(ts, unit="s", utc=True)
            elif getattr(ts.dt, "tz", None) is None:
                frame["ts"] = ts.dt.tz_localize(UTC)
            else:
                frame["ts"] = ts.dt.tz_convert(UTC)
        return frame

    def close(self) -> None:
        self._tables.clear()
        if self._close is not None:
            close, self._close = self._close, None
            close()
