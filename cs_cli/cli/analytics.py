"""`cs analytics`: how the book is doing, point in time: retention, NPS,
renewals and health, each for a part of the book (scope, CSM, segment,
plan), in a table with bars, or as rows for scripts."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime, analytics_risk, analytics_work
from cs_cli.cli._options import AsOfOpt, FormatOpt, today
from cs_cli.cli._output import OutputFormat, emit_rows, message, warn
from cs_cli.cli.analytics_options import (
    BAR,
    CsmOpt,
    FromOpt,
    PlanOpt,
    ScopeOpt,
    SegmentOpt,
    TeamOpt,
    ToOpt,
    bar,
    filters_from,
    for_scripts,
    interval_text,
    month,
    pct,
    span,
)

app = typer.Typer(
    help="""Analytics: retention, NPS trends, the renewal pipeline, the
health distribution, churn risk, time to value and how playbooks, journeys
and CSMs perform, for any past day (--as-of) and any part of the book
(--scope, --csm, --team, --segment, --plan). Every figure is defined once in
docs/analytics.md; shares come with their 95% interval, and a figure made of
few observations says so.""",
    no_args_is_help=True,
)


@app.command()
def retention(
    start: FromOpt = None,
    end: ToOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Logo and ARR churn, gross and net revenue retention, month by month
    and over the whole span. Each month's cohort is the customers active
    when it began; its churn is those of them churned by its end.

    Example: cs analytics retention --from 2026-01-01 --segment Enterprise
    """
    from cs_cli.services.metrics.revenue import annualised
    from cs_cli.services.metrics.revenue import retention as compute

    first, last = span(start, end)
    with _runtime.session() as (session, actor):
        months, whole = compute(
            session, actor, filters_from(scope, csm, segment, plan, team), start=first, end=last
        )
    rows = []
    for p in [*months, whole]:
        rows.append(
            {
                "period": month(p.start) if p is not whole else "whole span",
                "start": p.start,
                "end": p.end,
                "customers": p.customers,
                "churned": p.churned,
                "new": p.new,
                "logo_churn": p.logo_churn,
                "logo_churn_low": p.logo_churn_interval.low if p.logo_churn_interval else None,
                "logo_churn_high": p.logo_churn_interval.high if p.logo_churn_interval else None,
                "start_arr": round(p.start_arr, 2),
                "churned_arr": round(p.churned_arr, 2),
                "contraction_arr": round(p.contraction_arr, 2),
                "expansion_arr": round(p.expansion_arr, 2),
                "arr_churn": p.arr_churn,
                "gross_retention": p.gross_retention,
                "net_retention": p.net_retention,
            }
        )
    if for_scripts(rows, list(rows[0]), fmt):
        return
    table = [
        {
            "period": r["period"],
            "customers": r["customers"],
            "churned": r["churned"],
            "logo churn (95%)": f"{pct(r['logo_churn'])} ({interval_text(p.logo_churn_interval)})"
            if r["logo_churn"] is not None
            else None,
            "GRR": pct(r["gross_retention"]),
            "NRR": pct(r["net_retention"]),
        }
        for r, p in zip(rows, [*months, whole], strict=True)
    ]
    emit_rows(table, list(table[0]), fmt)
    monthly = _monthly_churn(months)
    message(
        f"{first} to {last}: {whole.customers:,} customers at the start, {whole.churned:,} churned"
        + (f"; mean monthly logo churn {pct(monthly)}, {pct(annualised(monthly))} a year" if monthly else "")
    )
    if whole.customers and whole.customers < 30:
        warn(f"only {whole.customers} customers at the start: the rates move a lot with one churn")


def _monthly_churn(months) -> float | None:
    """The mean monthly logo churn, weighted by each month's cohort."""
    cohort = sum(p.customers for p in months)
    return sum(p.churned for p in months) / cohort if cohort else None


