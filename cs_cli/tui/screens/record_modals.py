"""One record of the Customer 360 opened whole, over it: a touchpoint or a
support ticket. It scrolls (arrows, page keys, the mouse wheel); escape
closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class RecordModal(ModalScreen[None]):
    CSS_PATH = "record_modals.tcss"
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="record.close")]

    def __init__(self, heading: Content, body: Content) -> None:
        super().__init__()
        self.heading = heading
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="record"):
            yield Static(self.heading, classes="record-title")
            with VerticalScroll(classes="record-body"):
                yield Static(self.body, id="record-text")
            yield Static("escape closes this", classes="record-hint")

    def on_mount(self) -> None:
        self.query_one(".record-body").focus()
