"""View models: plain data the TUI renders, assembled from core calls. Headless and
testable; the TUI only draws these and sends intents back."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from console.errors import RollbookError
from console.fleet import ModelStatus, fleet_status
from console.recovery import RecoveryWatch
from console.store import Incident, TimelineEvent
from console.workspace import Workspace

if TYPE_CHECKING:
    from console.backends.types import ModelVersion
    from console.diagnostics.report import DriftReport
    from console.reports.blameless import BlameFinding
    from console.reports.record import ActionItem
    from console.runbooks.engine import StepView

SPARK_MINUTES = 60
#: Seconds the incident screen waits for its optional parts (the chart, the alerts): the
#: record itself comes from the store and never waits on a backend.
CHART_DEADLINE_S = 2.0
BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(
    values: list[float | None], width: int | None = None, *, min_relative_span: float = 0.25
) -> str:
    """Unicode block sparkline; gaps (None) render as spaces.

    The vertical scale spans at least ``min_relative_span`` of the series' typical magnitude,
    so ordinary noise on a healthy signal draws as a calm line and only a real move fills
    the height (auto-scaling noise to full height looks like an outage at 3 AM)."""
    vals = values[-width:] if width else values
    nums = [v for v in vals if v is not None]
    if not nums:
        return " " * len(vals)
    lo, hi = min(nums), max(nums)
    floor = min_relative_span * max(abs(v) for v in nums)
    if hi - lo < floor:
        mid = (hi + lo) / 2
        lo, hi = mid - floor / 2, mid + floor / 2
    span = hi - lo
    out = []
    for v in vals:
        if v is None:
            out.append(" ")
        elif span <= 1e-12:
            out.append(BLOCKS[3])
        else:
            out.append(BLOCKS[min(7, int((v - lo) / span * 7.999))])
    return "".join(out)


@dataclass
class FleetRow:
    status: ModelStatus
    #: the key signal's last ``SPARK_MINUTES``, a value per minute (None: a gap); None when
    #: it was not read for this row (a model the screen does not show, see ``fleet_view``)
    spark: list[float | None] | None


@dataclass
class FleetView:
    env: str
    rows: list[FleetRow]
    as_of: datetime
    error: str | None = None
    #: model -> "canary-error-creep injected, no alert yet · watching error_rate 0.9% (alert
    #: at 5.0%)": a simulated fault whose alert has not fired (the fleet is not all green)
    watching: dict[str, str] = field(default_factory=dict)


#: signal -> (threshold name in [thresholds], "above" | "below"): what an alert watches
ALERT_LIMITS = {
    "error_rate": ("error_rate_max", "above"),
    "latency_p99_ms": ("latency_p99_ms_max", "above"),
    "output_diversity": ("output_diversity_min", "below"),
}


def watching_line(ws: Workspace, st: ModelStatus, scenario: str) -> str:
    """What a fault that has not fired an alert yet is watched by, in words."""
    from console.formatting import format_signal

    parts = []
    # the model's key signal and the error rate (what a canary's creeping failure moves)
    for sig in dict.fromkeys([st.key_signal, "error_rate"]):
        value = st.signals.get(sig)
        if value is None:
            continue
        text = f"{sig} {format_signal(sig, value)}"
        limit = ALERT_LIMITS.get(sig)
        if limit is not None and limit[0] in ws.config.thresholds:
            text += f" (alert {limit[1]} {format_signal(sig, ws.config.thresholds[limit[0]])})"
        parts.append(text)
    return f"{scenario} injected, no alert yet · watching " + (", ".join(parts) or "its signals")


def fleet_view(
    ws: Workspace,
    *,
    minutes: int = SPARK_MINUTES,
    sparks_for: Callable[[list[ModelStatus]], Collection[str]] | None = None,
) -> FleetView:
    """Every model's status and the sparkline of its key signal. ``sparks_for`` (default:
    every model) names the models whose signal history is read — one range query each, so
    a screen that shows 200 rows of a 5,000-model fleet asks for 200, not 5,000."""
    now = ws.now()
    rows = []
    statuses = fleet_status(ws)
    watching: dict[str, str] = {}
    world = ws.backends.world
    if world is not None:
        try:
            faults = world.active_faults()
        except (RollbookError, NotImplementedError):
            faults = []
        by_model = {st.model: st for st in statuses}
        for fault in faults:
            st = by_model.get(str(fault.get("model")))
            if st is not None and not st.alerts and not st.open_incidents:
                watching[st.model] = watching_line(ws, st, str(fault.get("scenario", "a fault")))
    wanted = None if sparks_for is None else set(sparks_for(statuses))
    for st in statuses:
        spark: list[float | None] | None = None
        if wanted is None or st.model in wanted:
            spark = []
        if spark is not None and st.error is None:
            try:
                pts = ws.backends.metrics.query_range(
                    st.key_signal, st.model, now - timedelta(minutes=minutes), now, step_seconds=60
                )
                spark = [p.value for p in pts]
            except Exception as exc:  # noqa: BLE001 - a sparkline must never take the row down
                st = ModelStatus(**{**st.__dict__, "error": f"signal history: {exc}"})
        rows.append(FleetRow(st, spark))
    return FleetView(ws.env.name, rows, now, watching=watching)


@dataclass
class IncidentView:
    incident: Incident
    timeline: list[TimelineEvent]
    now: datetime
    elapsed: timedelta
    cost: float | None  # money at risk so far: revenue/hour × time until mitigated (or now)
    currency: str
    total_events: int
    steps: list[StepView] = field(default_factory=list)  # when a runbook runs
    current: StepView | None = None
    signal: str | None = None
    series: list[tuple[datetime, float | None]] = field(default_factory=list)
    action_marks: list[tuple[datetime, str]] = field(default_factory=list)
    killswitch: str | None = None  # the model sits on this fallback level (a kill switch)
    recovery: RecoveryWatch | None = None  # after a mitigation: is the signal coming back?
    #: alert names still firing for the model once the incident is resolved (the screen
    #: offers to open their incident); empty while the incident is open
    alerts_firing: list[str] = field(default_factory=list)
    commander: str | None = None  # the incident's commander, as assigned on the timeline
    #: who else has the incident open now (presence), not the acting person
    viewers: list[str] = field(default_factory=list)


def incident_cost(ws: Workspace, inc: Incident, now: datetime) -> float | None:
    rph = ws.env.revenue_per_hour.get(inc.model)
    if rph is None or inc.detected_at is None:
        return None
    end = inc.mitigated_at or now
    return rph * max(0.0, (end - inc.detected_at).total_seconds()) / 3600.0


def incident_model(ws: Workspace, incident_id: str) -> str:
    """The incident's model, from the store alone (no backend): what R/K/U act on."""
    return ws.store.get(incident_id).model


