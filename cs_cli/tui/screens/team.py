"""Team: each person's workload in the board's scope (open tasks as a bar,
overdue, due this week, active accounts, ARR and ARR at risk), so a manager
sees who is stretched; enter shows that person's tasks on the board. A CSM
sees only their own line, a manager their team's, an admin everyone's (the
service decides). One service call on a worker thread, again whenever the
screen comes back."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from cs_cli.domain import CsmWorkload
from cs_cli.tui.screens.scoped import ScopeSwitch
from cs_cli.tui.widgets.customer.format import failure, money, styled_text
from cs_cli.tui.widgets.rows import RowTable

# The load bar's cells, and from how many columns the table has room for it.
BAR = 12
WITH_BAR = 100


def load_bar(app, n: int, most: int, width: int = BAR) -> Text:
    """Open tasks as a bar against the busiest person's."""
    filled = round(n / most * width) if most and n else 0
    text = styled_text(app, "█" * filled, "$primary")
    text.append_text(styled_text(app, "░" * (width - filled), "$text-muted"))
    return text


class TeamScreen(ScopeSwitch, Screen[None]):
    TITLE = "Team"
    CSS_PATH = "team.tcss"
    BINDINGS = [
        Binding(
            "enter",
            "show_tasks",
            "Their tasks",
            tooltip="on the task board",
            id="team.show_tasks",
            priority=True,
        ),
        Binding("s", "scope", "Scope", id="team.scope"),
        Binding("f5", "reload", "Refresh", id="team.refresh", show=False),
    ]

    class Loaded(Message):
        def __init__(self, generation: int, scope: str, rows: list[CsmWorkload]) -> None:
            super().__init__()
            self.generation = generation
            self.scope = scope
            self.rows = rows

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[CsmWorkload] | None = None
        self.scope = ""
        self.busy = False
        self.generation = 0
        self.drawn_for = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the team's workload…", id="team-title")
        yield RowTable(id="team-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="team-hint")
        yield Footer()

    def on_mount(self) -> None:
        self._columns()
        self.query_one("#team-table", DataTable).focus()
        self.reload()

    def on_resize(self) -> None:
        if self.size.width != self.drawn_for:
            self._columns()
            self._draw()

    def on_screen_resume(self) -> None:
        if self.rows is not None:
            self.reload()

    def _columns(self) -> None:
        """The person takes what the numbers leave; the bar only where it fits."""
        width = self.size.width or self.app.size.width
        self.drawn_for = width
        fixed = [("open", 5), ("overdue", 7), ("this week", 9), ("accounts", 8), ("ARR", 7), ("at risk", 7)]
        if width >= WITH_BAR:
            fixed.insert(1, ("load", BAR))
        rest = width - sum(w for _, w in fixed) - 2 * (len(fixed) + 1) - 2
        table = self.query_one("#team-table", DataTable)
        table.clear(columns=True)
        for label, w in [("person", max(16, min(rest, 40))), *fixed]:
            table.add_column(label, width=w, key=label)

    # -- loading

    @work(thread=True, group="team-load")
    def fetch(self, generation: int, scope: str) -> None:
        from cs_cli.services.tasks.workload import team_workload

        db = self.app.db
        try:
            rows = db.call(team_workload, scope=scope, today=db.today())
        except Exception as exc:  # one line in a notification, never a traceback
            self.post_message(self.Failed(failure(exc)))
            return
        self.post_message(self.Loaded(generation, scope, rows))

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.busy = False
        self.notify(message.text, title="Team", severity="error", markup=False)

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        if message.generation != self.generation:
            return
        self.busy = False
        self.rows, self.scope = message.rows, message.scope
        self._draw()

    def _draw(self) -> None:
        rows = self.rows
        if rows is None:
            return
        app = self.app
        self.query_one("#team-title", Static).update(
            Content.assemble(
                (f"{len(rows)}", "bold"),
                f" {'person' if len(rows) == 1 else 'people'} · ",
                (f"{sum(r.open for r in rows):,}", "bold"),
                " open · ",
                (
                    f"{sum(r.overdue for r in rows):,} overdue",
                    "$error bold" if any(r.overdue for r in rows) else "",
                ),
                " · ARR at risk ",
                (money(sum(r.at_risk_arr or 0 for r in rows)), "bold"),
                (f"   scope {self.scope} · {app.db.today()}", "$text-muted"),
            )
        )
        table = self.query_one("#team-table", DataTable)
        keep = self._current()
        table.clear()
        with_bar = "load" in table.columns
        most = max((r.open for r in rows), default=0)
        if not rows:
            table.add_row(
                styled_text(app, "no open work in this scope", "$text-muted"),
                *[""] * (len(table.columns) - 1),
            )
        for r in rows:
            cells = [
                # Text, never markup: names are data.
                Text(f"{r.name} ({r.login or r.csm})" if with_bar else r.name),
                str(r.open),
                styled_text(app, str(r.overdue), "$error bold" if r.overdue else "$text-muted"),
                str(r.due_week),
                "-" if r.accounts is None else str(r.accounts),
                money(r.arr),
                styled_text(app, money(r.at_risk_arr), "$warning" if r.at_risk_arr else "$text-muted"),
            ]
            if with_bar:
                cells.insert(2, load_bar(app, r.open, most))
            table.add_row(*cells, key=r.csm)
        if keep is not None and keep.csm in {r.csm for r in rows}:
            table.move_cursor(row=table.get_row_index(keep.csm))
        self.query_one("#team-hint", Static).update(
            Content.styled(
                "enter: that person's tasks on the board (escape there shows everyone's again)", "$text-muted"
            )
        )

    def _current(self) -> CsmWorkload | None:
        table = self.query_one("#team-table", DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.csm == key), None)

    # -- actions

    def action_reload(self) -> None:
        self.reload()

    def action_scope(self) -> None:
        self.app.scope = self.next_scope()
        self.busy = False
        self.reload()

    def action_show_tasks(self) -> None:
        found = self._current()
        if found is not None:
            # The login reads shorter on the board's status line.
            self.app.show_owner(found.login or found.csm, self.scope)

    @on(DataTable.RowSelected, "#team-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_show_tasks()
