"""The text of one row of the Customer 360 opened whole: a touchpoint (type,
day, subject, who took part, the full notes, sentiment and topics) or a
support ticket (subject, what the customer wrote, status, priority,
sentiment, topics). The data goes in as plain text, never as markup."""

from __future__ import annotations

from textual.content import Content

from cs_cli.domain import TicketDetail, TouchpointDetail

SENTIMENT_STYLE = {"positive": "$success", "negative": "$error", "neutral": "$text-muted"}
TICKET_PRIORITY_STYLE = {"urgent": "$error bold", "high": "$warning", "low": "$text-muted"}


def _table(rows: list[tuple[str, Content]]) -> Content:
    width = max(len(label) for label, _ in rows)
    return Content("\n").join(
        Content.assemble((label.ljust(width) + "  ", "$text-muted"), value) for label, value in rows
    )


def _sentiment(label: str | None, score: float | None) -> Content:
    if label is None:
        return Content.styled("not read yet", "$text-muted")
    number = f" ({score:+.2f})" if score is not None else ""
    return Content.styled(f"{label}{number}", SENTIMENT_STYLE.get(label, ""))


def _topics(topics: list[str] | None) -> Content:
    if topics is None:
        return Content.styled("not read yet", "$text-muted")
    if not topics:
        return Content.styled("none found", "$text-muted")
    return Content(", ".join(topics))


def _notes(text: str | None, none: str) -> Content:
    return Content(text.rstrip()) if text else Content.styled(none, "$text-muted")


def touchpoint_title(tp: TouchpointDetail) -> Content:
    return Content.assemble(("Touchpoint ", "$text-muted"), (tp.row.subject or "(no subject)", "bold"))


def touchpoint_body(tp: TouchpointDetail) -> Content:
    row = tp.row
    who = ", ".join(tp.attendees) or row.contact
    rows: list[tuple[str, Content]] = [
        ("type", Content(row.touchpoint_type.value.replace("_", " "))),
        ("when", Content(f"{row.occurred_at:%a %d %b %Y %H:%M} UTC")),
        ("subject", Content(row.subject or "(no subject)")),
        ("customer", Content(f"{row.customer} {tp.customer_name}")),
        ("by", Content(row.user) if row.user else Content.styled("-", "$text-muted")),
        ("attendees", Content(who) if who else Content.styled("none named", "$text-muted")),
    ]
    if row.duration_minutes is not None:
        rows.append(("minutes", Content(str(row.duration_minutes))))
    if row.task_id is not None:
        rows.append(("task", Content(f"#{row.task_id}")))
    rows += [
        (
            "sentiment",
            _sentiment(row.sentiment_label.value if row.sentiment_label else None, row.sentiment_score),
        ),
        ("topics", _topics(tp.key_topics)),
    ]
    return Content("\n\n").join(
        [_table(rows), Content.styled("Notes", "bold $accent"), _notes(tp.description, "no notes")]
    )


def ticket_title(ticket: TicketDetail) -> Content:
    return Content.assemble(
        (f"Ticket {ticket.row.external_id} ", "$text-muted"), (ticket.row.subject or "(no subject)", "bold")
    )


def ticket_body(ticket: TicketDetail) -> Content:
    row = ticket.row
    priority = row.priority.value
    status = row.status.value
    if row.closed_at is not None:
        status += f" (closed {row.closed_at:%d %b %Y})"
    rows: list[tuple[str, Content]] = [
        ("subject", Content(row.subject or "(no subject)")),
        ("customer", Content(f"{ticket.customer} {ticket.customer_name}")),
        ("opened", Content(f"{row.opened_at:%a %d %b %Y %H:%M} UTC")),
        ("status", Content(status)),
        ("priority", Content.styled(priority, TICKET_PRIORITY_STYLE.get(priority, ""))),
    ]
    if row.escalated:
        when = f" {ticket.escalated_at:%d %b %Y}" if ticket.escalated_at else ""
        rows.append(("escalated", Content.styled(f"yes{when}", "$error")))
    if ticket.contact:
        rows.append(("from", Content(ticket.contact)))
    if ticket.satisfaction is not None:
        rows.append(("CSAT", Content(f"{ticket.satisfaction} of 5")))
    rows += [
        (
            "sentiment",
            _sentiment(row.sentiment_label.value if row.sentiment_label else None, ticket.sentiment_score),
        ),
        ("topics", _topics(ticket.key_topics)),
    ]
    return Content("\n\n").join(
        [
            _table(rows),
            Content.styled("Description", "bold $accent"),
            _notes(ticket.description, "no description"),
        ]
    )
