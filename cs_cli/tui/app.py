"""The board application: three modes a key apart (tasks, dashboard, risk
alerts), Customer 360 pushed over any of them, help on `?`."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from cs_cli.domain import Role
from cs_cli.tui.data import Database
from cs_cli.tui.screens.alerts import AlertsScreen
from cs_cli.tui.screens.board import BoardScreen
from cs_cli.tui.screens.customer import CustomerScreen
from cs_cli.tui.screens.dashboard import DashboardScreen
from cs_cli.tui.screens.help import HelpScreen

SCOPES = ("mine", "team", "all")


def default_scope(role: Role) -> str:
    """What a user sees first: a CSM their own work, a manager their team's,
    an admin everything."""
    return {Role.CSM: "mine", Role.MANAGER: "team"}.get(role, "all")


def allowed_scopes(role: Role) -> tuple[str, ...]:
    if role == Role.ADMIN:
        return SCOPES
    if role == Role.MANAGER:
        return ("mine", "team")
    return ("mine",)


class BoardApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "cs board"
    MODES = {"board": BoardScreen, "dashboard": DashboardScreen, "alerts": AlertsScreen}
    BINDINGS = [
        Binding("1", "switch_mode('board')", "Tasks", id="app.board"),
        Binding("2", "switch_mode('dashboard')", "Dashboard", id="app.dashboard"),
        Binding("3", "switch_mode('alerts')", "Alerts", id="app.alerts"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, db: Database, *, scope: str | None = None, customer: str | None = None) -> None:
        super().__init__()
        self.db = db
        self.scope = scope or default_scope(db.actor.role)
        self.first_customer = customer
        self.sub_title = f"{db.actor.name} ({db.actor.role.value})"

    def on_mount(self) -> None:
        self.switch_mode("board")
        if self.first_customer:
            self.push_screen(CustomerScreen(self.first_customer))

    def action_help(self) -> None:
        bindings = [
            (b.binding.key_display or self.get_key_display(b.binding), b.binding.description)
            for b in self.screen.active_bindings.values()
            if b.binding.description
        ]
        self.push_screen(HelpScreen(self.screen.title or self.title, bindings))

    def open_customer(self, customer: str) -> None:
        """Customer 360 over the current screen (escape goes back)."""
        self.push_screen(CustomerScreen(customer))
