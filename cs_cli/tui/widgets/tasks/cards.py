"""A task card as text: customer, title, due date (overdue stands out),
type and priority, the customer's health. Styles are theme variables only."""

from __future__ import annotations

import datetime as dt

from textual.content import Content

from cs_cli.domain import BoardCard, HealthStatus, Priority, TaskStatus

PRIORITY_STYLE = {
    Priority.CRITICAL: "$error bold",
    Priority.HIGH: "$warning bold",
    Priority.MEDIUM: "",
    Priority.LOW: "$text-muted",
}
HEALTH_STYLE = {
    HealthStatus.HEALTHY: "$success",
    HealthStatus.AT_RISK: "$warning",
    HealthStatus.CRITICAL: "$error bold",
}
HEALTH_WORD = {HealthStatus.AT_RISK: "at risk"}


def short_day(day: dt.date, today: dt.date) -> str:
    """08 Jan this year, 08 Jan 2026 another year: short enough for a card."""
    return day.strftime("%d %b") if day.year == today.year else day.strftime("%d %b %Y")


def health_badge(card: BoardCard) -> Content:
    if card.health_score is None:
        return Content.styled("not scored", "$text-muted")
    status = card.health_status
    word = HEALTH_WORD.get(status, status.value) if status else ""
    mark = "*" if card.health_overridden else ""
    return Content.styled(f"♥ {card.health_score}{mark} {word}".rstrip(), HEALTH_STYLE.get(status, ""))


def card_content(
    card: BoardCard, *, today: dt.date, selected: bool = False, assignee: bool = False
) -> Content:
    """The lines of one card."""
    head: list = []
    if selected:
        head.append(("✓ ", "$accent bold"))
    head += [(card.customer, "bold"), " ", card.customer_name]
    if card.status == TaskStatus.COMPLETED and card.completed_at is not None:
        when: tuple[str, str] = (f"done {short_day(card.completed_at.date(), today)}", "$text-muted")
    elif card.due_date is None:
        when = ("no due date", "$text-muted")
    elif card.overdue:
        when = (f"overdue {short_day(card.due_date, today)}", "$error bold")
    else:
        when = (f"due {short_day(card.due_date, today)}", "")
    lines = [
        Content.assemble(*head),
        Content(card.title),
        Content.assemble(when, " · ", (card.priority.value, PRIORITY_STYLE[card.priority])),
        Content.assemble((card.task_type.value, "$text-muted"), " · ", health_badge(card)),
    ]
    if card.status == TaskStatus.BLOCKED and card.blocked_reason:
        lines.append(Content.styled(f"⊘ {card.blocked_reason}", "$warning"))
    if assignee:
        # The login part of the email is enough to tell colleagues apart.
        who = card.assignee.split("@", 1)[0] if card.assignee else "nobody"
        lines.append(Content.styled(f"→ {who}", "$text-muted"))
    return Content("\n").join(lines)
