"""A column of the task board: a title with its count, and its cards in an
option list that draws only the lines on screen. Cards arrive a page at a
time; the screen fetches the next page when the cursor nears the end."""

from __future__ import annotations

import datetime as dt

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cs_cli.domain import BoardCard, BoardColumn, TaskStatus
from cs_cli.tui.widgets.tasks.cards import Card

TITLES = {
    TaskStatus.PENDING: "Pending",
    TaskStatus.IN_PROGRESS: "In progress",
    TaskStatus.BLOCKED: "Blocked",
    TaskStatus.COMPLETED: "Completed",
}
# Said after the count, so a narrow column cuts this first.
DETAIL = {TaskStatus.COMPLETED: " · last 7 days"}
# Fetch the next page when the cursor is this close to the last card.
AHEAD = 5


class CardList(OptionList):
    """The cards of one column. Enter opens the task; a click selects a
    card (a double click opens it)."""

    BINDINGS = [
        Binding("enter", "select", "Open", id="board.open"),
        Binding("j", "cursor_down", "Down", show=False, id="board.down"),
        Binding("k", "cursor_up", "Up", show=False, id="board.up"),
    ]

    async def _on_click(self, event: events.Click) -> None:
        event.prevent_default()
        index = event.style.meta.get("option")
        self.focus()
        if index is None or self.options[index].disabled:
            return
        self.highlighted = index
        if event.chain >= 2:
            self.action_select()

    def _on_focus(self, event: events.Focus) -> None:
        if self.highlighted is None and self.option_count and not self.options[0].disabled:
            self.highlighted = 0


class TaskColumn(Vertical):
    """One status of the board and the cards loaded so far."""

    def __init__(self, status: TaskStatus) -> None:
        super().__init__(id=f"col-{status.value}", classes="column")
        self.status = status
        self.cards: list[BoardCard] = []
        self.total = 0
        self.total_exact = True
        self.loading = False
        self.today = dt.date.today()
        self.show_assignee = False
        # The ids drawn with the selection mark (so a reload can tell the
        # cards on screen are already the ones to draw).
        self.marked: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static(TITLES[self.status], classes="column-title")
        yield Static("no tasks", classes="column-empty")
        yield CardList(id=f"cards-{self.status.value}")
        yield Static(classes="column-more")

    @property
    def card_list(self) -> CardList:
        return self.query_one(CardList)

    @property
    def has_more(self) -> bool:
        return len(self.cards) < self.total or not self.total_exact

    @property
    def current(self) -> BoardCard | None:
        index = self.card_list.highlighted
        if index is None or index >= len(self.cards):
            return None
        return self.cards[index]

    def show(
        self,
        column: BoardColumn,
        *,
        today: dt.date,
        selected: set[int],
        keep: int | None = None,
        show_assignee: bool = False,
    ) -> None:
        """Replace the cards; the cursor stays on card `keep` if it is still
        here, else on the same place in the column. The same cards drawn the
        same way are left as they are: nothing is measured or drawn again."""
        cards = self.card_list
        index = cards.highlighted
        marked = {c.id for c in column.cards} & selected
        self.loading = False
        if (
            list(column.cards) == self.cards
            and (column.total, column.total_exact) == (self.total, self.total_exact)
            and (today, show_assignee) == (self.today, self.show_assignee)
            and marked == self.marked
        ):
            return
        self.today, self.show_assignee = today, show_assignee
        self.cards = list(column.cards)
        self.total, self.total_exact = column.total, column.total_exact
        self.marked = marked
        cards.set_options(self._options(self.cards, selected))
        if self.cards:
            ids = [c.id for c in self.cards]
            if keep in ids:
                index = ids.index(keep)
            if index is not None or cards.has_focus:
                cards.highlighted = min(index or 0, len(self.cards) - 1)
        self._retitle()

    def append(self, column: BoardColumn, *, selected: set[int]) -> None:
        """Add the next page below the cards already here."""
        self.loading = False
        if column.offset != len(self.cards):
            return  # a page of an older listing: the board was reloaded since
        have = {c.id for c in self.cards}
        new = [c for c in column.cards if c.id not in have]
        self.cards.extend(new)
        self.total, self.total_exact = column.total, column.total_exact
        if not new:
            self.total, self.total_exact = len(self.cards), True
        # Appending (never removing) keeps the option list's line cache: only
        # the new cards are measured, however many are loaded already.
        self.card_list.add_options(self._options(new, selected))
        self.marked |= {c.id for c in new} & selected
        self._retitle()

    def redraw(self, task_id: int, selected: set[int]) -> None:
        """Draw one card again (its selection mark changed)."""
        for index, card in enumerate(self.cards):
            if card.id == task_id:
                self.card_list.replace_option_prompt_at_index(index, self._content(card, card.id in selected))
                self.marked = (self.marked - {task_id}) | ({task_id} & selected)
                return

    def _content(self, card: BoardCard, selected: bool) -> Card:
        return Card(card, today=self.today, selected=selected, assignee=self.show_assignee)

    def _options(self, cards: list[BoardCard], selected: set[int]) -> list:
        options: list = []
        for card in cards:
            # Every card ends with a rule (the last one's is not drawn).
            options += [Option(self._content(card, card.id in selected), id=str(card.id)), None]
        return options

    def _retitle(self) -> None:
        count = f"{self.total:,}" if self.total_exact else f"{self.total:,}+"
        shown = f"{len(self.cards):,} of {count}" if self.has_more else count
        title = self.query_one(".column-title", Static)
        # One line each, whatever they say: no layout pass for a new count.
        title.update(
            Content.assemble(
                (TITLES[self.status], "bold"),
                " ",
                (shown, "$text-muted"),
                (DETAIL.get(self.status, ""), "$text-muted"),
            ),
            layout=False,
        )
        self.set_class(not self.cards, "-empty")
        self.set_class(self.has_more, "-more")
        if self.has_more:
            left = f"{self.total - len(self.cards):,} more" if self.total_exact else "more"
            self.query_one(".column-more", Static).update(f"▼ {left}: keep going down", layout=False)
