"""``rollbook drift | schema | canary | shadow``: the diagnostics library over data files.

numpy, pandas, scipy and ``console.diagnostics`` are imported inside the commands so that
``rollbook --help`` stays light.
"""

from __future__ import annotations

import sys

import click

from console.cli.common import FiniteRange, console_out, env_option, json_option, print_json

SEVERITY_STYLE = {"stable": "green", "moderate": "yellow", "significant": "bold red"}
STATUS_STYLE = {"healthy": "green", "warning": "yellow", "critical": "bold red"}


def _num(value: float | None, fmt: str = "{:.4f}") -> str:
    return "—" if value is None else fmt.format(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _split(values: tuple[str, ...]) -> list[str] | None:
    """``--columns a,b --columns c`` → ``[a, b, c]``; nothing given → ``None``."""
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


@click.command(
    epilog="\b\nExit codes: 0 healthy or warning · 1 critical (a significant drift, a null "
    "rate above the critical threshold, or a missing column) · 4 no profile for the version "
    "· 7 unreadable file or bad column."
)
@click.argument("reference", required=False)
@click.argument("current", required=False)
@click.option(
    "--model",
    "-m",
    default=None,
    help="Compare the environment's prediction log with the version's stored profile.",
)
@click.option(
    "--version",
    "-v",
    "version",
    default=None,
    help="With --model: whose profile (default: the production version).",
)
@click.option(
    "--window",
    default="60m",
    show_default=True,
    metavar="60m|START/END",
    help="With --model: the current window of the log.",
)
@click.option(
    "--bins",
    default=10,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="PSI bins at the reference's quantiles.",
)
@click.option("--columns", multiple=True, metavar="A,B", help="Only these columns (repeatable).")
@click.option(
    "--categorical",
    multiple=True,
    metavar="A,B",
    help="Compare these columns as categories even if numeric (repeatable).",
)
@click.option("--segment-by", default=None, metavar="COL", help="Drill down per value of COL.")
@click.option("--psi-warn", default=0.1, show_default=True, help="PSI at which drift is moderate.")
@click.option(
    "--psi-critical", default=0.2, show_default=True, help="PSI at which drift is significant."
)
@env_option
@json_option
@click.pass_context
def drift(
    ctx: click.Context,
    reference: str | None,
    current: str | None,
    model: str | None,
    version: str | None,
    window: str,
    bins: int,
    columns: tuple[str, ...],
    categorical: tuple[str, ...],
    segment_by: str | None,
    psi_warn: float,
    psi_critical: float,
    as_json: bool,
) -> None:
    """Per-feature drift of CURRENT against REFERENCE (CSV or Parquet files, or folders or
    globs of Parquet files), or with --model of the prediction log's last window against
    the version's stored profile (`rollbook profile build`).

    Numeric features: PSI over the reference's deciles, KS statistic and p-value,
    Wasserstein and Jensen–Shannon distances. Categorical: PSI, Jensen–Shannon, chi-squared
    p-value. Both: null rates. Worst finding first. Computed by DuckDB over the files (by
    the log's engine with --model): any size runs in bounded memory.
    """
    from console.backends.aggregates import LogWindow
    from console.diagnostics import DriftThresholds
    from console.diagnostics.io import file_aggregates
    from console.diagnostics.pushdown import drift_between

    try:
        thresholds = DriftThresholds(psi_moderate=psi_warn, psi_significant=psi_critical)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--psi-warn/--psi-critical") from exc
    if model is not None:
        if reference or current:
            raise click.UsageError("give either REFERENCE CURRENT or --model, not both")
        report, ref_label, cur_label = _drift_against_profile(
            ctx, model, version, window, _split(columns), thresholds
        )
    else:
        if not (reference and current):
            raise click.UsageError("give REFERENCE and CURRENT files, or --model MODEL")
        ref_agg, cur_agg = file_aggregates(reference), file_aggregates(current)
        try:
            report = drift_between(
                ref_agg,
                LogWindow(),
                cur_agg,
                LogWindow(),
                bins=bins,
                columns=_split(columns),
                categorical=_split(categorical) or (),
                segment_by=segment_by,
                thresholds=thresholds,
            )
        finally:
            ref_agg.close()
            cur_agg.close()
        ref_label, cur_label = reference, current
    if as_json:
        print_json(report)
    else:
        _print_drift(report, ref_label, cur_label)
    if report.status == "critical":
        sys.exit(1)


def _drift_against_profile(ctx, model, version, window, columns, thresholds):
    from console.backends.aggregates import LogWindow
    from console.cli.common import workspace
    from console.cli.profile import log_aggregates
    from console.diagnostics.profile_store import load_profile, parse_window
    from console.diagnostics.pushdown import compare_window
    from console.errors import NotFound

    with workspace(ctx) as ws:
        version = version or ws.backends.registry.production_version(model)
        if version is None:
            raise NotFound(f"{model} has no production version", hint="pass --version V")
        stored = load_profile(ws.config.data_dir, ws.env.name, model, version, ws.backends.registry)
        start, end = parse_window(window, ws.now())
        agg, _ = log_aggregates(ws, model)
        try:
            report = compare_window(
                stored, agg, LogWindow(start, end), columns=columns, thresholds=thresholds
            )
        finally:
            agg.close()
    return (
        report,
        f"{model} version {version}'s profile",
        f"{model}'s log {start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC",
    )


def _print_drift(report, reference: str, current: str) -> None:
    from rich.table import Table

    out = console_out()
    style = STATUS_STYLE[report.status]
    out.print(f"status: [{style}]{report.status.upper()}[/]")
    out.print(
        f"{current} vs {reference}: {report.rows_current:,} current rows, "
        f"{report.rows_reference:,} reference rows"
    )
    if report.missing_columns:
        out.print(f"[bold red]MISSING[/] in current: {', '.join(report.missing_columns)}")
    if report.added_columns:
        out.print(f"new in current: {', '.join(report.added_columns)}")
    table = Table(show_lines=False)
    table.add_column("feature", overflow="fold")
    table.add_column("severity", no_wrap=True)
    for col in ("PSI", "KS", "Wass.", "JS", "chi² p", "null cur"):
        table.add_column(col, justify="right", no_wrap=True)
    for f in report.features:
        sev = f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]"
        table.add_row(
            f.name,
            sev,
            _num(f.psi, "{:.3f}"),
            _num(f.ks_statistic, "{:.3f}"),
            _num(f.wasserstein, "{:.3g}"),
            _num(f.jensen_shannon, "{:.3f}"),
            _num(f.chi2_pvalue, "{:.2g}"),
            _pct(f.null_rate_current),
        )
    out.print(table)
    for f in report.features:
        if f.severity != "stable" and f.reasons:
            out.print(f"  {f.name}: {'; '.join(f.reasons)}")
    if report.segments:
        seg = Table(title=f"Segments by {report.segment_by}")
        for col in ("value", "ref rows", "cur rows", "status", "top feature", "PSI", "note"):
            seg.add_column(col)
        for s in report.segments:
            status = f"[{STATUS_STYLE.get(s.status, 'dim')}]{s.status}[/]"
            seg.add_row(
                str(s.value),
                f"{s.rows_reference:,}",
                f"{s.rows_current:,}",
                status,
                s.top_feature or "—",
                _num(s.top_psi),
                s.reason or "",
            )
        out.print(seg)


