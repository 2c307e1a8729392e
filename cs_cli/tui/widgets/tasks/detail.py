"""The text of the task detail's panels, made from the service's TaskView.
Everything the data says is put in as plain text (Content), never read as
markup: a title like "[b]now[/b]" shows as typed."""

from __future__ import annotations

import datetime as dt

from textual.content import Content

from cs_cli.domain import TaskHistoryEntry, TaskStatus, TaskView, TouchpointDetail
from cs_cli.tui.widgets.customer.format import money
from cs_cli.tui.widgets.tasks.cards import OUTCOME_STYLE, PRIORITY_STYLE, health_badge

SEP = " · "
CLOSED = (TaskStatus.COMPLETED, TaskStatus.CANCELLED)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def due_words(view: TaskView, today: dt.date) -> Content:
    """When it is due, in words: overdue ones in the error colour."""
    card = view.card
    if card.status in CLOSED:
        when = f" {card.completed_at:%d %b %Y}" if card.completed_at else ""
        word = "done" if card.status == TaskStatus.COMPLETED else "cancelled"
        text = Content(f"{word}{when}")
        if card.outcome is not None:
            outcome = card.outcome.value.replace("_", " ")
            text = Content.assemble(text, ", ", (outcome, OUTCOME_STYLE.get(card.outcome, "")))
        return text
    due = card.due_date
    if due is None:
        return Content.styled("no due date", "$text-muted")
    days = (due - today).days
    day = f"{due:%a %d %b %Y}"
    if days < 0:
        return Content.styled(f"overdue by {_plural(-days, 'day')} (was due {day})", "$error bold")
    if days == 0:
        return Content.styled(f"due today ({day})", "$warning bold")
    if days == 1:
        return Content(f"due tomorrow ({day})")
    return Content(f"due in {days} days ({day})")


def heading(view: TaskView) -> Content:
    """The title, whole."""
    return Content.styled(view.card.title, "bold")


def facts(view: TaskView, today: dt.date) -> Content:
    """Status, priority, type, due and owner, one to a line."""
    card = view.card
    status = card.status.value.replace("_", " ")
    if card.status == TaskStatus.BLOCKED and card.blocked_reason:
        status_line = Content.assemble((status, "$warning bold"), (f": {card.blocked_reason}", "$warning"))
    else:
        status_line = Content.styled(status, "bold")
    owner = view.owner_name or card.assignee
    if owner and card.assignee and owner != card.assignee:
        owner = f"{owner} <{card.assignee}>"
    rows: list[tuple[str, Content]] = [
        ("status", status_line),
        ("priority", Content.styled(card.priority.value, PRIORITY_STYLE.get(card.priority, ""))),
        ("type", Content(card.task_type.value.replace("_", " "))),
        ("due", due_words(view, today)),
        ("owner", Content(owner) if owner else Content.styled("nobody", "$text-muted")),
    ]
    if card.snoozed_until is not None:
        rows.append(("snoozed", Content(f"until {card.snoozed_until:%a %d %b %Y} (off the board till then)")))
    rows.append(
        ("task", Content.styled(f"#{card.id}, created {view.created_at:%d %b %Y %H:%M}", "$text-muted"))
    )
    return _table(rows)


def _table(rows: list[tuple[str, Content]]) -> Content:
    width = max(len(label) for label, _ in rows)
    return Content("\n").join(
        Content.assemble((label.ljust(width) + "  ", "$text-muted"), value) for label, value in rows
    )


def description(view: TaskView) -> Content:
    if not view.description:
        return Content.styled("no description", "$text-muted")
    return Content(view.description)


def guidance(view: TaskView) -> Content:
    """The playbook (or journey) it came from, the step, and that step's
    agenda and talk track as the playbook file gives them."""
    lines: list[Content] = []
    if view.playbook_name:
        lines.append(Content.assemble(("playbook  ", "$text-muted"), (view.playbook_name, "bold")))
        if view.step_name:
            order = f"{view.step_order}. " if view.step_order is not None else ""
            lines.append(Content.assemble(("step      ", "$text-muted"), f"{order}{view.step_name}"))
    if view.journey:
        lines.append(Content.assemble(("journey   ", "$text-muted"), (view.journey, "bold")))
    if view.meeting_agenda:
        lines += [Content.styled("\nAgenda", "bold $accent"), Content(view.meeting_agenda.rstrip())]
    if view.talk_track:
        lines += [Content.styled("\nTalk track", "bold $accent"), Content(view.talk_track.rstrip())]
    if not lines:
        return Content.styled("made by hand: no playbook step behind it", "$text-muted")
    if view.playbook_name and not (view.meeting_agenda or view.talk_track):
        lines.append(Content.styled("this step gives no agenda or talk track", "$text-muted"))
    return Content("\n").join(lines)