@app.command("nps-trends")
def nps_trends(
    start: FromOpt = None,
    end: ToOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """NPS month by month (% promoters, 9-10, minus % detractors, 0-6, of the
    responses given that month) with its 95% interval, and over the span.

    Example: cs analytics nps-trends --from 2026-01-01 --csm ana@example.com
    """
    from cs_cli.services.metrics.filters import THIN
    from cs_cli.services.metrics.nps import nps_trend

    first, last = span(start, end)
    with _runtime.session() as (session, actor):
        months, whole = nps_trend(
            session, actor, filters_from(scope, csm, segment, plan, team), start=first, end=last
        )
    periods = [*months, whole]
    rows = [
        {
            "period": month(p.start) if p is not whole else "whole span",
            "start": p.start,
            "end": p.end,
            "responses": p.responses,
            "promoters": p.promoters,
            "passives": p.passives,
            "detractors": p.detractors,
            "nps": None if p.nps is None else round(p.nps, 1),
            "nps_low": None if p.interval is None else round(p.interval.low, 1),
            "nps_high": None if p.interval is None else round(p.interval.high, 1),
            "thin": p.thin,
        }
        for p in periods
    ]
    if for_scripts(rows, list(rows[0]), fmt):
        return
    table = [
        {
            "period": r["period"],
            "responses": r["responses"],
            "NPS (95%)": None
            if r["nps"] is None
            else f"{r['nps']:+.0f} ({interval_text(p.interval, 1, 0)})" + (" thin" if p.thin else ""),
            "": _nps_bar(p.nps) if p is not whole else "",
        }
        for r, p in zip(rows, periods, strict=True)
    ]
    emit_rows(table, list(table[0]), fmt)
    if any(p.thin and p.responses for p in months):
        message(f"thin: fewer than {THIN} responses; its interval is wide, read it as a hint")


def _nps_bar(nps: float | None) -> str:
    """NPS on -100..100 as a bar from the middle: left of it below zero."""
    if nps is None:
        return ""
    half = BAR // 2
    if nps >= 0:
        return " " * half + "│" + bar(nps, 100, half)
    left = bar(-nps, 100, half)
    return " " * (half - len(left)) + left + "│"


@app.command()
def renewals(
    months: Annotated[
        int, typer.Option("--months", min=1, max=36, help="Months ahead, this one included.")
    ] = 6,
    as_of: AsOfOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The renewal pipeline: active customers renewing in each of the next
    --months months, their ARR by health on the day, and their mean churn
    probability where a model has predicted one.

    Example: cs analytics renewals --months 3 --scope mine
    """
    from cs_cli.services.metrics.standing import renewals as compute

    day = today(as_of)
    with _runtime.session() as (session, actor):
        rows = compute(
            session, actor, filters_from(scope, csm, segment, plan, team), as_of=day, months=months
        )
    data = [
        {
            "month": month(r.month),
            "customers": r.customers,
            "arr": round(r.arr, 2),
            "healthy_arr": round(r.healthy_arr, 2),
            "at_risk_arr": round(r.at_risk_arr, 2),
            "critical_arr": round(r.critical_arr, 2),
            "other_arr": round(r.other_arr, 2),
            "churn_probability": None if r.churn_probability is None else round(r.churn_probability, 4),
        }
        for r in rows
    ]
    if for_scripts(data, list(data[0]), fmt):
        return
    most = max((r.arr for r in rows), default=0)
    table = [
        {
            "month": d["month"],
            "customers": d["customers"],
            "ARR": d["arr"],
            "at risk+critical": d["at_risk_arr"] + d["critical_arr"],
            "churn p": pct(r.churn_probability, 0),
            "": bar(r.arr, most, 16),
        }
        for d, r in zip(data, rows, strict=True)
    ]
    emit_rows(table, list(table[0]), fmt)
    total = sum(r.arr for r in rows)
    risky = sum(r.at_risk_arr + r.critical_arr for r in rows)
    message(
        f"{sum(r.customers for r in rows):,} customers renew by {month(rows[-1].month)}: "
        f"ARR {total:,.0f}, of which {risky:,.0f}"
        + (f" ({pct(risky / total, 0)})" if total else "")
        + " at risk or critical"
    )


@app.command("health-distribution")
def health_distribution(
    as_of: AsOfOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The active customers by health status on a day (each one's latest
    score on or before it), with their share and ARR.

    Example: cs analytics health-distribution --as-of 2026-06-30 --plan Enterprise
    """
    from cs_cli.services.metrics.standing import distribution

    day = today(as_of)
    with _runtime.session() as (session, actor):
        shares = distribution(session, actor, filters_from(scope, csm, segment, plan, team), as_of=day)
    rows = [
        {"status": s.status, "customers": s.customers, "share": round(s.share, 4), "arr": round(s.arr, 2)}
        for s in shares
    ]
    if for_scripts(rows, list(rows[0]), fmt):
        return
    most = max((s.customers for s in shares), default=0)
    table = [
        {
            "status": s.status.replace("_", " "),
            "customers": s.customers,
            "share": pct(s.share, 0),
            "ARR": round(s.arr, 2),
            "": bar(s.customers, most, 20),
        }
        for s in shares
    ]
    emit_rows(table, list(table[0]), fmt)
    total = sum(s.customers for s in shares)
    scored = total - next((s.customers for s in shares if s.status == "not_scored"), 0)
    message(
        f"{total:,} active customers on {day}; {scored:,} scored"
        f" ({pct(scored / total if total else None, 0)})"
    )


@app.command("success-metrics")
def success_metrics(
    as_of: AsOfOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The plan's success metrics on a day: monthly logo churn, time to
    value, NPS, health coverage, playbook completion, journey success and
    CSM efficiency, each with its target, whether it is met, and its value
    90 days before. Targets: the success_targets setting
    (CS_SUCCESS_TARGETS="nps=40,churn_monthly=3%").

    Example: cs analytics success-metrics --scope team
    """
    from cs_cli.domain.metrics import TARGETS, parse_targets
    from cs_cli.services.metrics.success import success_metrics as compute

    settings = _runtime.STATE.settings()
    day = today(as_of)
    with _runtime.session() as (session, actor):
        metrics = compute(
            session,
            actor,
            filters_from(scope, csm, segment, plan, team),
            as_of=day,
            goals=parse_targets(settings.success_targets),
            first_value_event=settings.first_value_event,
        )
    if for_scripts(
        [vars(m) for m in metrics],
        ["name", "value", "target", "met", "previous", "unit", "basis", "words"],
        fmt,
    ):
        return
    table = [
        {
            "metric": m.words,
            "value": _figure(m.value, m.unit),
            "target": (">= " if TARGETS[m.name].higher_is_better else "<= ")
            + (_figure(m.target, m.unit) or ""),
            "status": "no data" if m.met is None else ("met" if m.met else "missed"),
            "90 days ago": _figure(m.previous, m.unit),
            "basis": m.basis,
        }
        for m in metrics
    ]
    emit_rows(table, list(table[0]), fmt)
    missed = [m.words for m in metrics if m.met is False]
    message(
        f"as of {day}: " + (f"{len(missed)} missed ({', '.join(missed)})" if missed else "no target missed")
    )


def _figure(value: float | None, unit: str) -> str | None:
    if value is None:
        return None
    if unit == "share":
        return pct(value)
    if unit == "days":
        return f"{value:.0f} days"
    return f"{value:+.0f}"


# How the work goes (playbooks, journeys, CSMs) and the dashboard; churn
# risk and time to value.
analytics_work.register(app)
analytics_risk.register(app)
