"""PredictionLog role: logged requests with raw inputs, features, segments, prediction, label."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from console.backends.framelog import SamplesAggregates
from console.backends.interfaces import PredictionLog
from console.errors import InvalidInput, NotFound
from plugins.embedded.db import column_names
from plugins.embedded.fleet import FLEET
from plugins.embedded.guard import guarded
from plugins.embedded.world import EmbeddedWorld, to_ts

if TYPE_CHECKING:
    import pandas as pd

_HIDDEN = ("tick", "row")


class EmbeddedPredictionLog(PredictionLog):
    """Rows per model: churn 10/min, recommendations 10/min, credit-score 10/min, fraud
    20/min, pricing 10/min. Segment columns: churn ``plan_type``/``region``; recommendations
    ``user_segment`` (new/medium/power); fraud ``channel``/``user_tenure``; any categorical
    feature (e.g. pricing ``category``) also works as a ``segment`` key. ``label`` is known
    for fraud (is_fraud) and recommendations (clicked), NaN elsewhere. A raw column that is
    entirely empty in the window is left out — so after an upstream rename a window shows the
    new column name only. ``limit`` keeps the most recent rows (returned oldest first). Rows
    are written on the first read of their window (deterministic, so the same rows as if they
    had been logged with the ticks)."""

    capabilities = frozenset({"segments", "labels", "aggregates"})

    def __init__(self, world: EmbeddedWorld) -> None:
        self.world = world

    def aggregates(self, model: str) -> SamplesAggregates:
        """The pushdown questions answered in process over this log's rows (the simulated
        log is generated per window, so DuckDB over each window's rows is its engine)."""
        if model not in FLEET:
            raise NotFound(f"unknown model {model!r}", hint=f"models: {', '.join(FLEET)}")

        def sampler(start, end, version, segment):
            return self.samples(model, start, end, version=version, segment=segment)

        return SamplesAggregates(sampler, engine=f"embedded {model} log")

    @guarded("predictions")
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
        import pandas as pd  # on the first read of the log, not on every start of the world

        spec = FLEET.get(model)
        if spec is None:
            raise NotFound(f"unknown model {model!r}", hint=f"models: {', '.join(FLEET)}")
        self.world.catch_up()
        lo, hi = to_ts(start), to_ts(end)
        table = self.world.materialize_samples(model, lo, hi)
        if table is None:
            cols = [
                "ts",
                "version",
                *spec.raw_columns,
                *spec.info.features,
                *(s for s in spec.segments if s not in spec.info.features),
                "prediction",
                "label",
            ]
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        with self.world.lock:
            columns = [c for c in column_names(self.world.db, table) if c not in _HIDDEN]
        where = ["tick >= ?", "tick < ?", "ts >= ?", "ts <= ?"]
        args: list = [int(lo // 60) * 60, hi + 60, lo, hi]
        if version is not None:
            where.append("version = ?")
            args.append(version)
        for key, value in (segment or {}).items():
            allowed = dict.fromkeys((*spec.segments, *spec.categorical))
            if key not in allowed:
                raise InvalidInput(
                    f"{model} has no segment column {key!r}",
                    hint=f"segment columns: {', '.join(allowed) or '—'}",
                )
            where.append(f"{key} = ?")
            args.append(str(value))
        sql = (
            f"SELECT {', '.join(columns)} FROM {table} WHERE {' AND '.join(where)}"
            " ORDER BY tick DESC, row DESC"
        )
        if limit is not None:
            if limit < 0:
                raise InvalidInput(f"limit must be >= 0, got {limit}")
            sql += f" LIMIT {int(limit)}"
        rows = self.world.q(sql, tuple(args))[::-1]
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["ts"] = pd.to_datetime(frame["ts"].astype(float), unit="s", utc=True)
        keep = (
            set(spec.info.features) | set(spec.segments) | {"ts", "version", "prediction", "label"}
        )
        empty = [c for c in frame.columns if c not in keep and frame[c].isna().all()]
        if len(frame):
            frame = frame.drop(columns=empty)
        else:
            frame = frame.drop(columns=[c for c in empty if c not in spec.raw_columns])
        return frame.reset_index(drop=True)