def customer(view: TaskView, today: dt.date) -> Content:
    """The customer's key facts: who, health, ARR, renewal and days to it."""
    card = view.card
    renewal: Content
    if card.renewal_date is None:
        renewal = Content.styled("no renewal date", "$text-muted")
    else:
        days = (card.renewal_date - today).days
        style = "$error bold" if 0 <= days <= 30 else "$warning" if days <= 90 else ""
        when = (
            "today"
            if days == 0
            else f"in {_plural(days, 'day')}"
            if days > 0
            else f"{_plural(-days, 'day')} ago"
        )
        renewal = Content.assemble(f"{card.renewal_date:%d %b %Y} ", (f"({when})", style))
    rows: list[tuple[str, Content]] = [
        ("customer", Content.assemble((card.customer, "bold"), " ", card.customer_name)),
        ("health", health_badge(card)),
        ("ARR", Content(money(card.arr))),
        ("renewal", renewal),
    ]
    if view.customer_status != "active":
        rows.append(("status", Content.styled(view.customer_status, "$warning")))
    return _table(rows)


def outcome(view: TaskView) -> Content:
    """Notes and outcome: the blocked reason, how it ended, the notes, time spent."""
    card = view.card
    rows: list[tuple[str, Content]] = []
    if view.started_at is not None:
        rows.append(("started", Content(f"{view.started_at:%d %b %Y %H:%M}")))
    if card.status == TaskStatus.BLOCKED and card.blocked_reason:
        rows.append(("blocked", Content.styled(card.blocked_reason, "$warning")))
    if card.outcome is not None:
        rows.append(
            (
                "outcome",
                Content.styled(card.outcome.value.replace("_", " "), OUTCOME_STYLE.get(card.outcome, "")),
            )
        )
    if view.time_spent_minutes is not None:
        rows.append(("time", Content(f"{view.time_spent_minutes} minutes")))
    if view.outcome_notes:
        rows.append(("notes", Content(view.outcome_notes)))
    if not rows:
        return Content.styled("no notes yet: c completes it with an outcome and notes", "$text-muted")
    return _table(rows)


def touchpoint_lines(touchpoints: list[TouchpointDetail]) -> Content:
    """The touchpoints logged for the task, oldest first, each whole."""
    if not touchpoints:
        return Content.styled("none logged for this task", "$text-muted")
    blocks = [touchpoint_block(tp) for tp in touchpoints]
    return Content("\n\n").join(blocks)


def touchpoint_block(tp: TouchpointDetail) -> Content:
    """One touchpoint: when, type and subject; who took part; its notes; sentiment and topics."""
    row = tp.row
    kind = row.touchpoint_type.value.replace("_", " ")
    lines = [
        Content.assemble(
            (f"{row.occurred_at:%d %b %Y %H:%M} ", "$text-muted"),
            (kind, "bold"),
            SEP,
            row.subject or "(no subject)",
        )
    ]
    who = [w for w in (row.user, ", ".join(tp.attendees) or row.contact) if w]
    if who:
        lines.append(Content.styled("with " + ", ".join(who), "$text-muted"))
    if tp.description:
        lines.append(Content(tp.description))
    mood = sentiment(row.sentiment_label.value if row.sentiment_label else None, row.sentiment_score)
    topics = ", ".join(tp.key_topics or [])
    tail = [part for part in (mood, Content(f"topics: {topics}") if topics else None) if part is not None]
    if tail:
        lines.append(Content(SEP).join(tail))
    return Content("\n").join(lines)


SENTIMENT_STYLE = {"positive": "$success", "negative": "$error", "neutral": "$text-muted"}


def sentiment(label: str | None, score: float | None) -> Content | None:
    """'sentiment negative (-0.62)' in its colour; None when unknown."""
    if label is None:
        return None
    number = f" ({score:+.2f})" if score is not None else ""
    return Content.assemble("sentiment ", (f"{label}{number}", SENTIMENT_STYLE.get(label, "")))


def history_lines(history: list[TaskHistoryEntry]) -> Content:
    """Who changed what, when, oldest first."""
    if not history:
        return Content.styled("no changes recorded", "$text-muted")
    return Content("\n").join(
        Content.assemble(
            (f"{h.at:%d %b %Y %H:%M}  ", "$text-muted"),
            ((h.actor or "cs") + "  ", "bold"),
            h.words,
        )
        for h in history
    )