def incident_view(
    ws: Workspace, incident_id: str, *, timeline_limit: int = 200, here: bool = False
) -> IncidentView:
    """Everything the incident screen shows. With ``here`` the acting person is marked as
    viewing the incident (a console that has it open; presence expires on its own).
    Delivery bookkeeping (``notify.*`` events) is not part of the shown timeline."""
    from console.recovery import observe
    from console.team import presence_ttl, roles

    # observing first: a recovery seen now is recorded (mitigated, cost clock stopped) before
    # the record is read for the screen
    try:
        recovery = observe(ws, incident_id)
    except RollbookError:
        recovery = None  # a metrics outage must not take the incident screen down
    inc = ws.store.get(incident_id)
    now = ws.now()
    events, total = ws.store.tail(inc.id, timeline_limit)
    events = [e for e in events if not e.kind.startswith("notify.")]
    if here:
        ws.store.heartbeat(inc.id, ws.actor, now)
    viewers = [p for p, _ in ws.store.viewers(inc.id, now - presence_ttl(ws)) if p != ws.actor]
    steps: list[StepView] = []
    if inc.runbook:
        from console.runbooks.engine import Engine

        steps = Engine(ws, inc.id).steps()  # one replay; the current step is flagged in it
    current = next((s for s in steps if s.current), None)
    from console.actions.calls import call
    from console.reports.signals import incident_signal

    signal = None
    series: list[tuple[datetime, float | None]] = []
    try:
        # the chart shows the alert's own signal (one choice, shared with the post-mortem),
        # behind a short deadline: a hung metrics backend must not hold the incident's record
        models = call(ws.backends.registry.models, timeout=CHART_DEADLINE_S, what="registry")
        signal = incident_signal(inc, {m.name: m for m in models}.get(inc.model))
        start = (inc.onset_at or inc.detected_at or now) - timedelta(minutes=30)
        start = min(start, now - timedelta(minutes=60))
        pts = call(
            ws.backends.metrics.query_range,
            signal,
            inc.model,
            start,
            now,
            step_seconds=60,
            timeout=CHART_DEADLINE_S,
            what=f"metrics {signal}",
        )
        series = [(p.at, p.value) for p in pts]
    except Exception:  # noqa: BLE001 - the chart is optional; the record is not
        series = []
    marks = [
        (e.ts, e.payload.get("action", e.kind))
        for e in ws.store.events(inc.id, kind_prefix="action.finished")
    ]
    detected = inc.detected_at or inc.created_at or now
    firing: list[str] = []
    if inc.status in ("resolved", "closed"):
        try:
            alerts = call(
                ws.backends.metrics.active_alerts, timeout=CHART_DEADLINE_S, what="alerts"
            )
            firing = sorted({a.name for a in alerts if a.model == inc.model})
        except RollbookError:
            firing = []  # the alert backend's outage is shown on the fleet, not here
    from console.fleet import active_killswitches

    return IncidentView(
        inc,
        events,
        now,
        now - detected,
        incident_cost(ws, inc, now),
        ws.config.currency,
        total,
        steps,
        current,
        signal,
        series,
        marks,
        active_killswitches(ws).get(inc.model),
        recovery,
        firing,
        roles(inc).get("commander"),
        viewers,
    )


