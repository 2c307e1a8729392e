"""Customer 360: everything about one customer on one screen, pushed over
any mode (enter on a card, `cs board --customer ID`); escape goes back.

The whole view comes from one service call on a worker thread; the
touchpoint timeline shows the newest page first and loads the next one as
the cursor nears its end, so a customer with thousands opens as fast as one
with ten.

Changes made elsewhere show without a key: while the 360 is on top, every
`board_poll` seconds a worker reads the customer's stamp (one statement)
and the view loads again only when it moved (customer_live.py), the cursors
kept on their rows and the panels whose data did not change left as they are."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from cs_cli.domain import Customer360, LoggedTouchpoint, Page, TaskRow, TicketRow, TouchpointRow
from cs_cli.tui.screens.customer_live import LiveCustomer, cursor_kept
from cs_cli.tui.widgets.charts import BarChart, LineChart
from cs_cli.tui.widgets.customer import panels
from cs_cli.tui.widgets.customer.format import failure, styled_text
from cs_cli.tui.widgets.customer.log_touchpoint import LogTouchpointScreen, TouchpointDraft
from cs_cli.tui.widgets.rows import FitTable

SENTIMENT_STYLE = {"positive": "$success", "negative": "$error", "neutral": "$text-muted"}
PRIORITY_STYLE = {"critical": "$error bold", "high": "$warning", "low": "$text-muted"}
TICKET_PRIORITY_STYLE = {"urgent": "$error bold", "high": "$warning", "low": "$text-muted"}
# Narrower than this (the 59-column left panels and a readable right side), the panels stack.
NARROW = 110


class CustomerScreen(LiveCustomer, Screen[None]):
    TITLE = "Customer 360"
    CSS_PATH = "customer.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="customer.back"),
        Binding("l", "log_touchpoint", "Log touchpoint", id="customer.log_touchpoint"),
        # Listed on ? only: every key in the footer costs its share of each repaint.
        Binding("t", "focus_timeline", "Timeline", id="customer.timeline", show=False),
        Binding("m", "more_touchpoints", "More touchpoints", id="customer.more_touchpoints", show=False),
        Binding("r", "reload", "Refresh", id="customer.refresh", show=False),
    ]
    # Touchpoints per page of the timeline.
    PAGE = 50

    class Loaded(Message):
        def __init__(self, view: Customer360, stamp: tuple | None = None) -> None:
            super().__init__()
            self.view = view
            self.stamp = stamp

    class MoreLoaded(Message):
        def __init__(self, page: Page) -> None:
            super().__init__()
            self.page = page

    class Logged(Message):
        def __init__(self, logged: LoggedTouchpoint) -> None:
            super().__init__()
            self.logged = logged

    class Failed(Message):
        def __init__(self, text: str, *, fatal: bool = False) -> None:
            super().__init__()
            self.text = text
            self.fatal = fatal

    def __init__(self, customer: str) -> None:
        super().__init__()
        self.customer = customer
        self.view: Customer360 | None = None
        self.touchpoints: list[TouchpointRow] = []
        self.touchpoint_total = 0
        self.loading_more = False
        # The stamp of what is shown (the live poll compares with it).
        self.stamp: tuple | None = None
        # perf_counter() when the screen was made, when it first showed its
        # data, and when its footer showed too.
        self.created_at = time.perf_counter()
        self.painted_at: float | None = None
        self.footer_at: float | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Content(f"Loading {self.customer}…"), id="c360-title")
        # Hidden until the data is in: laid out and painted once, full.
        with ScrollableContainer(id="c360-body", classes="-loading", can_focus=False):
            with VerticalScroll(id="c360-left"):
                with Vertical(id="health-panel", classes="panel"):
                    yield Static("", id="gauge")
                    yield LineChart(id="trend")
                    yield Static("", id="trend-words")
                    yield Static("", id="outlook")
                yield Static("", id="risks", classes="panel")
                with Vertical(id="components-panel", classes="panel"):
                    yield DataTable(id="components", show_cursor=False, zebra_stripes=True, cell_padding=0)
            with VerticalScroll(id="c360-right"):
                with Vertical(id="timeline-panel", classes="panel"):
                    yield FitTable(id="timeline", cursor_type="row", zebra_stripes=True, stretch="subject")
                with Vertical(id="usage-panel", classes="panel"):
                    yield BarChart(id="usage")
                    yield Static("", id="usage-words")
                yield Static("", id="contacts", classes="panel")
                yield Static("", id="journeys", classes="panel")
                with Vertical(id="tasks-panel", classes="panel"):
                    yield FitTable(id="tasks", cursor_type="row", zebra_stripes=True, stretch="task")
                with Vertical(id="tickets-panel", classes="panel"):
                    yield FitTable(id="tickets", cursor_type="row", zebra_stripes=True, stretch="ticket")

    def on_resize(self) -> None:
        # Under NARROW columns the panels stack in one scrolling column
        # rather than squeezing the right-hand ones to a few characters.
        # Then the whole column is what the keys scroll (it takes the focus
        # on tab, arrows and page keys move it); side by side, each column is.
        narrow = self.size.width < NARROW
        self.set_class(narrow, "-narrow")
        self.query_one("#c360-body").can_focus = narrow
        for column in self.query("#c360-left, #c360-right"):
            column.can_focus = not narrow

    def on_mount(self) -> None:
        # The data first: the query runs while the screen lays itself out.
        self.load()
        self.set_timer(0.5, self._show_footer)
        self.start_polling()
        titles = {
            "#health-panel": "Health",
            "#risks": "Why at risk",
            "#usage-panel": "Usage (events a week)",
            "#components-panel": "Components",
            "#timeline-panel": "Touchpoints",
            "#contacts": "Key contacts",
            "#journeys": "Journeys and playbooks",
            "#tasks-panel": "Open tasks",
            "#tickets-panel": "Tickets",
        }
        for selector, text in titles.items():
            self.query_one(selector).border_title = text
        components = self.query_one("#components", DataTable)
        columns = (("component", 13), ("score", 6), ("pts", 5), ("measure", 19), ("value", 7), ("band", 4))
        for label, width in columns:
            components.add_column(label, width=width)
        # The subject, task and ticket columns take what the others leave (FitTable).
        tables = {
            "#timeline": (("when", 6), ("type", 9), ("subject", 22), ("sentiment", 9)),
            "#tasks": (("due", 6), ("task", 22), ("status", 11), ("priority", 8)),
            "#tickets": (("opened", 6), ("ticket", 22), ("status", 8), ("priority", 8)),
        }
        for selector, columns in tables.items():
            table = self.query_one(selector, FitTable)
            for label, width in columns:
                table.add_column(label, width=width, key=label)
            table.fit()

    # -- loading

    @work(thread=True, exclusive=True, group="c360-load")
    def load(self) -> None:
        from cs_cli.services.customer360 import customer_360
        from cs_cli.services.customer_stamp import customer_stamp

        db = self.app.db
        first = self.view is None
        # Again as many touchpoints as are shown, so the cursor's row stays loaded.
        touchpoints = max(self.PAGE, len(self.touchpoints))

        def read(session, actor) -> tuple[tuple | None, Customer360]:
            # The stamp first: a change landing in between is seen by the next poll.
            stamp = customer_stamp(session, actor, self.customer)
            view = customer_360(
                session, actor, self.customer, as_of=db.today(), touchpoints=touchpoints, record=first
            )
            return stamp, view

        try:
            stamp, view = db.call(read)
        except Exception as exc:  # shown as one line, never a traceback
            self.post_message(self.Failed(failure(exc), fatal=first))
            return
        self.post_message(self.Loaded(view, stamp))

    @work(thread=True, exclusive=True, group="c360-more")
    def load_more(self, offset: int) -> None:
        from cs_cli.services.touchpoints import TouchpointFilter, list_touchpoints

        try:
            page = self.app.db.call(
                list_touchpoints, TouchpointFilter(customer=self.customer), offset=offset, limit=self.PAGE
            )
        except Exception as exc:
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.MoreLoaded(page))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        old, view = self.view, message.view
        self.view, self.stamp = view, message.stamp

        def changed(*fields: str) -> bool:
            # A reload draws again only the panels whose data moved.
            return old is None or any(getattr(old, f) != getattr(view, f) for f in fields)

        if changed("customer", "as_of", "churned_at", "industry"):
            self.query_one("#c360-title", Static).update(panels.title(view))
        if changed("customer", "health", "history", "status_bands"):
            self.query_one("#gauge", Static).update(panels.health_lines(view))
            panels.plot_trend(self.query_one("#trend", LineChart), view)
            self.query_one("#trend-words", Static).update(panels.trend_words(view))
        if changed("usage_weeks"):
            panels.plot_usage(self.query_one("#usage", BarChart), view)
            self.query_one("#usage-words", Static).update(panels.usage_words(view))
        if changed(
            "churn_probability",
            "expansion_probability",
            "latest_nps",
            "predicted_nps",
            "churn_drivers",
            "topics",
        ):
            self.query_one("#outlook", Static).update(panels.outlook(view))
        if changed("customer", "health", "risks"):
            self.query_one("#risks", Static).update(panels.risk_lines(view))
        if changed("contacts"):
            self.query_one("#contacts", Static).update(panels.contact_lines(view.contacts))
        if changed("journeys", "playbook_runs"):
            self.query_one("#journeys", Static).update(panels.journey_lines(view))
        if changed("components"):
            self._fill_components(view)
        if changed("tasks"):
            with cursor_kept(self.query_one("#tasks", DataTable)):
                self._fill_tasks(view.tasks.rows, view.tasks.total, view.tasks.total_exact)
        if changed("tickets"):
            with cursor_kept(self.query_one("#tickets", DataTable)):
                self._fill_tickets(view.tickets)
        if old is None or self.touchpoints != view.touchpoints.rows or changed("touchpoints"):
            timeline = self.query_one("#timeline", DataTable)
            with cursor_kept(timeline):
                self.touchpoints = []
                timeline.clear()
                self._add_touchpoints(view.touchpoints)
        if self.painted_at is None:
            self.query_one("#c360-body").remove_class("-loading")
            self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        self.painted_at = time.perf_counter()
        self._show_footer()
        if self.has_class("-narrow"):
            # Stacked: the page itself, top first (health and why at risk),
            # to be read down with the arrow and page keys.
            self.query_one("#c360-body").focus(scroll_visible=False)
        else:
            self.query_one("#timeline", DataTable).focus(scroll_visible=False)

    def _show_footer(self) -> None:
        # The footer's keys take about as long to lay out as all the panels:
        # they come right after the data (or after a moment when the data is
        # slow), not before it.
        if not self.query(Footer):
            self.mount(Footer())
            self.call_after_refresh(self._footer_painted)

    def _footer_painted(self) -> None:
        self.footer_at = time.perf_counter()

    @on(MoreLoaded)
    def show_more(self, message: MoreLoaded) -> None:
        self.loading_more = False
        self._add_touchpoints(message.page)

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.loading_more = False
        self.notify(message.text, title="Customer 360", severity="error", markup=False)
        if message.fatal and self.app.screen is self:
            self.app.pop_screen()

    def _fill_components(self, view: Customer360) -> None:
        table = self.query_one("#components", DataTable)
        table.clear()
        if not view.components:
            table.add_row(styled_text(self.app, "no score yet", "$text-muted"), "", "", "", "", "")
            return
        for component in view.components:
            measures = component.measures or []
            style = _score_style(component.score)
            for index, m in enumerate(measures or [None]):
                first = index == 0
                table.add_row(
                    component.name if first else "",
                    styled_text(self.app, "-" if component.score is None else str(component.score), style)
                    if first
                    else "",
                    (f"{component.points:.1f}" if component.points is not None else "-") if first else "",
                    m.name.replace("_", " ") if m else "-",
                    _raw(m.raw) if m else "",
                    styled_text(
                        self.app, "-" if m is None or m.score is None else str(m.score), _score_style(m.score)
                    )
                    if m
                    else "",
                )

    def _fill_tasks(self, rows: list[TaskRow], total: int, exact: bool) -> None:
        table = self.query_one("#tasks", DataTable)
        table.clear()
        panel = self.query_one("#tasks-panel")
        panel.border_title = f"Open tasks ({total}{'' if exact else '+'})"
        if not rows:
            table.add_row("", styled_text(self.app, "none", "$text-muted"), "", "")
            return
        for t in rows:
            due = "-" if t.due_date is None else panels.short_day(t.due_date, self.app.db.today())
            table.add_row(
                styled_text(self.app, due, "$error bold" if t.overdue else ""),
                Text(t.title),
                t.status.value.replace("_", " "),
                styled_text(self.app, t.priority.value, PRIORITY_STYLE.get(t.priority.value, "")),
                key=str(t.id),
            )

    def _fill_tickets(self, rows: list[TicketRow]) -> None:
        table = self.query_one("#tickets", DataTable)
        table.clear()
        self.query_one("#tickets-panel").border_title = f"Tickets ({len(rows)}, open first)"
        if not rows:
            table.add_row("", styled_text(self.app, "none", "$text-muted"), "", "")
            return
        today = self.app.db.today()
        for t in rows:
            table.add_row(
                panels.short_day(t.opened_at.date(), today),
                Text(t.subject or ""),
                t.status.value,
                styled_text(self.app, t.priority.value, TICKET_PRIORITY_STYLE.get(t.priority.value, "")),
                key=str(t.id),
            )

    def _add_touchpoints(self, page: Page) -> None:
        table = self.query_one("#timeline", DataTable)
        self.touchpoint_total = page.total
        today = self.app.db.today()
        if not page.rows and not self.touchpoints:
            table.add_row("", "", styled_text(self.app, "none yet", "$text-muted"), "")
        for tp in page.rows:
            sentiment = tp.sentiment_label.value if tp.sentiment_label else ""
            table.add_row(
                panels.short_day(tp.occurred_at.date(), today),
                panels.TYPE_WORD.get(tp.touchpoint_type, tp.touchpoint_type.value),
                Text(tp.subject or ""),
                styled_text(self.app, sentiment, SENTIMENT_STYLE.get(sentiment, "")),
                key=str(tp.id),
            )
        self.touchpoints.extend(page.rows)
        self.query_one(
            "#timeline-panel"
        ).border_title = f"Touchpoints ({len(self.touchpoints):,} of {self.touchpoint_total:,}, newest first)"

    # -- actions

    def action_focus_timeline(self) -> None:
        self.query_one("#timeline", DataTable).focus()

    def action_reload(self) -> None:
        self.load()

    def action_more_touchpoints(self) -> None:
        if self.loading_more or len(self.touchpoints) >= self.touchpoint_total:
            return
        self.loading_more = True
        self.load_more(len(self.touchpoints))

    @on(DataTable.RowHighlighted, "#timeline")
    def near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - 5:
            self.action_more_touchpoints()

    # -- a row opened whole

    @on(DataTable.RowSelected, "#tasks")
    def open_task(self, event: DataTable.RowSelected) -> None:
        from cs_cli.tui.screens.task_detail import TaskDetailScreen

        key = event.row_key.value
        if key is None:
            return
        here = self.view.customer.external_id if self.view else self.customer

        def back(changed: bool | None) -> None:
            if changed:
                self.load()

        self.app.push_screen(TaskDetailScreen(int(key), over_customer=here), back)

    @on(DataTable.RowSelected, "#timeline")
    def open_touchpoint(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_record("touchpoint", int(event.row_key.value))

    @on(DataTable.RowSelected, "#tickets")
    def open_ticket(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_record("ticket", int(event.row_key.value))

    @work(thread=True, group="c360-record")
    def open_record(self, kind: str, ident: int) -> None:
        """Read one touchpoint or ticket whole, then show it over the 360."""
        from cs_cli.services.tickets import ticket_detail
        from cs_cli.services.touchpoints import touchpoint_detail
        from cs_cli.tui.screens.record_modals import RecordModal
        from cs_cli.tui.widgets.customer import records

        try:
            if kind == "touchpoint":
                tp = self.app.db.call(touchpoint_detail, ident)
                modal = RecordModal(records.touchpoint_title(tp), records.touchpoint_body(tp))
            else:
                ticket = self.app.db.call(ticket_detail, ident)
                modal = RecordModal(records.ticket_title(ticket), records.ticket_body(ticket))
        except Exception as exc:
            self.post_message(self.Failed(failure(exc)))
            return
        self.app.call_from_thread(self.app.push_screen, modal)

    @work(thread=True, group="c360-log")
    def action_log_touchpoint(self) -> None:
        # The customer's people first, to pick who took part.
        from cs_cli.services.touchpoints import contact_choices

        db = self.app.db
        try:
            contacts = db.call(contact_choices, self.customer)
        except Exception as exc:
            self.post_message(self.Failed(failure(exc)))
            return
        name = self.view.customer.name if self.view else self.customer
        form = LogTouchpointScreen(name, db.today(), contacts)
        self.app.call_from_thread(lambda: self.app.push_screen(form, callback=self._log))

    def _log(self, draft: TouchpointDraft | None) -> None:
        if draft is not None:
            self.log_touchpoint(draft)

    @work(thread=True, group="c360-log")
    def log_touchpoint(self, draft: TouchpointDraft) -> None:
        from cs_cli.services.text.sentiment import configured_analyser
        from cs_cli.services.touchpoint_log import log_interaction

        db = self.app.db
        try:
            analyser = configured_analyser(getattr(self.app, "text_lexicon", ""))
            logged = db.call(
                log_interaction,
                self.customer,
                touchpoint_type=draft.touchpoint_type,
                subject=draft.subject,
                notes=draft.notes,
                minutes=draft.minutes,
                sentiment=draft.sentiment,
                occurred_on=draft.occurred_on,
                attendees=draft.attendees,
                follow_up=draft.follow_up,
                today=db.today(),
                now=db.now(),
                analyser=analyser,
            )
        except Exception as exc:
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Logged(logged))

    @on(Logged)
    def logged(self, message: Logged) -> None:
        row = message.logged.touchpoint.row
        text = f"Logged {row.touchpoint_type.value.replace('_', ' ')}: {row.subject}"
        task = message.logged.follow_up
        if task is not None:
            text += f"; follow-up task {task.row.id}: {task.row.title}"
        self.notify(text, title="Touchpoint", markup=False)
        self.load()


def _score_style(score: int | None) -> str:
    """A score's colour: weak (under 40) as critical, fair (under 60) as at risk."""
    if score is None:
        return "$text-muted"
    if score < 40:
        return "$error bold"
    return "$warning" if score < 60 else ""


def _raw(value: float | int | None) -> str:
    """A measure's raw value in at most six characters."""
    if value is None:
        return "none"
    if abs(value) >= 1000:
        return f"{value / 1000:.0f}K"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
