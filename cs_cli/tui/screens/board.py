"""The Tasks screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class BoardScreen(Screen[None]):
    TITLE = "Tasks"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Tasks: coming in this release.", classes="empty")
        yield Footer()
