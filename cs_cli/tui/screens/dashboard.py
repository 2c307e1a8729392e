"""The success dashboard (plan 7.1) over the board's scope: health
distribution, work due, journeys, alerts, key metrics, the renewal
pipeline (`r` opens the renewals screen) and the customers most at risk
(enter opens one). One service call on a worker thread; it
looks again whenever the screen comes back into view."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from cs_cli.domain import Dashboard
from cs_cli.tui.screens.scoped import ScopeSwitch
from cs_cli.tui.widgets.charts import LineChart
from cs_cli.tui.widgets.customer.format import STATUS_STYLE, failure, money, status_word, styled_text
from cs_cli.tui.widgets.dashboard import bars

# Below this many columns (or rows) the panels stack in one scrolling column:
# side by side they need about 120 columns and 30 rows.
NARROW = 120
SHORT = 30


class DashboardScreen(ScopeSwitch, Screen[None]):
    TITLE = "Dashboard"
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("enter", "open_customer", "Open customer", id="dashboard.open_customer", priority=True),
        Binding("r", "app.switch_mode('renewals')", "Renewals", id="dashboard.renewals"),
        Binding("s", "scope", "Scope", id="dashboard.scope"),
        Binding("f5", "reload", "Refresh", id="dashboard.refresh", show=False),
        # Stacked (a small terminal), the panels below the first screenful.
        Binding("ctrl+down", "scroll_body(1)", "Scroll the panels down", id="dashboard.down", show=False),
        Binding("ctrl+up", "scroll_body(-1)", "Scroll the panels up", id="dashboard.up", show=False),
    ]

    class Loaded(Message):
        def __init__(self, generation: int, board: Dashboard) -> None:
            super().__init__()
            self.generation = generation
            self.board = board

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.board: Dashboard | None = None
        self.busy = False
        # Each look is numbered: an answer to an older one (before a scope change) is dropped.
        self.generation = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the dashboard…", id="dash-title")
        # Side by side where there is room; one column that scrolls below
        # NARROW columns or SHORT rows (see dashboard.tcss).
        with VerticalScroll(id="dash-body", can_focus=False):
            with Horizontal(id="dash-top"):
                yield Static("", id="dash-health", classes="panel")
                yield Static("", id="dash-work", classes="panel")
                yield Static("", id="dash-metrics", classes="panel")
            with Horizontal(id="dash-bottom"):
                with Vertical(id="dash-risk-panel", classes="panel"):
                    yield DataTable(id="dash-at-risk", cursor_type="row", zebra_stripes=True)
                with Vertical(id="dash-side"):
                    yield Static("", id="dash-renewals", classes="panel")
                    with Vertical(id="dash-trend-panel", classes="panel"):
                        yield LineChart(id="dash-trend")
                        yield Static("", id="dash-trend-words")
                    yield Static("", id="dash-alerts", classes="panel")
        yield Footer()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW or self.size.height < SHORT
        if narrow == self.has_class("-narrow"):
            return
        self.set_class(narrow, "-narrow")
        # Stacked, the customers at risk (where the cursor is) come first.
        body = self.query_one("#dash-body", VerticalScroll)
        top, bottom = self.query_one("#dash-top"), self.query_one("#dash-bottom")
        if narrow:
            body.move_child(bottom, before=top)
        else:
            body.move_child(top, before=bottom)
        body.scroll_home(animate=False)

    def on_mount(self) -> None:
        titles = {
            "#dash-health": "Health distribution",
            "#dash-work": "Work",
            "#dash-metrics": "Key metrics",
            "#dash-risk-panel": "Top at-risk customers",
            "#dash-renewals": "Renewals (r)",
            "#dash-trend-panel": "Mean health, 90 days",
            "#dash-alerts": "Recent alerts",
        }
        for selector, text in titles.items():
            self.query_one(selector).border_title = text
        table = self.query_one("#dash-at-risk", DataTable)
        for label, width in (("customer", 28), ("health", 11), ("30 days", 7), ("ARR", 7), ("renews", 10)):
            table.add_column(label, width=width)
        table.focus()
        self.reload()

    def action_scroll_body(self, direction: int) -> None:
        body = self.query_one("#dash-body", VerticalScroll)
        if direction > 0:
            body.scroll_page_down()
        else:
            body.scroll_page_up()

    def on_screen_resume(self) -> None:
        # Also after a failed first look (the database was unreachable): try again.
        self.reload()

    # -- loading

    @work(thread=True, group="dashboard-load")
    def fetch(self, generation: int, scope: str) -> None:
        from cs_cli.services.analytics import dashboard

        db = self.app.db
        try:
            board = db.call(
                dashboard, as_of=db.today(), scope=scope, first_value_event=self.app.first_value_event
            )
        except Exception as exc:  # one line in a notification, never a traceback
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Loaded(generation, board))

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.busy = False
        self.notify(message.text, title="Dashboard", severity="error", markup=False)

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        if message.generation != self.generation:
            return
        self.busy = False
        board = self.board = message.board
        self.query_one("#dash-title", Static).update(
            f"[b]{board.customers:,}[/b] customers · ARR [b]{money(board.arr)}[/b]"
            f"   [$text-muted]scope {board.scope} · as of {board.as_of}[/]"
        )
        self.query_one("#dash-health", Static).update(bars.health_bars(board))
        self.query_one("#dash-work", Static).update(bars.work_lines(board))
        self.query_one("#dash-metrics", Static).update(bars.metric_lines(board.metrics))
        self.query_one("#dash-renewals", Static).update(bars.renewal_lines(board.renewals))
        bars.plot_score_trend(self.query_one("#dash-trend", LineChart), board)
        self.query_one("#dash-trend-words", Static).update(bars.score_trend_words(board))
        self.query_one("#dash-alerts", Static).update(
            bars.alert_lines(board.recent_alerts, self.app.db.now())
        )
        table = self.query_one("#dash-at-risk", DataTable)
        table.clear()
        if not board.at_risk:
            table.add_row(styled_text(self.app, "no customer at risk", "$text-muted"), "", "", "", "")
        for c in board.at_risk:
            change = "" if c.score_change_30d is None else f"{c.score_change_30d:+d}"
            table.add_row(
                Text(f"{c.name} ({c.external_id})"),
                styled_text(
                    self.app,
                    f"{c.overall_score} {status_word(c.health_status)}",
                    STATUS_STYLE[c.health_status],
                ),
                styled_text(
                    self.app, change, "$error" if c.score_change_30d and c.score_change_30d < 0 else ""
                ),
                money(c.arr),
                "-" if c.renewal_date is None else c.renewal_date.isoformat(),
                key=c.external_id,
            )

    # -- actions

    def action_reload(self) -> None:
        self.reload()

    def action_scope(self) -> None:
        self.app.scope = self.next_scope()
        self.busy = False
        self.reload()

    def action_open_customer(self) -> None:
        if self.board is None or not self.board.at_risk:
            return
        table = self.query_one("#dash-at-risk", DataTable)
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self.app.open_customer(key)
