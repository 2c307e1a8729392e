"""The management report of the book: the analytics of a period and a part
of the book in one self-contained file (HTML with inline SVG charts, or
Markdown), with the period and filters on its first page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from cs_cli.domain import Actor, NpsPeriod, RenewalMonth, RetentionPeriod, StatusShare
from cs_cli.services.audit import record_read
from cs_cli.services.facts import over_many_days
from cs_cli.services.metrics.filters import Filters
from cs_cli.services.metrics.nps import nps_trend
from cs_cli.services.metrics.revenue import annualised, retention
from cs_cli.services.metrics.standing import distribution, renewals
from cs_cli.services.metrics.success import SuccessMetric, success_metrics
from cs_cli.services.reports import charts

TEMPLATES = Path(__file__).parent / "templates"
# The parts of the report computed one after the other (for progress).
SECTIONS = 5


@dataclass(frozen=True)
class BookReport:
    start: dt.date
    end: dt.date
    filters: Filters
    author: str
    made_at: dt.datetime
    success: list[SuccessMetric]
    months: list[RetentionPeriod]
    span: RetentionPeriod
    monthly_churn: float | None
    nps_months: list[NpsPeriod]
    nps_span: NpsPeriod
    renewals: list[RenewalMonth]
    health: list[StatusShare]


@over_many_days
def book_report(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    goals: dict[str, float],
    first_value_event: str = "",
    renewal_months: int = 6,
    progress: Callable[..., None] | None = None,
) -> BookReport:
    """The report's figures; `progress(1, stage=...)` after each of its
    SECTIONS (a large book takes a while)."""
    step = progress or (lambda n, stage=None: None)
    record_read(
        session,
        actor,
        "book_report",
        entity_type="book",
        details={"from": start, "to": end, "filters": filters.words()},
    )
    step(0, stage="retention")
    months, span = retention(session, actor, filters, start=start, end=end)
    cohort = sum(p.customers for p in months)
    step(1, stage="NPS")
    nps_months, nps_span = nps_trend(session, actor, filters, start=start, end=end)
    step(1, stage="success metrics")
    success = success_metrics(
        session, actor, filters, as_of=end, goals=goals, first_value_event=first_value_event
    )
    step(1, stage="renewals")
    pipeline = renewals(session, actor, filters, as_of=end, months=renewal_months)
    step(1, stage="health")
    health = distribution(session, actor, filters, as_of=end)
    step(1, stage="done")
    return BookReport(
        start=start,
        end=end,
        filters=filters,
        author=actor.name,
        made_at=now,
        success=success,
        months=months,
        span=span,
        monthly_churn=sum(p.churned for p in months) / cohort if cohort else None,
        nps_months=nps_months,
        nps_span=nps_span,
        renewals=pipeline,
        health=health,
    )


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _figure(metric: SuccessMetric, value: float | None) -> str:
    if value is None:
        return "-"
    if metric.unit == "share":
        return _pct(value)
    if metric.unit == "days":
        return f"{value:.0f} days"
    return f"{value:+.0f}"


def _charts(report: BookReport) -> dict[str, str]:
    month = [p.start.strftime("%b %y") for p in report.months]
    return {
        "churn": charts.bars(
            list(zip(month, [p.logo_churn for p in report.months], strict=True)),
            title="Logo churn by month",
            fmt=lambda v: f"{100 * v:.1f}%",
        ),
        "nrr": charts.line(
            list(zip(month, [p.net_retention for p in report.months], strict=True)),
            title="Net revenue retention by month",
            low=min([0.8, *(p.net_retention for p in report.months if p.net_retention is not None)]),
            high=max([1.2, *(p.net_retention for p in report.months if p.net_retention is not None)]),
            fmt=lambda v: f"{100 * v:.0f}%",
        ),
        "nps": charts.line(
            [(p.start.strftime("%b %y"), p.nps) for p in report.nps_months],
            title="NPS by month",
            low=-100,
            high=100,
            fmt=lambda v: f"{v:+.0f}",
        ),
        "renewals": charts.stacked(
            [
                (
                    r.month.strftime("%b %y"),
                    {
                        "healthy": r.healthy_arr,
                        "at_risk": r.at_risk_arr,
                        "critical": r.critical_arr,
                        "other": r.other_arr,
                    },
                )
                for r in report.renewals
            ],
            title="ARR renewing by month, by health",
        ),
        "health": charts.bars(
            [(s.status.replace("_", " "), float(s.customers)) for s in report.health],
            title="Active customers by health",
        ),
    }


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=_pct, money=_money, figure=_figure, annualised=annualised)
    return env


def render_html(report: BookReport) -> str:
    """One page, no script and nothing fetched from elsewhere: styles and
    charts are inline (the charts are our own SVG, marked safe)."""
    from markupsafe import Markup

    # Our own SVG, every label escaped in charts.py.
    charts_ = {k: Markup(v) for k, v in _charts(report).items()}
    return _environment().get_template("book.html").render(r=report, charts=charts_)


def render_markdown(report: BookReport) -> str:
    return _environment().get_template("book.md").render(r=report)
