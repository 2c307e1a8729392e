"""The Tasks screen: the acting user's tasks as a kanban (pending, in
progress, blocked, completed in the last week), a page of cards at a time.

Every read and every change runs on a worker thread through the task
services the CLI uses (so events, audit entries and touchpoints happen the
same way) and comes back as a message; the screen then reloads. A change on
several selected cards is one bulk change.

Changes made elsewhere (another shell, cron) show without a key: every few
seconds a worker reads a cheap stamp of the tasks under the filter and the
board reloads only when it changed, redrawing only the columns whose cards
did (docs/board.md, "Live updates").
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, OptionList, Static

from cs_cli.domain import BoardCard, BoardColumn, BoardView, TaskStatus
from cs_cli.services.tasks.board import COLUMNS, PAGE, BoardFilter, scopes_for
from cs_cli.tui.screens.board_filters import FilterModal, ViewsChoice, ViewsModal
from cs_cli.tui.screens.task_actions import Changed, Failed, TaskActions
from cs_cli.tui.screens.task_detail import TaskDetailScreen
from cs_cli.tui.screens.task_modals import NewTaskForm, NewTaskModal, describe
from cs_cli.tui.widgets.tasks.column import AHEAD, TaskColumn

# Pages after the first are larger: the user is scrolling through.
NEXT_PAGE = 100
DUE_CYCLE = (None, "today", "week", "overdue")
# Below this many columns the column with the cursor is drawn wider (board.tcss).
WIDE = 160
# Seconds of quiet typing before the search runs.
SEARCH_DELAY = 0.3


class BoardLoaded(Message):
    def __init__(self, generation: int, columns: list[BoardColumn], stamp: tuple | None = None) -> None:
        super().__init__()
        self.generation = generation
        self.columns = columns
        self.stamp = stamp


class StampRead(Message):
    """The live poll's stamp of the tasks under the filter."""

    def __init__(self, generation: int, stamp: tuple) -> None:
        super().__init__()
        self.generation = generation
        self.stamp = stamp


class ViewsRead(Message):
    """The user's saved views (for the list, or to count them)."""

    def __init__(self, views: list[BoardView], open_list: bool) -> None:
        super().__init__()
        self.views = views
        self.open_list = open_list


