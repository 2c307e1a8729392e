"""Customer 360 (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class CustomerScreen(Screen[None]):
    TITLE = "Customer 360"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="customer.back")]

    def __init__(self, customer: str) -> None:
        super().__init__()
        self.customer = customer

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Customer 360 for {self.customer}: coming in this release.", classes="empty")
        yield Footer()