@dataclass
class ModelView:
    status: ModelStatus
    versions: list[ModelVersion]
    incidents: list[Incident]
    rollback_target: str | None = None  # what R would roll back to (the previous good prod)
    rolled_back_from: list[str] = field(default_factory=list)  # versions rolled back from
    # the lineage diff worth seeing first, (older, newer): after a rollback, what moved from
    # the version serving now to the one rolled back from; else rollback target → production
    default_diff: tuple[str, str] | None = None


def model_view(ws: Workspace, model: str) -> ModelView:
    from console.actions.history import known_bad, previous_good

    [st] = fleet_status(ws, model)
    versions = ws.backends.registry.versions(model)
    prod = st.production_version
    target = bad = None
    try:
        target = previous_good(ws, model, prod)
        bad = known_bad(ws, model)
    except Exception:  # noqa: BLE001 - the history only picks a default; the table stands
        target, bad = None, set()
    order = [v.version for v in versions]
    diff: tuple[str, str] | None = None
    after_rollback = [
        v for v in order if v in bad and prod in order and order.index(v) > order.index(prod)
    ]
    if after_rollback and prod:
        diff = (prod, after_rollback[-1])
    elif target and prod and target in order and prod in order and target != prod:
        older, newer = sorted((target, prod), key=order.index)
        diff = (older, newer)
    return ModelView(
        st,
        versions,
        ws.store.list(model=model, env=ws.env.name),
        target,
        sorted(bad, key=lambda v: order.index(v) if v in order else -1),
        diff,
    )


def duration(td: timedelta) -> str:
    s = int(max(0, td.total_seconds()))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class DriftView:
    model: str
    report: DriftReport
    histograms: dict[str, tuple[list[str], list[float], list[float]]]  # feature -> bins, ref, cur
    windows: dict[str, str]