@click.command(
    epilog="\b\nExit codes: 0 same schema · 1 columns missing, added or changed in "
    "type · 7 unreadable file or a file with no rows."
)
@click.argument("reference")
@click.argument("current")
@click.option(
    "--min-confidence",
    default=0.6,
    show_default=True,
    type=FiniteRange(0, 1),
    help="Smallest confidence for a rename suggestion.",
)
@env_option
@json_option
def schema(reference: str, current: str, min_confidence: float, as_json: bool) -> None:
    """Schema diff of CURRENT against REFERENCE (files, or folders or globs of Parquet
    files, read by DuckDB) with rename suggestions.

    A rename is suggested for a missing and a new column whose names and values are alike.
    """
    from console.backends.aggregates import LogWindow
    from console.diagnostics.io import file_aggregates
    from console.diagnostics.logchecks import schema_between

    ref_agg, cur_agg = file_aggregates(reference), file_aggregates(current)
    try:
        # like drift: a file with a header and no rows has no types to compare (a CSV's
        # empty columns read as text, which would show as a type change on every column)
        for side, agg, hint in (
            ("reference", ref_agg, "check the baseline file"),
            ("current", cur_agg, "check the file"),
        ):
            if not sum(agg.rows(LogWindow()).values()):
                from console.diagnostics.errors import EmptyInput

                raise EmptyInput(f"the {side} file has no rows", hint=hint)
        diff = schema_between(
            ref_agg, LogWindow(), cur_agg, LogWindow(), min_confidence=min_confidence
        )
    finally:
        ref_agg.close()
        cur_agg.close()
    if as_json:
        print_json(diff)
    else:
        out = console_out()
        if diff.clean:
            out.print("[green]OK[/] same columns and types")
        for name in diff.missing:
            out.print(f"[bold red]MISSING[/] {name}")
        for name in diff.added:
            out.print(f"[yellow]ADDED[/]   {name}")
        for t in diff.type_changed:
            out.print(f"[yellow]TYPE[/]    {t.name}: {t.reference} → {t.current}")
        for r in diff.renames:
            out.print(
                f"[cyan]RENAME?[/] {r.source} → {r.target} "
                f"(confidence {r.confidence:.0%}): {r.reason}"
            )
    if not diff.clean:
        sys.exit(1)


