"""The dashboard's text: the health distribution as a bar chart, the work
due, the key metrics, the renewal pipeline and the recent alerts."""

from __future__ import annotations

import datetime as dt
import math

from textual.content import Content
from textual.markup import escape

from cs_cli.domain import AlertRow, Dashboard, HealthStatus, KeyMetrics, RenewalWindow
from cs_cli.tui.widgets.charts import LineChart
from cs_cli.tui.widgets.customer.format import (
    SEVERITY_MARK,
    SEVERITY_STYLE,
    STATUS_STYLE,
    ago,
    money,
    percent,
    status_word,
)
from cs_cli.tui.widgets.customer.panels import band_style

# Days the score trend spans (the service reads as many).
TREND_DAYS = 90


def _label(status: HealthStatus) -> str:
    # "insufficient data" would not fit the bars' column.
    return "thin data" if status == HealthStatus.INSUFFICIENT_DATA else status_word(status)


def health_bars(board: Dashboard, width: int = 12) -> Content:
    """One bar per health status, as long as its share of the customers."""
    rows = [(_label(c.status), c.customers, c.arr, STATUS_STYLE[c.status]) for c in board.health]
    rows.append(("not scored", board.unscored, None, "$text-muted"))
    largest = max((n for _, n, _, _ in rows), default=0) or 1
    lines = []
    for label, count, arr, style in rows:
        filled = round(count / largest * width) if count else 0
        share = f"{count / board.customers:.0%}" if board.customers else "-"
        lines.append(
            Content.assemble(
                (f"{label:<11}", ""),
                ("█" * filled, style.replace(" bold", "")),
                ("░" * (width - filled), "$text-muted 40%"),
                (f" {count:>4,}", "bold"),
                (f" {share:>4}", "$text-muted"),
                (f" {money(arr):>7}" if arr is not None else "", "$text-muted"),
            )
        )
    return Content("\n").join(lines)


def work_lines(board: Dashboard) -> Content:
    """Tasks due in the scope, journeys under way and unresolved alerts."""
    alerts = board.open_alerts

    def line(label: str, value: int, rest: str, style: str = "bold") -> Content:
        return Content.assemble((f"{label:<10}", "$text-muted"), (f"{value:,}", style), rest)

    info = alerts.get("info", 0)
    return Content("\n").join(
        [
            line("today", board.tasks_due_today, " tasks due"),
            line("this week", board.tasks_due_week, " tasks due"),
            line("overdue", board.tasks_overdue, " tasks", "$error bold" if board.tasks_overdue else "bold"),
            line("journeys", board.active_journeys, f" active · {board.active_enrollments:,} enrolled"),
            Content.assemble(
                (f"{'alerts':<10}", "$text-muted"),
                (f"{alerts.get('critical', 0)} critical", SEVERITY_STYLE["critical"]),
                " · ",
                (f"{alerts.get('warning', 0)} warning", SEVERITY_STYLE["warning"]),
                f" · {info} info" if info else "",
            ),
        ]
    )


def metric_lines(m: KeyMetrics) -> Content:
    """NPS, churn rate and time to value over the last 12 months, each with
    what it is made of."""
    muted = "$text-muted"
    if m.nps is None:
        nps, nps_basis = Content.styled("n/a", muted), "no NPS responses"
    else:
        nps = Content.styled(f"{m.nps:+d}", "$success bold" if m.nps > 0 else "$error bold")
        nps_basis = f"avg {m.nps_average} · {m.nps_responses:,} responses"
    if m.churn_rate is None:
        churn = Content.styled("n/a", muted)
    else:
        churn = Content.styled(percent(m.churn_rate), "$error bold" if m.churn_rate > 0.05 else "bold")
    churn_basis = f"{m.churned_12m:,} of {m.active_12m_ago:,} active a year ago"
    if m.time_to_value_days is None:
        ttv, ttv_basis = Content.styled("n/a", muted), "no onboarding journey done"
    else:
        ttv = Content.styled(f"{m.time_to_value_days:g} days", "bold")
        ttv_basis = f"median, contract start to first value, {m.time_to_value_customers:,}"
    lines = []
    for label, value, basis in (
        ("NPS", nps, nps_basis),
        ("churn rate", churn, churn_basis),
        ("time to value", ttv, ttv_basis),
    ):
        lines.append(Content.assemble((f"{label:<14}", muted), value))
        lines.append(Content.styled(f"  {basis}", muted))
    lines.append(Content.styled("over the last 12 months", f"{muted} italic"))
    return Content("\n").join(lines)


def alert_lines(alerts: list[AlertRow], now: dt.datetime) -> str:
    """The newest alerts, one a line, as markup."""
    if not alerts:
        return "[$text-muted]no alerts[/]"
    lines = []
    for a in alerts:
        style = SEVERITY_STYLE[a.severity]
        lines.append(
            f"[{style}]{SEVERITY_MARK[a.severity]}[/] [b]{escape(a.customer_name)}[/b]"
            f" [$text-muted]{ago(a.raised_at, now)}[/]\n  {escape(a.title)}"
        )
    return "\n".join(lines)


def renewal_lines(windows: list[RenewalWindow]) -> Content:
    """What renews within each window: customers, ARR, and the ARR at risk
    or critical (the renewals screen, key 4, has the rest)."""
    if not windows:
        return Content.styled("no renewals", "$text-muted")
    lines = []
    for w in windows:
        lines.append(
            Content.assemble(
                (f"{f'{w.days} days':<9}", "$text-muted"),
                (f"{w.customers:>5,}", "bold"),
                f" {money(w.arr):>7}",
                (f" {money(w.at_risk_arr):>7} at risk", "$warning" if w.at_risk_arr else "$text-muted"),
            )
        )
    return Content("\n").join(lines)


def plot_score_trend(chart: LineChart, board: Dashboard) -> None:
    """The mean score of the scope's customers on each day scores were
    written in the last 90 days, on the status bands."""
    start = board.as_of - dt.timedelta(days=TREND_DAYS)
    means = [p.mean_score for p in board.score_trend] or [0.0]
    # A book's mean moves a few points: the axis spans them (tens around,
    # thirty at least), not 0-100, so the movement shows.
    low = max(0, math.floor((min(means) - 10) / 10) * 10)
    high = min(100, max(low + 30, math.ceil((max(means) + 10) / 10) * 10))
    chart.plot(
        [((p.as_of - start).days, p.mean_score) for p in board.score_trend],
        x_range=(0, TREND_DAYS),
        y_range=(low, high),
        thresholds=[t for t in board.status_bands if low < t < high],
        style_of=band_style(board.status_bands),
        x_labels=(start.strftime("%d %b"), board.as_of.strftime("%d %b")),
        summary=score_trend_words(board).plain,
    )
    chart.display = bool(board.score_trend)


def score_trend_words(board: Dashboard) -> Content:
    """The first and last day's mean score and share at risk or critical."""
    points = board.score_trend
    if not points:
        return Content.styled("no scores in 90 days", "$text-muted")

    def share(p) -> str:
        return f"{p.at_risk / p.customers:.0%}" if p.customers else "-"

    first, last = points[0], points[-1]
    if first is last:
        text = f"mean {last.mean_score:g} on {last.as_of:%d %b} · {share(last)} at risk or critical"
    else:
        text = (
            f"mean {first.mean_score:g} → {last.mean_score:g}"
            f" · at risk or critical {share(first)} → {share(last)}"
        )
    return Content.styled(text, "$text-muted")
