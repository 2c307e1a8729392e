"""The Risk alerts screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class AlertsScreen(Screen[None]):
    TITLE = "Risk alerts"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Risk alerts: coming in this release.", classes="empty")
        yield Footer()