def _arm(text: str | None, name: str):
    from console.diagnostics import Arm

    if text is None:
        raise click.UsageError(f"--{name} SUCCESSES/TRIALS is required")
    return Arm.parse(text)


@click.group(
    invoke_without_command=True,
    epilog="\b\nExit codes: 0 promote or inconclusive · 1 rollback (canary significantly "
    "worse) · 2 usage error · 7 invalid counts.",
)
@click.option("--control", default=None, metavar="S/N", help="Champion successes/trials.")
@click.option("--treatment", default=None, metavar="S/N", help="Canary successes/trials.")
@click.option(
    "--margin",
    default=None,
    type=float,
    metavar="D",
    help="Non-inferiority margin: accept a canary not worse by more than D (a rate).",
)
@click.option("--alpha", default=0.05, show_default=True, type=float, help="Significance level.")
@click.option("--lower-is-better", is_flag=True, help="The rate is bad (errors), not good.")
@env_option
@json_option
@click.pass_context
def canary(
    ctx: click.Context,
    control: str | None,
    treatment: str | None,
    margin: float | None,
    alpha: float,
    lower_is_better: bool,
    as_json: bool,
) -> None:
    """Judge a canary on a rate: pooled two-proportion z-test (two-sided), optionally with a
    non-inferiority margin. `canary size` gives the sample size a decision needs."""
    if ctx.invoked_subcommand is not None:
        return
    from console.diagnostics import two_proportion_test

    result = two_proportion_test(
        _arm(control, "control"),
        _arm(treatment, "treatment"),
        alpha=alpha,
        margin=margin,
        higher_is_better=not lower_is_better,
    )
    if as_json:
        print_json(result)
    else:
        out = console_out()
        colour = {"promote": "green", "rollback": "bold red", "inconclusive": "yellow"}
        out.print(
            f"control {result.control_rate:.4%} · treatment {result.treatment_rate:.4%} "
            f"({result.difference * 100:+.3f} pp)"
        )
        out.print(
            f"z = {_num(result.z, '{:.3f}')}, p = {_num(result.p_value, '{:.4g}')}"
            + (
                ""
                if result.non_inferior is None
                else f", non-inferior (δ = {margin:g}): {'yes' if result.non_inferior else 'no'}"
            )
        )
        out.print(
            f"decision: [{colour[result.decision]}]{result.decision.upper()}[/] — {result.reason}"
        )
    if result.decision == "rollback":
        sys.exit(1)


