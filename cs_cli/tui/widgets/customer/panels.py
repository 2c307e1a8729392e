"""The text of Customer 360's panels, made from the service's view: who the
customer is, the health gauge, the outlook, why it is at risk, contacts,
journeys and playbook runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.content import Content

from cs_cli.domain import ContactView, Customer360, EnrollmentStatus, HealthStatus, ScoreTrend, TouchpointType
from cs_cli.tui.widgets.charts import BarChart, LineChart
from cs_cli.tui.widgets.customer.format import (
    SEVERITY_MARK,
    SEVERITY_STYLE,
    STATUS_STYLE,
    gauge,
    money,
    status_content,
)

# Days of score history the trend chart spans (the service reads as many).
TREND_DAYS = 90
TREND_MARK = {ScoreTrend.IMPROVING: "▲", ScoreTrend.DECLINING: "▼", ScoreTrend.STABLE: "▶"}


def title(view: Customer360) -> Content:
    """'Name  ID · plan · seats · ARR · renews (in N days) · CSM'."""
    c = view.customer
    parts: list[str] = [c.external_id]
    if c.plan:
        parts.append(c.plan)
    if c.seats:
        parts.append(f"{c.seats:,} seats")
    parts.append(f"ARR {money(c.arr)}")
    if c.status == "churned":
        parts.append(f"churned {view.churned_at.date() if view.churned_at else ''}".strip())
    elif c.renewal_date:
        days = (c.renewal_date - view.as_of).days
        parts.append(f"renews {c.renewal_date} ({_days(days)})")
    parts.append(f"CSM {c.csm_email or 'none'}")
    if view.industry:
        parts.append(view.industry)
    return Content.assemble((c.name, "bold"), "  ", (" · ".join(parts), "$text-muted"))


def _days(days: int) -> str:
    if days == 0:
        return "today"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def health_lines(view: Customer360) -> Content:
    """The gauge, the change over 30 days and, when one is in force, the override."""
    h = view.health
    c = view.customer
    if h is None:
        if c.health_score is None:
            return Content.styled("No health score yet: `cs recalc` scores every customer.", "$text-muted")
        return Content.assemble(
            (f"{c.health_score} ", "bold"),
            gauge(c.health_score, c.health_status),
            " ",
            status_content(c.health_status),
            ("\nno explanation kept for this score", "$text-muted"),
        )
    lines = [
        Content.assemble(
            (f"{h.overall_score:>3} ", "bold"),
            gauge(h.overall_score, h.health_status),
            " ",
            status_content(h.health_status),
        )
    ]
    if h.score_change_30d is not None:
        mark = TREND_MARK.get(h.score_trend, "") if h.score_trend else ""
        word = h.score_trend.value if h.score_trend else ""
        lines.append(
            Content(f"{mark} {h.score_change_30d:+d} in 30 days {('(' + word + ')') if word else ''}".strip())
        )
    if h.override:
        o = h.override
        lines.append(
            Content.styled(
                f"override {o['overall_score']} by {o['set_by']} until {o['expires_on']}", "$warning"
            )
        )
    return Content("\n").join(lines)


def trend_words(view: Customer360) -> Content:
    points = view.history
    if len(points) < 2:
        return Content.styled(
            "no trend yet (one score so far)" if points else "no score history", "$text-muted"
        )
    first, last = points[0], points[-1]
    return Content.styled(
        f"{first.as_of} {first.overall_score} → {last.as_of} {last.overall_score}"
        f" (low {min(p.overall_score for p in points)}, high {max(p.overall_score for p in points)})",
        "$text-muted",
    )


def band_style(bands: tuple[int, int]) -> Callable[[float], str]:
    """The colour of a score by the status band it falls in."""
    at_risk, healthy = bands

    def style(score: float) -> str:
        if score >= healthy:
            return STATUS_STYLE[HealthStatus.HEALTHY]
        return STATUS_STYLE[HealthStatus.AT_RISK if score >= at_risk else HealthStatus.CRITICAL]

    return style


def plot_trend(chart: LineChart, view: Customer360) -> None:
    """The daily scores of the last 90 days on the status bands."""
    start = view.as_of - dt.timedelta(days=TREND_DAYS)
    chart.plot(
        [((p.as_of - start).days, p.overall_score) for p in view.history],
        x_range=(0, TREND_DAYS),
        thresholds=view.status_bands,
        style_of=band_style(view.status_bands),
        summary=trend_words(view).plain,
    )
    chart.display = bool(view.history)


def plot_usage(chart: BarChart, view: Customer360) -> None:
    weeks = view.usage_weeks
    chart.plot(
        [w.events for w in weeks],
        x_labels=(f"week to {weeks[0].end:%d %b}", f"{weeks[-1].end:%d %b}") if weeks else ("", ""),
        summary=usage_words(view).plain,
    )
    chart.display = any(w.events for w in weeks)


def usage_words(view: Customer360) -> Content:
    """The usage of the last weeks in words: the chart's fallback and its reading."""
    weeks = view.usage_weeks
    total = sum(w.events for w in weeks)
    if not total:
        return Content.styled(f"no usage events in {len(weeks)} weeks", "$text-muted")
    last, mean = weeks[-1].events, total / len(weeks)
    return Content.styled(
        f"{total:,} events in {len(weeks)} weeks · last week {last:,} (mean {mean:,.0f})", "$text-muted"
    )


