"""Renewals: what renews in the next 30, 60, 90 and 180 days in the
board's scope (customers, ARR, ARR at risk, churn probability where
predicted, open renewal tasks), then the customers themselves, soonest
first; enter opens one. One service call (the pipeline `cs analytics
renewals` counts) on a worker thread, again whenever the screen comes back."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from cs_cli.domain import HealthStatus, RenewalPipeline, RenewingCustomer
from cs_cli.tui.screens.scoped import ScopeSwitch
from cs_cli.tui.widgets.customer.format import STATUS_STYLE, failure, money, status_word, styled_text
from cs_cli.tui.widgets.rows import RowTable

# Within this many days a renewal is drawn as urgent, within the second as near.
URGENT_DAYS, NEAR_DAYS = 30, 90
# From this many columns the table has room for the CSM.
WITH_CSM = 110
CUSTOMER_WIDEST = 48


def probability(p: float | None) -> str:
    return "-" if p is None else f"{p:.0%}"


def window_lines(pipeline: RenewalPipeline, chosen: int | None = None) -> Content:
    """One line per window: customers, ARR, ARR at risk or critical, mean
    churn probability, open renewal tasks; the chosen window marked."""
    muted = "$text-muted"
    lines = [
        Content.styled(
            f"  {'within':<9}{'customers':>9}{'ARR':>9}{'at risk':>9}{'churn p':>9}{'tasks':>7}", muted
        )
    ]
    for w in pipeline.windows:
        mark = "▸ " if w.days == chosen else "  "
        lines.append(
            Content.assemble(
                (mark, "bold"),
                (f"{f'{w.days} days':<9}", "bold" if w.days == chosen else ""),
                (f"{w.customers:>9,}", "bold"),
                f"{money(w.arr):>9}",
                (f"{money(w.at_risk_arr):>9}", "$warning bold" if w.at_risk_arr else muted),
                f"{probability(w.churn_probability):>9}",
                (f"{w.renewal_tasks:>7,}", "" if w.renewal_tasks else muted),
            )
        )
    return Content("\n").join(lines)


class RenewalsScreen(ScopeSwitch, Screen[None]):
    TITLE = "Renewals"
    CSS_PATH = "renewals.tcss"
    BINDINGS = [
        Binding("enter", "open_customer", "Open customer", id="renewals.open_customer", priority=True),
        Binding("w", "window", "Window", tooltip="30, 60, 90 or 180 days", id="renewals.window"),
        Binding("s", "scope", "Scope", id="renewals.scope"),
        Binding("f5", "reload", "Refresh", id="renewals.refresh", show=False),
    ]
    # The customers listed, soonest renewal first.
    LIMIT = 500

    class Loaded(Message):
        def __init__(self, generation: int, pipeline: RenewalPipeline) -> None:
            super().__init__()
            self.generation = generation
            self.pipeline = pipeline

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.pipeline: RenewalPipeline | None = None
        # The window whose customers are listed (days); the widest at first.
        self.window: int | None = None
        self.busy = False
        self.generation = 0
        # The width the columns were laid out for.
        self.drawn_for = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the renewal pipeline…", id="renewals-title")
        yield Static("", id="renewals-windows")
        yield Static("", id="renewals-caption")
        yield RowTable(id="renewals-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#renewals-windows").border_title = "Renewal pipeline"
        self._columns()
        self.query_one("#renewals-table", DataTable).focus()
        self.reload()

    def on_resize(self) -> None:
        if self.size.width != self.drawn_for:
            self._columns()
            self._draw()

    def _columns(self) -> None:
        """The columns for this width: the customer takes what the others
        leave (a CSM column only where there is room), never a fixed cut."""
        width = self.size.width or self.app.size.width
        self.drawn_for = width
        table = self.query_one("#renewals-table", DataTable)
        fixed = [("renews", 13), ("ARR", 7), ("health", 11), ("churn p", 7), ("tasks", 5)]
        if width >= WITH_CSM:
            fixed.append(("CSM", 24))
        # Each column has a cell of padding either side; 2 for the scrollbar.
        rest = width - sum(w for _, w in fixed) - 2 * (len(fixed) + 1) - 2
        customer = max(20, rest)
        if width >= WITH_CSM and rest > CUSTOMER_WIDEST:
            # A wide screen: the CSM's email reads whole before a name gets room it does not need.
            customer, fixed[-1] = CUSTOMER_WIDEST, ("CSM", 24 + rest - CUSTOMER_WIDEST)
        table.clear(columns=True)
        for label, w in [("customer", customer), *fixed]:
            table.add_column(label, width=w, key=label)

    def on_screen_resume(self) -> None:
        if self.pipeline is not None:
            self.reload()

    # -- loading

    @work(thread=True, group="renewals-load")
    def fetch(self, generation: int, scope: str) -> None:
        from cs_cli.services.metrics.filters import Filters
        from cs_cli.services.metrics.standing import renewal_pipeline

        db = self.app.db
        try:
            pipeline = db.call(renewal_pipeline, Filters(scope=scope), as_of=db.today(), limit=self.LIMIT)
        except Exception as exc:  # one line in a notification, never a traceback
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Loaded(generation, pipeline))

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.busy = False
        self.notify(message.text, title="Renewals", severity="error", markup=False)

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        if message.generation != self.generation:
            return
        self.busy = False
        pipeline = self.pipeline = message.pipeline
        days = [w.days for w in pipeline.windows]
        if self.window not in days:
            self.window = days[-1]
        self._draw()

    def _draw(self) -> None:
        pipeline = self.pipeline
        if pipeline is None:
            return
        widest = pipeline.windows[-1]
        self.query_one("#renewals-title", Static).update(
            Content.assemble(
                (f"{widest.customers:,}", "bold"),
                f" renew within {widest.days} days · ARR ",
                (money(widest.arr), "bold"),
                (f"   scope {self.app.scope} · {pipeline.as_of}", "$text-muted"),
            )
        )
        self.query_one("#renewals-windows", Static).update(window_lines(pipeline, self.window))
        table = self.query_one("#renewals-table", DataTable)
        keep = self._current()
        table.clear()
        shown = self.shown()
        if not shown:
            table.add_row(
                styled_text(self.app, f"nothing renews within {self.window} days", "$text-muted"),
                *([""] * (len(table.columns) - 1)),
            )
        for c in shown:
            table.add_row(*self._cells(c), key=c.external_id)
        if keep is not None and keep.external_id in {c.external_id for c in shown}:
            table.move_cursor(row=table.get_row_index(keep.external_id))
        self.query_one("#renewals-caption", Static).update(self._caption(len(shown)))

    def _caption(self, shown: int) -> Content:
        pipeline = self.pipeline
        assert pipeline is not None
        cut = len(pipeline.customers) < pipeline.total
        more = f" (the first {len(pipeline.customers)} of {pipeline.total:,})" if cut else ""
        return Content.assemble(
            (f"{shown:,} renewing within {self.window} days{more}", "bold"),
            ("   w: 30, 60, 90 or 180 days", "$text-muted"),
        )

    def shown(self) -> list[RenewingCustomer]:
        """The customers of the chosen window (the list is soonest first)."""
        if self.pipeline is None or self.window is None:
            return []
        return [c for c in self.pipeline.customers if c.days <= self.window]

    def _cells(self, c: RenewingCustomer) -> list:
        app = self.app
        near = "$error bold" if c.days <= URGENT_DAYS else "$warning" if c.days <= NEAR_DAYS else ""
        status = c.health_status
        if status in {s.value for s in HealthStatus}:
            health = styled_text(
                app,
                f"{c.health_score if c.health_score is not None else ''} {status_word(status)}".strip(),
                STATUS_STYLE[HealthStatus(status)],
            )
        else:
            health = styled_text(app, "not scored", "$text-muted")
        return [
            # Text, never markup: a customer's name is data. The id first:
            # a long name is cut at its end, the id stays whole.
            Text(f"{c.external_id} {c.name}"),
            styled_text(app, f"{c.days}d · {c.renewal_date:%d %b}", near),
            money(c.arr),
            health,
            probability(c.churn_probability),
            styled_text(app, str(c.renewal_tasks), "" if c.renewal_tasks else "$text-muted"),
            Text(c.csm or "-"),
        ][: len(self.query_one("#renewals-table", DataTable).columns)]

    def _current(self) -> RenewingCustomer | None:
        table = self.query_one("#renewals-table", DataTable)
        shown = self.shown()
        if not shown or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((c for c in shown if c.external_id == key), None)

    # -- actions

    def action_reload(self) -> None:
        self.reload()

    def action_window(self) -> None:
        if self.pipeline is None:
            return
        days = [w.days for w in self.pipeline.windows]
        at = days.index(self.window) if self.window in days else -1
        self.window = days[(at + 1) % len(days)]
        self._draw()

    def action_scope(self) -> None:
        self.app.scope = self.next_scope()
        self.busy = False
        self.reload()

    def action_open_customer(self) -> None:
        found = self._current()
        if found is not None:
            self.app.open_customer(found.external_id)

    @on(DataTable.RowSelected, "#renewals-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_customer()
