"""The board application: five modes a key apart (tasks, dashboard, risk
alerts, renewals, team), Customer 360 pushed over any of them, help on `?`."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from cs_cli.domain import BoardView, Role
from cs_cli.services.tasks.board import SCOPES, scopes_for
from cs_cli.tui.data import Database
from cs_cli.tui.screens.alerts import AlertsScreen
from cs_cli.tui.screens.board import BoardScreen
from cs_cli.tui.screens.customer import CustomerScreen
from cs_cli.tui.screens.dashboard import DashboardScreen
from cs_cli.tui.screens.finder import CustomerFinder
from cs_cli.tui.screens.help import HelpScreen
from cs_cli.tui.screens.renewals import RenewalsScreen
from cs_cli.tui.screens.team import TeamScreen

__all__ = ["SCOPES", "BoardApp", "allowed_scopes", "default_scope"]


def default_scope(role: Role) -> str:
    """What a user sees first: a CSM their own work, a manager their team's,
    an admin everything."""
    return {Role.CSM: "mine", Role.MANAGER: "team"}.get(role, "all")


def allowed_scopes(role: Role) -> tuple[str, ...]:
    """The scopes a role may switch between (the task services decide)."""
    return scopes_for(role)


SCREENS = Binding.Group("Screens")


def board_theme():
    """Textual's dark theme with an error colour that reads at 4.5:1 on the
    background and on the highlighted card (textual-dark's #B93C5B is 3.4:1):
    overdue dates, critical health and error notices are in it."""
    from dataclasses import replace

    from textual.theme import BUILTIN_THEMES

    return replace(BUILTIN_THEMES["textual-dark"], name="cs-dark", error="#FF7A93")


class BoardApp(App[None]):
    # The board's own theme (board_theme); any other can still be picked.
    DEFAULT_THEME = "cs-dark"
    CSS_PATH = "app.tcss"
    TITLE = "cs board"
    MODES = {
        "board": BoardScreen,
        "dashboard": DashboardScreen,
        "alerts": AlertsScreen,
        "renewals": RenewalsScreen,
        "team": TeamScreen,
    }
    # The palette finds customers first, then the app's own commands.
    COMMANDS = {CustomerFinder} | App.COMMANDS
    BINDINGS = [
        # One footer entry for the screens ("1-4 Screens"); ? lists each.
        Binding("1", "switch_mode('board')", "Tasks", id="app.board", group=SCREENS),
        Binding("2", "switch_mode('dashboard')", "Dashboard", id="app.dashboard", group=SCREENS),
        Binding("3", "switch_mode('alerts')", "Alerts", id="app.alerts", group=SCREENS),
        Binding("4", "switch_mode('renewals')", "Renewals", id="app.renewals", group=SCREENS),
        Binding("5", "switch_mode('team')", "Team", id="app.team", group=SCREENS),
        Binding("g", "command_palette", "Find", tooltip="Go to any customer you may see", id="app.find"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        db: Database,
        *,
        scope: str | None = None,
        customer: str | None = None,
        view: BoardView | None = None,
        poll: float = 0.0,
        first_value_event: str = "",
        text_lexicon: str = "",
    ) -> None:
        super().__init__()
        self.register_theme(board_theme())
        self.theme = self.DEFAULT_THEME
        self.db = db
        # The saved view the task board starts on (`--view`).
        self.first_view = view
        # Seconds between the task board's looks for changes made elsewhere
        # (the board_poll setting); 0: none (the default, as in tests).
        self.poll = poll
        # Your lexicon for the sentiment of touchpoints logged here (the text_lexicon setting).
        self.text_lexicon = text_lexicon
        # The time-to-value metric's event (the first_value_event setting).
        self.first_value_event = first_value_event
        self.scope = scope or default_scope(db.actor.role)
        self.first_customer = customer
        # The team view's pick, for the task board to take when it shows next:
        # (owner, scope), or None.
        self.owner_request: tuple[str, str] | None = None
        self.sub_title = f"{db.actor.name} ({db.actor.role.value})"

    def on_mount(self) -> None:
        self.switch_mode("board")
        if self.first_customer:
            self.push_screen(CustomerScreen(self.first_customer))

    def action_help(self) -> None:
        from cs_cli.tui.screens.help import key_sections

        self.push_screen(HelpScreen(self.screen.title or self.title, key_sections(self.screen)))

    def show_owner(self, owner: str, scope: str) -> None:
        """The task board, narrowed to one person's tasks (the team view's enter)."""
        self.owner_request = (owner, scope)
        self.switch_mode("board")

    def open_customer(self, customer: str) -> None:
        """Customer 360 over the current screen (escape goes back)."""
        self.push_screen(CustomerScreen(customer))