def drift_view(ws: Workspace, model: str, incident_id: str | None = None) -> DriftView:
    """The drift table the Drift screen shows: the runbook's drift check itself — the same
    windows (before the onset against since the onset, at most the last hour; without an
    incident, the six hours before the last hour against the last hour), the same features
    and the same numbers, computed where the log lives (``drift_between`` over the log's
    aggregates). The bars are the reference's PSI bins (the check's evidence)."""
    from console.diagnostics.pushdown import drift_between
    from console.runbooks.checks.data import _thresholds, log_features, log_windows
    from console.runbooks.context import StepContext

    now = ws.now()
    if incident_id:
        inc = ws.store.get(incident_id)
    else:  # a synthetic incident record, only to position the windows
        inc = Incident(
            "",
            "",
            model,
            "SEV4",
            "open",
            "detect",
            ws.env.name,
            detected_at=now - timedelta(hours=1),
            onset_at=now - timedelta(hours=1),
        )
    ctx = StepContext(ws, inc)
    w = log_windows(ctx, {})
    try:
        report = drift_between(
            w.agg,
            w.reference,
            w.agg,
            w.current,
            columns=log_features(ctx, {}, w),
            thresholds=_thresholds(ctx),
        )
    finally:
        w.agg.close()
    hists: dict[str, tuple[list[str], list[float], list[float]]] = {}
    for f in report.features[:12]:
        ev = f.evidence
        edges = ev.get("bin_edges")
        ref_p, cur_p = ev.get("reference_proportions"), ev.get("current_proportions")
        if f.kind != "numeric" or not edges or not ref_p or not cur_p:
            continue
        if len(ref_p) != len(edges) + 1 or len(cur_p) != len(ref_p):
            continue  # not the reference's bins (a column with too few distinct values)
        labels = [f"<{edges[0]:.3g}", *(f"{e:.3g}" for e in edges)]
        hists[f.name] = (labels, [float(x) for x in ref_p], [float(x) for x in cur_p])

    def span(pair: list[str]) -> str:
        a, b = (datetime.fromisoformat(x) for x in pair)
        return f"{a:%d %b %H:%M}–{b:%H:%M}"

    return DriftView(
        model,
        report,
        hists,
        {"reference": span(w.where["reference"]), "current": span(w.where["current"])},
    )


@dataclass
class ReviewView:
    markdown: str
    findings: list[BlameFinding]
    action_items: list[ActionItem]


def export_postmortem(ws: Workspace, incident_id: str) -> str:
    """The review screen's export: the Markdown post-mortem written to the data dir's
    ``exports/`` (read from the store page by page) and recorded on the timeline
    (``postmortem.published``), which the environment's channels announce. The path."""
    from console.enums import EventKind
    from console.notify.queue import stamp
    from console.reports.postmortem import render_postmortem
    from console.store.paging import PagedTimeline

    inc = ws.store.get(incident_id)
    text = render_postmortem(
        inc,
        PagedTimeline(ws.store, inc.id),
        now=ws.now(),
        fmt="md",
        user_dir=ws.config.template_dir,
        currency=ws.config.currency,
        revenue_per_hour=ws.env.revenue_per_hour.get(inc.model),
    )
    out = ws.config.data_dir / "exports" / f"{inc.id}-postmortem.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    ws.store.append(
        inc.id,
        EventKind.POSTMORTEM_PUBLISHED,
        f"post-mortem written to {out}",
        actor=ws.actor,
        at=stamp(ws.store, inc.id, ws.now()),
        payload={"path": str(out), "format": "md", "link": None},
    )
    return str(out)


def review_view(ws: Workspace, incident_id: str) -> ReviewView:
    from console.reports.blameless import check_incident
    from console.reports.postmortem import render_postmortem
    from console.reports.record import action_items

    inc = ws.store.get(incident_id)
    events = ws.store.events(inc.id)
    md = render_postmortem(
        inc,
        events,
        now=ws.now(),
        fmt="md",
        user_dir=ws.config.template_dir,
        currency=ws.config.currency,
        revenue_per_hour=ws.env.revenue_per_hour.get(inc.model),
    )
    return ReviewView(md, check_incident(inc, events), action_items(events))