class ViewChanged(Message):
    """A view was saved or deleted."""

    def __init__(self, text: str, saved: BoardView | None = None, deleted: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.saved = saved
        self.deleted = deleted


class PageLoaded(Message):
    def __init__(self, generation: int, column: BoardColumn) -> None:
        super().__init__()
        self.generation = generation
        self.column = column


class BoardScreen(TaskActions, Screen[None]):
    TITLE = "Tasks"
    CSS_PATH = "board.tcss"
    AUTO_FOCUS = "#cards-pending"
    BINDINGS = [
        # The footer shows the ones a newcomer needs, with help among them:
        # with the app's keys (screens, find, quit) it fits 80 columns, for a
        # manager's scope switch too. ? lists all of them.
        Binding("o", "open_customer", "Customer", id="board.customer"),
        Binding("c", "complete", "Complete", id="board.complete"),
        Binding("s", "scope", "Scope", id="board.scope"),
        Binding("question_mark", "app.help", "Help", id="board.help"),
        Binding("t", "start", "Start", id="board.start", show=False),
        Binding("b", "block", "Block", id="board.block", show=False),
        Binding("n", "new_task", "New task", id="board.new", show=False),
        Binding("slash", "search", "Search", id="board.search", show=False),
        Binding("f", "filters", "Filters", id="board.filters", show=False),
        Binding("v", "views", "Saved views: apply, save, delete", id="board.views", show=False),
        Binding("space", "toggle", "Select (for a change to several cards)", id="board.toggle", show=False),
        Binding("e", "edit", "Edit title, type, priority, due", id="board.edit", show=False),
        Binding("r", "reschedule", "Reschedule", id="board.reschedule", show=False),
        Binding("z", "snooze", "Snooze until a day", id="board.snooze", show=False),
        Binding("a", "assign", "Assign to someone", id="board.assign", show=False),
        Binding("u", "unblock", "Unblock", id="board.unblock", show=False),
        Binding("x", "cancel_task", "Cancel", id="board.cancel", show=False),
        Binding("d", "due", "Due: any, today, this week, overdue", id="board.due", show=False),
        Binding(
            "escape",
            "clear",
            "Clear the selection, then the search, then the owner",
            id="board.clear",
            show=False,
        ),
        Binding("ctrl+r", "reload", "Reload", id="board.reload", show=False),
        Binding("left,h", "column(-1)", "Column to the left", id="board.left", show=False),
        Binding("right,l", "column(1)", "Column to the right", id="board.right", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board_filter = BoardFilter()
        self.selected: set[int] = set()
        self.generation = 0
        self.loaded = False
        self._search_timer: Timer | None = None
        # The view applied last (the status line names it), the user's views,
        # and the stamp of what is drawn (the live poll compares with it).
        self.view: BoardView | None = None
        self.views: list[BoardView] | None = None
        self.stamp: tuple | None = None
        self._polling = False
        # The card opened in the task detail: the cursor goes to it on return.
        self.follow: int | None = None

    # -- layout and loading

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield Input(placeholder="/ search customer or title", id="search", compact=True)
            yield Static(id="status-line")
        with Horizontal(id="columns"):
            for status in COLUMNS:
                yield TaskColumn(status)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.board_filter = BoardFilter(scope=self.app.scope)
        view = self.app.first_view
        if view is not None:
            self._apply_view(view, reload=False)
        else:
            # Saved views are offered in the status line (v opens them).
            self.run_worker(partial(self._read_views, False), thread=True, group="board-views")
        self._status_line()
        self.reload()
        poll = self.app.poll
        if poll > 0:
            self.set_interval(poll, self.poll)

    def on_resize(self) -> None:
        self.set_class(self.size.width < WIDE, "-narrow")

    def on_screen_resume(self) -> None:
        request = self.app.owner_request
        if request is not None:
            # The team view picked a person: their tasks, in the scope it showed.
            self.app.owner_request = None
            owner, scope = request
            if scope not in scopes_for(self.db.actor.role):
                scope = self.board_filter.scope
            self.board_filter = replace(self.board_filter, owner=owner, scope=scope)
            self._status_line()
            self.reload()
        elif self.loaded:
            self.reload()

    def columns(self) -> list[TaskColumn]:
        return list(self.query(TaskColumn))

    def reload(self, *, live: bool = False) -> None:
        """Load the first page of every column again (in a worker). Live: as
        many cards as each column holds, so the cursor's card stays loaded."""
        self.generation += 1
        limits = [max(PAGE, len(c.cards)) if live else PAGE for c in self.columns()]
        self.run_worker(
            partial(self._load, self.generation, self.board_filter, limits),
            thread=True,
            exclusive=True,
            group="board-load",
        )

    def _load(self, generation: int, flt: BoardFilter, limits: list[int]) -> None:
        from cs_cli.services.tasks.board import board_column, board_stamp

        db = self.db
        today = db.today()

        def read(session: Any, actor: Any) -> tuple[tuple, list[BoardColumn]]:
            # The stamp first: a change landing in between is seen by the next poll.
            stamp = board_stamp(session, actor, flt, today=today)
            columns = [
                board_column(session, actor, flt, status, today=today, limit=limit)
                for status, limit in zip(COLUMNS, limits, strict=True)
            ]
            return stamp, columns

        try:
            stamp, columns = db.call(read)
        except Exception as exc:
            self.fail(exc)
            return
        self.post_message(BoardLoaded(generation, columns, stamp))

    # -- live updates

    def poll(self) -> None:
        """Look for changes made elsewhere, unless something is on top of the
        board (a form, another screen) or a look or a load is under way."""
        if self._polling or not self.loaded or self.app.screen is not self:
            return
        if any(w.group == "board-load" and not w.is_finished for w in self.workers):
            return
        self._polling = True
        self.run_worker(
            partial(self._read_stamp, self.generation, self.board_filter), thread=True, group="board-poll"
        )

    def _read_stamp(self, generation: int, flt: BoardFilter) -> None:
        from cs_cli.services.tasks.board import board_stamp

        db = self.db
        try:
            stamp = db.call(board_stamp, flt, today=db.today())
        except Exception:
            # The next look tries again; a reload or an action says what is wrong.
            stamp = None
        self.post_message(StampRead(generation, stamp))  # type: ignore[arg-type]

    def on_stamp_read(self, message: StampRead) -> None:
        self._polling = False
        if message.generation != self.generation or message.stamp is None:
            return
        if message.stamp != self.stamp:
            self.reload(live=True)

    def on_board_loaded(self, message: BoardLoaded) -> None:
        if message.generation != self.generation:
            return
        self.loaded = True
        self.stamp = message.stamp
        today = self.db.today()
        shown: set[int] = set()
        for widget, column in zip(self.columns(), message.columns, strict=True):
            current = widget.current
            widget.show(
                column,
                today=today,
                selected=self.selected,
                keep=current.id if current else None,
                show_assignee=self.board_filter.scope != "mine",
            )
            shown.update(c.id for c in column.cards)
        self.selected &= shown
        self._status_line()
        if self.follow is not None and self.is_current:
            self._go_to(self.follow)
            self.follow = None

    def _go_to(self, task_id: int) -> None:
        """Put the cursor on this card, in whichever column it is now."""
        for column in self.columns():
            ids = [c.id for c in column.cards]
            if task_id in ids:
                column.card_list.focus()
                column.card_list.highlighted = ids.index(task_id)
                return

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        column = event.option_list.parent
        if not isinstance(column, TaskColumn) or column.loading or not column.has_more:
            return
        if event.option_index >= len(column.cards) - AHEAD:
            column.loading = True
            self.run_worker(
                partial(
                    self._load_page, self.generation, self.board_filter, column.status, len(column.cards)
                ),
                thread=True,
                exclusive=True,
                group=f"board-page-{column.status.value}",
            )

    def _load_page(self, generation: int, flt: BoardFilter, status: TaskStatus, offset: int) -> None:
        from cs_cli.services.tasks.board import board_column

        db = self.db
        try:
            column = db.call(board_column, flt, status, today=db.today(), offset=offset, limit=NEXT_PAGE)
        except Exception as exc:
            self.fail(exc)
            return
        self.post_message(PageLoaded(generation, column))

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        widget = self.query_one(f"#col-{message.column.status.value}", TaskColumn)
        widget.append(message.column, selected=self.selected)
        self._status_line()

    def on_failed(self, message: Failed) -> None:
        for column in self.columns():
            column.loading = False
        self.notify(message.text, severity="error", timeout=8, markup=False)
        if message.reload:
            self.reload(live=True)

    def on_changed(self, message: Changed) -> None:
        self.notify(message.text, markup=False)
        self.selected.clear()
        self.reload()

    def _status_line(self) -> None:
        flt = self.board_filter
        parts = [f"scope: {flt.scope}"]
        if self.view is not None:
            same = self.view.filters == flt.to_json()
            parts.append(f"view {self.view.name}" + ("" if same else " (changed)"))
        parts += flt.describe()
        if flt.search:
            parts.append(f"search '{flt.search}'")
        if self.selected:
            parts.append(f"{len(self.selected)} selected")
        line = Content.styled(" · ".join(parts), "$text-muted")
        if self.loaded and not any(c.cards for c in self.columns()):
            hint = "nothing here: n new task, s scope, f filters" if flt.scope == "mine" else "nothing here"
            line = Content.assemble(line, "  ", (hint, "$warning"))
        elif self.view is None and self.views:
            count = len(self.views)
            hint = f"v: your {count} saved view{'s' if count != 1 else ''}"
            line = Content.assemble(line, "  ", (hint, "$accent"))
        self.query_one("#status-line", Static).update(line, layout=False)

    # -- moving around

    def _focused_column(self) -> TaskColumn | None:
        node = self.focused
        while node is not None and not isinstance(node, TaskColumn):
            node = node.parent  # type: ignore[assignment]
        return node

    def current_card(self) -> BoardCard | None:
        column = self._focused_column()
        return column.current if column else None

    def action_column(self, step: int) -> None:
        columns = self.columns()
        column = self._focused_column()
        at = columns.index(column) if column else 0
        columns[max(0, min(len(columns) - 1, at + step))].card_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        column = event.option_list.parent
        if not isinstance(column, TaskColumn):
            return
        event.stop()
        card = column.cards[event.option_index]
        # Back from the detail, the cursor finds the card again, in
        # whichever column an action there moved it to.
        self.follow = card.id
        self.app.push_screen(TaskDetailScreen(card.id))

    def action_open_customer(self) -> None:
        card = self.current_card()
        if card is None:
            self.notify("no task here: move to a card first", severity="warning", markup=False)
            return
        self.app.open_customer(card.customer)

    def action_toggle(self) -> None:
        column = self._focused_column()
        card = column.current if column else None
        if column is None or card is None:
            return
        self.selected ^= {card.id}
        column.redraw(card.id, self.selected)
        column.card_list.action_cursor_down()
        self._status_line()

    def action_clear(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:
            self._focus_board()
        elif self.selected:
            for column in self.columns():
                for task_id in list(self.selected):
                    column.redraw(task_id, set())
            self.selected.clear()
            self._status_line()
        elif search.value:
            search.value = ""
            self._set_filter(search="")
        elif self.board_filter.owner:
            self._set_filter(owner=None)

    def _focus_board(self) -> None:
        columns = self.columns()
        target = next((c for c in columns if c.cards), columns[0])
        target.card_list.focus()

    # -- scope, search and filters

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A CSM has one scope: no use showing the switch in the footer.
        return not (action == "scope" and len(scopes_for(self.db.actor.role)) == 1)

    def _set_filter(self, **changes: Any) -> None:
        self.board_filter = replace(self.board_filter, **changes)
        self._status_line()
        self.reload()

    def action_scope(self) -> None:
        scopes = scopes_for(self.db.actor.role)
        if len(scopes) == 1:
            self.notify(f"a {self.db.actor.role.value} sees their own tasks (scope: mine)", markup=False)
            return
        now = self.board_filter.scope
        scope = scopes[(scopes.index(now) + 1) % len(scopes)] if now in scopes else scopes[0]
        self.app.scope = scope
        self._set_filter(scope=scope)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "search":
            return
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._apply_search)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        self._apply_search()
        self._focus_board()

    def _apply_search(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        text = self.query_one("#search", Input).value.strip()
        if text != self.board_filter.search:
            self._set_filter(search=text)

    def action_due(self) -> None:
        now = self.board_filter.due
        self._set_filter(due=DUE_CYCLE[(DUE_CYCLE.index(now) + 1) % len(DUE_CYCLE)])

    def action_filters(self) -> None:
        from cs_cli.services.tasks.board import filter_choices

        def fetch() -> None:
            try:
                choices = self.db.call(filter_choices)
            except Exception as exc:
                self.fail(exc)
                return
            self.app.call_from_thread(self._open_filters, choices)

        self.run_worker(fetch, thread=True, group="board-fetch")

    def _open_filters(self, choices: Any) -> None:
        def done(flt: BoardFilter | None) -> None:
            if flt is not None and flt != self.board_filter:
                self.board_filter = flt
                self._status_line()
                self.reload()

        self.app.push_screen(FilterModal(self.board_filter, choices), done)

    # -- saved views

    def action_views(self) -> None:
        self.run_worker(partial(self._read_views, True), thread=True, group="board-views")

    def _read_views(self, open_list: bool) -> None:
        from cs_cli.services.tasks.saved_views import list_views

        try:
            views = self.db.call(list_views)
        except Exception as exc:
            if open_list:
                self.fail(exc)
            return
        self.post_message(ViewsRead(views, open_list))

    def on_views_read(self, message: ViewsRead) -> None:
        self.views = message.views
        self._status_line()
        if message.open_list:
            self._open_views()

    def _open_views(self) -> None:
        views = self.views or []
        by_name = {v.name: v for v in views}

        def done(choice: ViewsChoice | None) -> None:
            if choice is None:
                return
            if choice.action == "apply":
                self._apply_view(by_name[choice.name])
            else:
                self.run_worker(partial(self._write_view, choice), thread=True, group="board-views")

        current = " · ".join([f"scope: {self.board_filter.scope}", *self.board_filter.describe()])
        name = self.view.name if self.view else ""
        self.app.push_screen(ViewsModal(views, current, name), done)

    def _apply_view(self, view: BoardView, *, reload: bool = True) -> None:
        from cs_cli.errors import BadInput
        from cs_cli.services.tasks.saved_views import view_filter

        try:
            flt = view_filter(view)
        except BadInput as exc:
            self.notify(f"view {view.name}: {exc.message}", severity="error", markup=False)
            return
        scopes = scopes_for(self.db.actor.role)
        if flt.scope not in scopes:
            self.notify(
                f"view {view.name} is for the {flt.scope} scope, not open to a "
                f"{self.db.actor.role.value}: shown in {self.board_filter.scope}",
                severity="warning",
                markup=False,
            )
            flt = replace(flt, scope=self.board_filter.scope)
        self.view = view
        self.app.scope = flt.scope
        self.query_one("#search", Input).value = flt.search
        self.board_filter = flt
        self._status_line()
        if reload:
            self.reload()

    def _write_view(self, choice: ViewsChoice) -> None:
        from cs_cli.services.tasks.saved_views import delete_view, save_view

        db = self.db
        try:
            if choice.action == "save":
                saved = db.call(save_view, choice.name, self.board_filter, now=db.now())
                message = ViewChanged(f"saved view {saved.name}: {saved.described}", saved=saved)
            else:
                gone = db.call(delete_view, choice.name, now=db.now())
                message = ViewChanged(f"deleted view {gone.name}", deleted=gone.name)
        except Exception as exc:
            self.fail(exc)
            return
        self.post_message(message)

    def on_view_changed(self, message: ViewChanged) -> None:
        self.notify(message.text, markup=False)
        if message.saved is not None:
            self.view = message.saved
        elif self.view is not None and self.view.name == message.deleted:
            self.view = None
        self.run_worker(partial(self._read_views, False), thread=True, group="board-views")
        self._status_line()

    def action_reload(self) -> None:
        self.reload()

    # -- actions on the selected cards (or the one under the cursor)

    def task_targets(self) -> tuple[list[int], str] | None:
        if self.selected:
            ids = sorted(self.selected)
            return ids, describe(len(ids), None)
        card = self.current_card()
        if card is None:
            self.notify("no task here: move to a card first", severity="warning", markup=False)
            return None
        return [card.id], describe(1, card.title)

    def target_statuses(self) -> dict[int, TaskStatus]:
        return {card.id: card.status for column in self.columns() for card in column.cards}

    def edit_card(self) -> BoardCard | None:
        # One card: the form starts from its values. A selection: blanks.
        return None if self.selected else self.current_card()

    def action_new_task(self) -> None:
        card = self.current_card()

        def done(form: NewTaskForm | None) -> None:
            if form is not None:
                self.run_worker(partial(self._create, form), thread=True, group="board-change")

        self.app.push_screen(NewTaskModal(self.db.today(), card.customer if card else ""), done)

    def _create(self, form: NewTaskForm) -> None:
        from cs_cli.services.tasks.lifecycle import create_task

        db = self.db
        try:
            detail = db.call(
                create_task,
                form.customer,
                title=form.title,
                task_type=form.task_type,
                priority=form.priority,
                due_date=form.due,
                today=db.today(),
                now=db.now(),
            )
        except Exception as exc:
            self.fail(exc)
            return
        row = detail.row
        self.post_message(Changed(f"created task {row.id} for {row.customer}: {row.title}"))
