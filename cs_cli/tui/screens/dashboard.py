"""The Dashboard screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class DashboardScreen(Screen[None]):
    TITLE = "Dashboard"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Dashboard: coming in this release.", classes="empty")
        yield Footer()