def outlook(view: Customer360) -> Content:
    """Churn and expansion probability (or 'not predicted yet'), the last
    NPS (and the next one predicted), and what drives the churn probability most (▲ raises it)."""

    def share(value: float | None) -> tuple[str, str]:
        return ("not predicted yet", "$text-muted") if value is None else (f"{value:.0%}", "bold")

    nps = ("none", "$text-muted") if view.latest_nps is None else (str(view.latest_nps), "bold")
    if view.churn_probability is None and view.expansion_probability is None:
        odds: list = ["churn and expansion ", ("not predicted yet", "$text-muted")]
    else:
        odds = ["churn ", share(view.churn_probability), " · expansion ", share(view.expansion_probability)]
    expected = [] if view.predicted_nps is None else [" (next ", (str(view.predicted_nps), "bold"), ")"]
    lines = [Content.assemble(*odds, " · last NPS ", nps, *expected)]
    for d in view.churn_drivers:
        arrow = ("▲ ", "$error") if d.effect > 0 else ("▼ ", "$success")
        lines.append(
            Content.assemble(
                arrow,
                d.words,
                (f" {d.value}", "bold"),
                (f" (usual {d.usual}) {d.effect * 100:+.0f} pts", "$text-muted"),
            )
        )
    return Content("\n").join(lines)


def risk_lines(view: Customer360) -> Content:
    if not view.risks:
        if view.health is None and view.customer.health_score is None:
            return Content.styled("nothing known yet", "$text-muted")
        return Content.styled("no risk signals", "$success")
    return Content("\n").join(
        Content.assemble((f"{SEVERITY_MARK[r.severity]} ", SEVERITY_STYLE[r.severity]), r.text)
        for r in view.risks
    )


def contact_lines(contacts: list[ContactView]) -> Content:
    if not contacts:
        return Content.styled("none", "$text-muted")
    lines = []
    for c in contacts:
        roles = [w for w, on in (("champion", c.is_champion), ("exec sponsor", c.is_exec_sponsor)) if on]
        head = Content.assemble(
            (c.name or c.email or "?", "bold" if roles and c.left_at is None else ""),
            (f" · {c.title}" if c.title else "", "$text-muted"),
        )
        tail: list = []
        if roles:
            tail.append(("  " + ", ".join(roles), "$accent"))
        if c.left_at is not None:
            tail.append((f"  left {c.left_at.date()}", "$error bold"))
        lines.append(Content.assemble(head, *tail))
    return Content("\n").join(lines)


def journey_lines(view: Customer360) -> Content:
    """Journey enrollments with their step, then active playbook runs with progress."""
    lines: list[Content] = []
    if not view.journeys:
        lines.append(Content.assemble(("journeys ", "bold"), ("none", "$text-muted")))
    for j in view.journeys:
        step = f"step {j.step_order} of {j.steps}: {j.current_step}" if j.current_step else "no step"
        if j.status != EnrollmentStatus.ACTIVE:
            when = j.completed_at.date() if j.completed_at else ""
            step = f"{j.status.value} {when}".strip()
        lines.append(Content.assemble((j.journey, "bold"), f"  {step}"))
    if not view.playbook_runs:
        lines.append(Content.assemble(("playbooks ", "bold"), ("none active", "$text-muted")))
    for r in view.playbook_runs:
        lines.append(
            Content.assemble(
                (r.playbook_name, "bold"),
                f"  {r.tasks_done}/{r.tasks_total} tasks done",
                (f"  since {r.started_at.date()}", "$text-muted"),
            )
        )
    lines.append(topic_line(view))
    return Content("\n").join(lines)


def topic_line(view: Customer360) -> Content:
    """What the last 90 days' touchpoints and tickets were about, each topic
    with its mentions, coloured by their mean sentiment."""
    if not view.topics:
        return Content.assemble(("topics ", "bold"), ("none in 90 days", "$text-muted"))
    parts: list = [("topics ", "bold")]
    for i, t in enumerate(view.topics):
        mood = t.mean_sentiment
        style = (
            "$text-muted"
            if mood is None
            else "$error"
            if mood <= -0.05
            else "$success"
            if mood >= 0.05
            else ""
        )
        parts.append((("· " if i else "") + f"{t.topic} {t.mentions} ", style))
    return Content.assemble(*parts)


def short_day(day: dt.date, today: dt.date) -> str:
    """'13 Mar' this year, 'Mar 2024' another: short enough for a narrow column."""
    return day.strftime("%d %b") if day.year == today.year else day.strftime("%b %Y")


# Touchpoint types in a word, for the narrow timeline.
TYPE_WORD = {
    TouchpointType.EMAIL_SENT: "email",
    TouchpointType.EMAIL_OPENED: "opened",
    TouchpointType.EMAIL_CLICKED: "clicked",
    TouchpointType.SUPPORT_TICKET: "ticket",
    TouchpointType.PRODUCT_LOGIN: "login",
    TouchpointType.FEATURE_USAGE: "usage",
    TouchpointType.NPS_RESPONSE: "NPS",
    TouchpointType.RENEWAL_DISCUSSION: "renewal",
    TouchpointType.IN_APP_MESSAGE: "in-app",
    TouchpointType.ESCALATION: "escalate",
}
