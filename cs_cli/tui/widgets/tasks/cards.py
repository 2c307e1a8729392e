"""A task card: customer, title, due date (overdue stands out), type and
priority, the customer's health. Styles are theme variables only.

A card lays itself out for the width it is drawn at: the title (and a
blocked card's reason) wraps onto a second line rather than being cut, and
in a wide column the due date, priority, type and health share one line.
"""

from __future__ import annotations

import datetime as dt
import textwrap

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from cs_cli.domain import BoardCard, HealthStatus, Priority, TaskOutcome, TaskStatus

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
OUTCOME_STYLE = {
    TaskOutcome.SUCCESSFUL: "$success",
    TaskOutcome.UNSUCCESSFUL: "$error",
}
HEALTH_WORD = {HealthStatus.AT_RISK: "at risk", HealthStatus.INSUFFICIENT_DATA: "thin data"}
# At most this many lines of title (and of a blocked reason); the last one ends in … when cut.
WRAP_LINES = 2
SEP = " · "


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


def money(value) -> str:
    """ARR in few characters: 950, 12.5k, 1.2M."""
    amount = float(value)
    for size, unit in ((1e6, "M"), (1e3, "k")):
        if amount >= size:
            return f"{amount / size:.1f}".rstrip("0").rstrip(".") + unit
    return f"{amount:.0f}"


def account_line(card: BoardCard, today: dt.date) -> Content | None:
    """The account's ARR and the days to its renewal (soon ones stand out)."""
    parts: list = []
    if card.arr is not None:
        parts.append((f"ARR {money(card.arr)}", "$text-muted"))
    if card.renewal_date is not None:
        days = (card.renewal_date - today).days
        if days >= 0:
            style = "$error bold" if days <= 30 else "$warning" if days <= 90 else "$text-muted"
            parts.append((f"renews in {days}d", style))
        else:
            parts.append((f"renewal {-days}d ago", "$warning"))
    if not parts:
        return None
    out: list = []
    for part in parts:
        if out:
            out.append(SEP)
        out.append(part)
    return Content.assemble(*out)


def wrapped(text: str, width: int, lines: int = WRAP_LINES) -> list[str]:
    """`text` on at most `lines` lines of `width` cells, broken between
    words; what does not fit ends the last line with an ellipsis."""
    if width <= 0 or cell_len(text) <= width:
        return [text]
    rows = textwrap.wrap(text, width)
    if len(rows) <= lines:
        return rows
    rest = " ".join(rows[lines - 1 :])
    return [*rows[: lines - 1], set_cell_size(rest, width - 1) + "…"]


class Card(Visual):
    """One card, drawn for the width it gets (see the module docstring)."""

    def __init__(
        self, card: BoardCard, *, today: dt.date, selected: bool = False, assignee: bool = False
    ) -> None:
        self.card = card
        self.today = today
        self.selected = selected
        self.assignee = assignee
        self._laid_out: tuple[int, Content] | None = None

    def __str__(self) -> str:
        return self.content(0).plain

    def content(self, width: int) -> Content:
        """The card's lines at `width` cells (0: unbounded, one line each)."""
        if self._laid_out is not None and self._laid_out[0] == width:
            return self._laid_out[1]
        content = card_content(
            self.card, today=self.today, selected=self.selected, assignee=self.assignee, width=width
        )
        self._laid_out = (width, content)
        return content

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return self.content(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content(0).get_optimal_width(rules, container_width)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return self.content(0).get_minimal_width(rules)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.content(width).get_height(rules, width)


def card_content(
    card: BoardCard, *, today: dt.date, selected: bool = False, assignee: bool = False, width: int = 0
) -> Content:
    """The lines of one card at `width` cells (0: no limit)."""
    head: list = []
    if selected:
        head.append(("✓ ", "$accent bold"))
    head += [(card.customer, "bold"), " ", card.customer_name]
    if card.status == TaskStatus.COMPLETED and card.completed_at is not None:
        done = f"done {short_day(card.completed_at.date(), today)}"
        if card.outcome is not None:
            done += f", {card.outcome.value.replace('_', ' ')}"
        when: tuple[str, str] = (done, OUTCOME_STYLE.get(card.outcome, "$text-muted"))
    elif card.due_date is None:
        when = ("no due date", "$text-muted")
    elif card.overdue:
        when = (f"overdue {short_day(card.due_date, today)}", "$error bold")
    else:
        when = (f"due {short_day(card.due_date, today)}", "")
    due = Content.assemble(when, SEP, (card.priority.value, PRIORITY_STYLE[card.priority]))
    kind = Content.assemble((card.task_type.value.replace("_", " "), "$text-muted"), SEP, health_badge(card))
    lines = [Content.assemble(*head), *map(Content, wrapped(card.title, width))]
    if width and due.cell_length + len(SEP) + kind.cell_length <= width:
        # A wide column: one line for when, how urgent, what kind and how healthy.
        lines.append(Content.assemble(due, SEP, kind))
    else:
        lines += [due, kind]
    account = account_line(card, today)
    if account is not None and card.status != TaskStatus.COMPLETED:
        lines.append(account)
    if card.snoozed_until is not None:
        lines.append(Content.styled(f"snoozed until {short_day(card.snoozed_until, today)}", "$text-muted"))
    if card.status == TaskStatus.BLOCKED and card.blocked_reason:
        lines += [Content.styled(row, "$warning") for row in wrapped(f"⊘ {card.blocked_reason}", width)]
    if assignee:
        # The login part of the email is enough to tell colleagues apart.
        who = card.assignee.split("@", 1)[0] if card.assignee else "nobody"
        lines.append(Content.styled(f"→ {who}", "$text-muted"))
    return Content("\n").join(lines)
