"""Charts of an incident's key signals, drawn with matplotlib into inline SVG.

Only the HTML post-mortem uses them, and matplotlib is imported only here, when asked.
Output is deterministic (fixed hash salt, no date metadata, text kept as text) so golden
files and screenshots are stable.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# (time, value); a value of None is a gap (no sample, or NaN/inf from the backend).
Series = Sequence[tuple[datetime, float | None]]

_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


@dataclass(frozen=True)
class ActionMark:
    """A vertical line on every chart: when an action finished and what it did."""

    at: datetime
    label: str


@dataclass(frozen=True)
class SignalChart:
    signal: str
    svg: str  # an inline ``<svg>`` element (no XML prolog)
    points: int

    def to_dict(self) -> dict[str, Any]:
        return {"signal": self.signal, "points": self.points}


def action_marks(events: Sequence[Any]) -> list[ActionMark]:
    """Marks for actions that finished (``action.finished``), or were verified when no
    finish was recorded (``action.verified``), one per ``action_id``, in time order.
    The label names the action and where it went (``to``/``after`` from any of its
    events): ``rollback → v41``."""
    finished = {e.payload.get("action_id") for e in events if e.kind == "action.finished"}
    target: dict[Any, str] = {}
    for e in events:
        to = e.payload.get("to") or e.payload.get("after")
        if e.kind.startswith("action.") and isinstance(to, str | int | float) and to != "":
            target.setdefault(e.payload.get("action_id"), str(to))
    marks, seen = [], set()
    for e in events:
        aid = e.payload.get("action_id")
        if e.kind == "action.finished" or (e.kind == "action.verified" and aid not in finished):
            if aid is not None and aid in seen:
                continue
            seen.add(aid)
            label = str(e.payload.get("action") or e.message or "action")
            if target.get(aid):
                label += f" → {target[aid]}"
            marks.append(ActionMark(e.ts, label))
    return marks


def _clean(points: Series) -> list[tuple[datetime, float | None]]:
    out = []
    for at, value in points:
        v = None if value is None else float(value)
        if v is not None and v != v:  # NaN
            v = None
        out.append((at, v))
    return sorted(out, key=lambda p: p[0])


def render_chart(
    signal: str,
    points: Series,
    marks: Sequence[ActionMark],
    *,
    width_in: float = 8.0,
    height_in: float = 2.6,
) -> SignalChart | None:
    """One signal as an SVG line chart with the actions as labelled vertical lines.

    Returns None when the series has no finite value to draw."""
    data = _clean(points)
    if not any(v is not None for _, v in data):
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    with matplotlib.rc_context(
        {
            "svg.hashsalt": "rollbook",
            "svg.fonttype": "none",
            "font.size": 9,
            "font.family": "DejaVu Sans",
        }
    ):
        fig = Figure(figsize=(width_in, height_in))
        ax = fig.add_subplot()
        xs = [t for t, _ in data]
        ys = [float("nan") if v is None else v for _, v in data]
        # times as matplotlib date numbers on a date axis (what matplotlib does with
        # datetimes itself; its type hints accept only the numbers)
        ax.xaxis_date(xs[0].tzinfo)
        ax.plot(mdates.date2num(xs), ys, color="#1f6feb", linewidth=1.6, label=signal)
        times = xs + [m.at for m in marks]
        lo, hi = min(times), max(times)
        pad = (hi - lo) * 0.02 if hi > lo else timedelta(minutes=1)
        ax.set_xlim(mdates.date2num(lo - pad), mdates.date2num(hi + pad))
        span = (hi - lo + 2 * pad).total_seconds()
        for m in marks:
            # labels near the right edge go on the left of their line so they stay visible
            right_side = (m.at - lo + pad).total_seconds() / span > 0.7
            ax.axvline(mdates.date2num(m.at), color="#d1242f", linestyle="--", linewidth=1.0)
            ax.annotate(
                m.label,
                xy=(m.at, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(-3 if right_side else 3, -10),
                textcoords="offset points",
                color="#d1242f",
                fontsize=8,
                va="top",
                ha="right" if right_side else "left",
            )
        ax.set_title(signal, loc="left", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=xs[0].tzinfo))
        ax.set_xlabel("UTC")
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _PROLOG.sub("", buf.getvalue(), count=1).strip()
    return SignalChart(signal, svg, len(data))


def signal_charts(
    series: Mapping[str, Series], marks: Sequence[ActionMark]
) -> tuple[list[SignalChart], list[str]]:
    """Charts for every signal in ``series`` (in the given order) and notes for the ones
    that had nothing to draw."""
    charts, notes = [], []
    for signal, points in series.items():
        chart = render_chart(signal, points, marks)
        if chart is None:
            notes.append(f"{signal}: no data in the incident window")
        else:
            charts.append(chart)
    return charts, notes
