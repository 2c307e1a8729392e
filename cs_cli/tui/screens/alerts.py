"""Risk alerts: a live feed of the alerts of the customers in the board's
scope, refreshed on an interval by a worker thread (the UI never waits),
coloured by severity. Acknowledge (a) and resolve (r) go through the
alerts service, as `cs alerts` does; enter opens the customer."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static

from cs_cli.domain import AlertRow, AlertStatus
from cs_cli.services.tasks.board import scopes_for
from cs_cli.tui.widgets.customer.format import (
    SEVERITY_MARK,
    SEVERITY_STYLE,
    STATUS_STYLE,
    ago,
    failure,
    status_word,
    styled_text,
)


class AlertsScreen(Screen[None]):
    TITLE = "Risk alerts"
    CSS_PATH = "alerts.tcss"
    BINDINGS = [
        Binding("a", "acknowledge", "Acknowledge", id="alerts.acknowledge"),
        Binding("r", "resolve", "Resolve", id="alerts.resolve"),
        Binding("enter", "open_customer", "Open customer", id="alerts.open_customer", priority=True),
        Binding("h", "toggle_history", "Resolved too", id="alerts.history"),
        Binding("s", "scope", "Scope", id="alerts.scope"),
        Binding("f5", "reload", "Refresh", id="alerts.refresh", show=False),
    ]
    # Seconds between two looks at the database for new alerts.
    refresh_seconds: ClassVar[float] = 15.0
    # The newest this many alerts are shown.
    LIMIT = 200

    class Loaded(Message):
        def __init__(self, generation: int, rows: list[AlertRow], total: int, counts: dict[str, int]) -> None:
            super().__init__()
            self.generation = generation
            self.rows = rows
            self.total = total
            self.counts = counts

    class Changed(Message):
        def __init__(self, row: AlertRow, verb: str) -> None:
            super().__init__()
            self.row = row
            self.verb = verb

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[AlertRow] = []
        self.total = 0
        self.counts: dict[str, int] = {}
        self.with_resolved = False
        self.loading = False
        # Each look is numbered: an answer to an older look (before a scope
        # or filter change) is dropped.
        self.generation = 0
        self.loads = 0
        self.seen: set[int] = set()
        self.timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading alerts…", id="alerts-summary")
        yield DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alert-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#alerts-table", DataTable)
        columns = (
            ("severity", 10),
            ("raised", 7),
            ("customer", 28),
            ("health", 11),
            ("alert", 37),
            ("status", 11),
        )
        for label, width in columns:
            table.add_column(label, width=width, key=label)
        self.query_one("#alert-detail").border_title = "Alert"
        table.focus()
        self.reload()
        self.timer = self.set_interval(self.refresh_seconds, self.reload, name="alerts-refresh")

    def on_screen_suspend(self) -> None:
        # Out of sight (another mode, Customer 360 over it): no need to look.
        if self.timer is not None:
            self.timer.pause()

    def on_screen_resume(self) -> None:
        if self.timer is not None:
            self.timer.resume()
        if self.loads:
            self.reload()

    # -- loading

    def reload(self) -> None:
        """Look for new and changed alerts, unless a look is already under way."""
        if self.loading:
            return
        self.loading = True
        self.generation += 1
        self.fetch(self.generation, self.app.scope, self.with_resolved)

    @work(thread=True, group="alerts-load")
    def fetch(self, generation: int, scope: str, with_resolved: bool) -> None:
        from cs_cli.services.alerts import UNRESOLVED, list_alerts, open_counts

        db = self.app.db
        statuses = tuple(AlertStatus) if with_resolved else UNRESOLVED
        try:
            page = db.call(list_alerts, as_of=db.today(), statuses=statuses, scope=scope, limit=self.LIMIT)
            counts = db.call(open_counts, scope=scope)
        except Exception as exc:  # one line in a notification, never a traceback
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Loaded(generation, page.rows, page.total, counts))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        if message.generation != self.generation:
            return
        self.loading = False
        first = self.loads == 0
        self.loads += 1
        fresh = [r for r in message.rows if r.id not in self.seen and r.status != AlertStatus.RESOLVED]
        self.seen.update(r.id for r in message.rows)
        self.rows, self.total, self.counts = message.rows, message.total, message.counts
        self._render_rows()
        if not first:
            for row in fresh:
                self.notify(
                    f"{row.customer_name}: {row.title}",
                    title=f"New {row.severity.value} alert",
                    severity="error" if row.severity == "critical" else "warning",
                    markup=False,
                )

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.loading = False
        self.notify(message.text, title="Risk alerts", severity="error", markup=False)

    def _render_rows(self) -> None:
        table = self.query_one("#alerts-table", DataTable)
        keep, index = self._current(), table.cursor_row
        table.clear()
        now = self.app.db.now()
        for row in self.rows:
            table.add_row(
                styled_text(
                    self.app,
                    f"{SEVERITY_MARK[row.severity]} {row.severity.value}",
                    SEVERITY_STYLE[row.severity],
                ),
                ago(row.raised_at, now),
                Text(f"{row.customer_name} ({row.customer})"),
                styled_text(
                    self.app,
                    "not scored"
                    if row.health_score is None
                    else f"{row.health_score} {status_word(row.health_status)}",
                    STATUS_STYLE.get(row.health_status, "$text-muted")
                    if row.health_status
                    else "$text-muted",
                ),
                Text(row.title),
                self._status(row),
                key=str(row.id),
            )
        if keep is not None and keep.id in {r.id for r in self.rows}:
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        elif self.rows:
            table.move_cursor(row=min(index, len(self.rows) - 1))
        self._summary()
        self._detail()

    def _status(self, row: AlertRow):
        if row.status == AlertStatus.RESOLVED:
            return styled_text(self.app, "resolved", "$success")
        if row.status == AlertStatus.ACKNOWLEDGED:
            who = (row.acknowledged_by or "").split("@")[0].split(".")[0]
            return styled_text(self.app, f"ack {who}".strip(), "$text-muted")
        return styled_text(self.app, "open", "bold")

    def _summary(self) -> None:
        c = self.counts
        unresolved = sum(c.values())
        shown = "all alerts" if self.with_resolved else "open and acknowledged alerts"
        more = f"; the newest {len(self.rows)} of {self.total} shown" if self.total > len(self.rows) else ""
        self.query_one("#alerts-summary", Static).update(
            f"[b]{unresolved}[/b] unresolved: [$error]{c.get('critical', 0)} critical[/] · "
            f"[$warning]{c.get('warning', 0)} warning[/] · {c.get('info', 0)} info"
            f"   [$text-muted]scope {self.app.scope} · {shown}{more} · "
            f"refreshed every {self.refresh_seconds:g} s[/]"
        )

    def _current(self) -> AlertRow | None:
        table = self.query_one("#alerts-table", DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if str(r.id) == key), None)

    @on(DataTable.RowHighlighted, "#alerts-table")
    def _detail(self, event: DataTable.RowHighlighted | None = None) -> None:
        detail = self.query_one("#alert-detail", Static)
        row = self._current()
        if row is None:
            detail.update(
                "[$text-muted]No alerts here. `cs alerts check` raises them; resolved ones show with h.[/]"
            )
            return
        lines = [
            f"[b]{escape(row.title)}[/b] — {escape(row.customer_name)} ({escape(row.customer)}),"
            f" raised {row.raised_at:%Y-%m-%d %H:%M}"
        ]
        if row.reason:
            lines.append(escape(row.reason))
        if row.acknowledged_at:
            lines.append(
                f"[$text-muted]acknowledged by {row.acknowledged_by or 'system'}"
                f" {row.acknowledged_at:%Y-%m-%d %H:%M}[/]"
            )
        if row.resolved_at:
            lines.append(
                f"[$text-muted]resolved by {row.resolved_by or 'system'} {row.resolved_at:%Y-%m-%d %H:%M}[/]"
            )
        detail.update("\n".join(lines))

    # -- actions

    def action_reload(self) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A CSM has one scope: no use showing the switch.
        if action == "scope":
            return len(scopes_for(self.app.db.actor.role)) > 1
        return True

    def action_scope(self) -> None:
        scopes = scopes_for(self.app.db.actor.role)
        now = self.app.scope
        self.app.scope = scopes[(scopes.index(now) + 1) % len(scopes)] if now in scopes else scopes[0]
        self.loading = False
        self.reload()

    def action_toggle_history(self) -> None:
        self.with_resolved = not self.with_resolved
        self.notify(
            "Showing resolved alerts too" if self.with_resolved else "Showing unresolved alerts", markup=False
        )
        self.loading = False
        self.reload()

    def action_open_customer(self) -> None:
        row = self._current()
        if row is not None:
            self.app.open_customer(row.customer)

    @on(DataTable.RowSelected, "#alerts-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_customer()

    def action_acknowledge(self) -> None:
        row = self._current()
        if row is not None:
            self.change(row.id, "acknowledged")

    def action_resolve(self) -> None:
        row = self._current()
        if row is not None:
            self.change(row.id, "resolved")

    @work(thread=True, group="alerts-change")
    def change(self, alert_id: int, verb: str) -> None:
        from cs_cli.services.alerts import acknowledge_alert, resolve_alert

        db = self.app.db
        action = acknowledge_alert if verb == "acknowledged" else resolve_alert
        try:
            row = db.call(action, alert_id, now=db.now())
        except Exception as exc:
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Changed(row, verb))

    @on(Changed)
    def changed(self, message: Changed) -> None:
        row = message.row
        self.notify(f"{row.customer_name}: {row.title}", title=f"Alert {message.verb}", markup=False)
        if row.status == AlertStatus.RESOLVED and not self.with_resolved:
            self.rows = [r for r in self.rows if r.id != row.id]
            self.total = max(0, self.total - 1)
        else:
            self.rows = [row if r.id == row.id else r for r in self.rows]
        self._render_rows()
        self.loading = False
        self.reload()
