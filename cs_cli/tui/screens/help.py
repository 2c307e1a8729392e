"""`?`: the keys of the screen you are on, and of the whole board."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, title: str, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.heading = title
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{self.heading}[/b]: keys")
            table: DataTable = DataTable(show_cursor=False, zebra_stripes=True)
            table.add_columns("key", "does")
            for key, description in self.bindings:
                table.add_row(key, description)
            yield table
            yield Static("Press escape to close. The mouse works too.", classes="muted")
