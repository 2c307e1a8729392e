"""Risk alerts: a live feed of the alerts of the customers in the board's
scope, refreshed on an interval by a worker thread (the UI never waits),
coloured by severity. Acknowledge (a), resolve with a note (r), make a
task from the alert (n), start a playbook for its customer (p) and assign
it (o) go through the alerts, tasks and playbooks services, as the commands
do; enter opens the customer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static

from cs_cli.domain import AlertRow, AlertStatus, Priority, TaskType
from cs_cli.tui.screens.alert_modals import PlaybookForm, PlaybookModal, ResolveForm, ResolveModal
from cs_cli.tui.screens.scoped import ScopeSwitch
from cs_cli.tui.screens.task_modals import AssignForm, AssignModal, NewTaskForm, NewTaskModal
from cs_cli.tui.widgets.customer.format import (
    SEVERITY_MARK,
    SEVERITY_STYLE,
    STATUS_STYLE,
    ago,
    failure,
    status_word,
    styled_text,
)
from cs_cli.tui.widgets.rows import RowTable


class AlertsScreen(ScopeSwitch, Screen[None]):
    TITLE = "Risk alerts"
    CSS_PATH = "alerts.tcss"
    BINDINGS = [
        # "Ack" (the feed's own word) so that every action and Quit fit 80 columns.
        Binding("a", "acknowledge", "Ack", tooltip="acknowledge: seen, and on it", id="alerts.acknowledge"),
        Binding("r", "resolve", "Resolve", tooltip="with a note", id="alerts.resolve"),
        Binding("n", "task", "Task", tooltip="a task from the alert", id="alerts.task"),
        Binding("p", "playbook", "Playbook", tooltip="start one for the customer", id="alerts.playbook"),
        # Listed on ? only: with it the footer would push Quit off 80 columns.
        Binding("o", "assign", "Assign", tooltip="name who is to act on it", id="alerts.assign", show=False),
        # Listed on ? only, so the actions fit the footer.
        Binding(
            "enter", "open_customer", "Open customer", id="alerts.open_customer", priority=True, show=False
        ),
        Binding("h", "toggle_history", "Resolved too", id="alerts.history", show=False),
        Binding("s", "scope", "Scope", id="alerts.scope", show=False),
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

    class Done(Message):
        """An action that made something (a task, a playbook run): what to say."""

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
        yield RowTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alert-detail")
        yield Footer(compact=True, show_command_palette=False)

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
        if row.assigned_to:
            # Who is to act says more than who saw it.
            return styled_text(self.app, f"→ {_short(row.assigned_to)}", "bold")
        if row.status == AlertStatus.ACKNOWLEDGED:
            return styled_text(self.app, f"ack {_short(row.acknowledged_by)}".strip(), "$text-muted")
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
        if row.assigned_to:
            lines.append(f"assigned to [b]{escape(row.assigned_to)}[/b]")
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

    def action_scope(self) -> None:
        self.app.scope = self.next_scope()
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

    def _unresolved(self) -> AlertRow | None:
        """The alert under the cursor, if there is still something to do about it."""
        row = self._current()
        if row is not None and row.status == AlertStatus.RESOLVED:
            self.notify("this alert is resolved already", severity="warning", markup=False)
            return None
        return row

    def action_resolve(self) -> None:
        row = self._unresolved()
        if row is None:
            return

        def done(form: ResolveForm | None) -> None:
            if form is not None:
                self.change(row.id, "resolved", note=form.note)

        self.app.push_screen(ResolveModal(_about(row)), done)

    def action_task(self) -> None:
        from cs_cli.services.alert_actions import PRIORITY_OF

        row = self._unresolved()
        if row is None:
            return
        db = self.app.db

        def done(form: NewTaskForm | None) -> None:
            if form is None:
                return
            from cs_cli.services.alert_actions import task_from_alert

            def text(detail: Any) -> str:
                return f"created task {detail.row.id} for {detail.row.customer}: {detail.row.title}"

            self.act(
                task_from_alert,
                (row.id,),
                dict(
                    title=form.title,
                    task_type=form.task_type,
                    priority=form.priority,
                    due_date=form.due,
                    today=db.today(),
                    now=db.now(),
                ),
                text,
            )

        self.app.push_screen(
            NewTaskModal(
                db.today(),
                row.customer,
                title=f"Follow up: {row.title}"[:200],
                priority=PRIORITY_OF.get(row.severity.value, Priority.MEDIUM),
                task_type=TaskType.FOLLOW_UP,
                heading=f"A task from the alert on {_about(row)}",
                fixed=True,
            ),
            done,
        )

    def action_playbook(self) -> None:
        from cs_cli.services.playbooks.views import list_playbooks

        row = self._unresolved()
        if row is None:
            return

        def fetch() -> None:
            try:
                playbooks = self.app.db.call(list_playbooks)
            except Exception as exc:
                self.post_message(self.Failed(failure(exc)))
                return
            self.app.call_from_thread(self._pick_playbook, row, playbooks)

        self.run_worker(fetch, thread=True, group="alerts-fetch")

    def _pick_playbook(self, row: AlertRow, playbooks: list) -> None:
        from cs_cli.services.alert_actions import playbook_from_alert

        db = self.app.db

        def text(started: Any) -> str:
            n = len(started.tasks)
            return (
                f"started {started.run.playbook} for {started.run.customer}"
                f" (run {started.run.id}, {n} task{'s' if n != 1 else ''})"
            )

        def done(form: PlaybookForm | None) -> None:
            if form is not None:
                self.act(playbook_from_alert, (row.id, form.key), dict(as_of=db.today(), now=db.now()), text)

        self.app.push_screen(PlaybookModal(_about(row), playbooks), done)

    def action_assign(self) -> None:
        from cs_cli.services.alert_actions import alert_assignees

        row = self._unresolved()
        if row is None:
            return

        def fetch() -> None:
            try:
                users = self.app.db.call(alert_assignees, row.id)
            except Exception as exc:
                self.post_message(self.Failed(failure(exc)))
                return
            self.app.call_from_thread(self._pick_assignee, row, users)

        self.run_worker(fetch, thread=True, group="alerts-fetch")

    def _pick_assignee(self, row: AlertRow, users: list) -> None:
        def done(form: AssignForm | None) -> None:
            if form is not None:
                self.change(row.id, "assigned", to=form.to)

        self.app.push_screen(AssignModal(f"the alert on {_about(row)}", users), done)

    @work(thread=True, group="alerts-change")
    def change(self, alert_id: int, verb: str, **kwargs: Any) -> None:
        from cs_cli.services.alert_actions import assign_alert
        from cs_cli.services.alerts import acknowledge_alert, resolve_alert

        db = self.app.db
        action = {"acknowledged": acknowledge_alert, "resolved": resolve_alert, "assigned": assign_alert}[
            verb
        ]
        try:
            row = db.call(action, alert_id, now=db.now(), **kwargs)
        except Exception as exc:
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Changed(row, verb))

    @work(thread=True, group="alerts-change")
    def act(self, fn: Callable[..., Any], args: tuple, kwargs: dict, text: Callable[[Any], str]) -> None:
        """Run an action that makes something from an alert; say what it made."""
        try:
            made = self.app.db.call(fn, *args, **kwargs)
        except Exception as exc:
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Done(text(made)))

    @on(Done)
    def done(self, message: Done) -> None:
        self.notify(message.text, title="Alert", markup=False)
        self.loading = False
        self.reload()

    @on(Changed)
    def changed(self, message: Changed) -> None:
        row = message.row
        verb = message.verb
        if verb == "assigned" and row.assigned_to:
            verb = f"assigned to {row.assigned_to}"
        self.notify(f"{row.customer_name}: {row.title}", title=f"Alert {verb}", markup=False)
        if row.status == AlertStatus.RESOLVED and not self.with_resolved:
            self.rows = [r for r in self.rows if r.id != row.id]
            self.total = max(0, self.total - 1)
        else:
            self.rows = [row if r.id == row.id else r for r in self.rows]
        self._render_rows()
        self.loading = False
        self.reload()


def _short(email: str | None) -> str:
    """ana.lopez@x.example -> ana: the status column is narrow."""
    return (email or "").split("@")[0].split(".")[0]


def _about(row: AlertRow) -> str:
    return f"{row.customer_name} ({row.customer})"