@canary.command("size")
@click.option("--baseline", required=True, type=float, help="Current rate, e.g. 0.05.")
@click.option(
    "--mde",
    required=True,
    type=float,
    help="Smallest effect to detect (absolute rate difference, or relative with --relative).",
)
@click.option("--relative", is_flag=True, help="MDE is relative to the baseline (0.1 = +10%).")
@click.option("--power", default=0.8, show_default=True, type=float)
@click.option("--alpha", default=0.05, show_default=True, type=float)
@click.option("--daily-traffic", default=None, type=float, metavar="N", help="Requests per day.")
@click.option("--share", default=None, type=float, metavar="S", help="Canary share, e.g. 0.1.")
@env_option
@json_option
def canary_size(
    baseline: float,
    mde: float,
    relative: bool,
    power: float,
    alpha: float,
    daily_traffic: float | None,
    share: float | None,
    as_json: bool,
) -> None:
    """Sample size per arm (and days, given traffic and share) to detect the MDE."""
    from console.diagnostics import sample_size

    result = sample_size(
        baseline,
        mde,
        relative=relative,
        power=power,
        alpha=alpha,
        daily_traffic=daily_traffic,
        share=share,
    )
    if as_json:
        print_json(result)
        return
    out = console_out()
    out.print(
        f"{result.n_per_arm:,} per arm to detect {result.baseline:.4g} → {result.target:.4g} "
        f"(alpha {alpha:g}, power {power:g})"
    )
    if result.days is not None:
        out.print(
            f"about {result.days:.1f} days at {daily_traffic:,.0f}/day with {share:.0%} canary"
        )


@click.command(
    epilog="\b\nExit codes: 0 healthy or warning · 1 critical (rank correlation or "
    "agreement below the floor, overall or in a segment) · 7 bad file, key or score."
)
@click.argument("champion", type=click.Path(dir_okay=False))
@click.argument("current", type=click.Path(dir_okay=False))
@click.option("--key", required=True, metavar="COL", help="Request/entity key in both files.")
@click.option("--score", required=True, metavar="COL", help="Score column in both files.")
@click.option("--segment-by", default=None, metavar="COL", help="Also compare per value of COL.")
@click.option("--threshold", default=0.5, show_default=True, help="Decision threshold on scores.")
@click.option("--min-spearman", default=0.9, show_default=True)
@click.option("--min-agreement", default=0.95, show_default=True)
@env_option
@json_option
def shadow(
    champion: str,
    current: str,
    key: str,
    score: str,
    segment_by: str | None,
    threshold: float,
    min_spearman: float,
    min_agreement: float,
    as_json: bool,
) -> None:
    """Compare CHAMPION and challenger (CURRENT) scores on the same keys: Spearman and
    Kendall rank correlation and decision agreement, overall and per segment."""
    from console.diagnostics import load_frame, shadow_compare

    report = shadow_compare(
        load_frame(champion),
        load_frame(current),
        key=key,
        score=score,
        segment_by=segment_by,
        threshold=threshold,
        min_spearman=min_spearman,
        min_agreement=min_agreement,
    )
    if as_json:
        print_json(report)
    else:
        from rich.table import Table

        out = console_out()
        out.print(
            f"Shadow: [{STATUS_STYLE[report.status]}]{report.status.upper()}[/] — "
            f"{report.matched:,} matched keys ({report.unmatched_champion:,} champion-only, "
            f"{report.unmatched_challenger:,} challenger-only, "
            f"{report.dropped_non_finite:,} without a finite score)"
        )
        table = Table()
        for col in (
            "scope",
            "pairs",
            "Spearman",
            "Kendall",
            "agreement",
            "mean champ",
            "mean chall",
            "status",
        ):
            table.add_column(col)
        rows = [("overall", report.overall)] + [
            (f"{s.segment}={s.value}", s.stats) for s in report.segments
        ]
        for label, st in rows:
            table.add_row(
                label,
                f"{st.pairs:,}",
                _num(st.spearman),
                _num(st.kendall),
                _pct(st.agreement),
                _num(st.mean_champion),
                _num(st.mean_challenger),
                f"[{STATUS_STYLE[st.status]}]{st.status}[/]",
            )
        out.print(table)
    if report.status == "critical":
        sys.exit(1)
