"""The quick "log touchpoint" form of Customer 360: type, subject, notes,
minutes and sentiment. It returns what was typed; the screen hands it to
the touchpoints service, as `cs touchpoints log` does."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from cs_cli.domain import Sentiment, TouchpointType

# What a CSM logs by hand; product logins, email opens and the like come from systems.
TYPES = (
    TouchpointType.CALL,
    TouchpointType.MEETING,
    TouchpointType.EMAIL_SENT,
    TouchpointType.QBR,
    TouchpointType.RENEWAL_DISCUSSION,
    TouchpointType.ESCALATION,
    TouchpointType.WEBINAR,
    TouchpointType.IN_APP_MESSAGE,
    TouchpointType.CUSTOM,
)


@dataclass(frozen=True)
class TouchpointDraft:
    """A touchpoint as typed into the form, not yet logged."""

    touchpoint_type: TouchpointType
    subject: str
    notes: str | None
    minutes: int | None
    sentiment: Sentiment | None


class LogTouchpointScreen(ModalScreen[TouchpointDraft | None]):
    """Log an interaction with the customer; escape cancels."""

    CSS_PATH = "log_touchpoint.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="touchpoint_form.cancel"),
        Binding("ctrl+s", "submit", "Log it", id="touchpoint_form.submit"),
    ]

    def __init__(self, customer_name: str) -> None:
        super().__init__()
        self.customer_name = customer_name

    def compose(self) -> ComposeResult:
        with Vertical(id="touchpoint-form"):
            yield Static(Content.assemble(("Log a touchpoint", "bold"), f" with {self.customer_name}"))
            yield Label("Type")
            yield Select(
                [(t.value.replace("_", " "), t) for t in TYPES],
                value=TouchpointType.CALL,
                allow_blank=False,
                id="tp-type",
            )
            yield Label("Subject")
            yield Input(placeholder="One line: what it was about", max_length=255, id="tp-subject")
            yield Label("Notes")
            yield Input(placeholder="What was said or agreed (optional)", id="tp-notes")
            with Horizontal(id="tp-row"):
                with Vertical():
                    yield Label("Minutes")
                    yield Input(placeholder="30", type="integer", id="tp-minutes")
                with Vertical():
                    yield Label("Sentiment")
                    yield Select(
                        [(s.value, s) for s in Sentiment],
                        prompt="not said",
                        allow_blank=True,
                        id="tp-sentiment",
                    )
            yield Static("", id="tp-error")
            with Horizontal(id="tp-buttons"):
                yield Button("Log it", variant="primary", id="tp-submit")
                yield Button("Cancel", id="tp-cancel")

    def on_mount(self) -> None:
        self.query_one("#tp-subject", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "tp-submit":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        subject = self.query_one("#tp-subject", Input).value.strip()
        minutes_text = self.query_one("#tp-minutes", Input).value.strip()
        error = self.query_one("#tp-error", Static)
        if not subject:
            error.update("A touchpoint needs a subject.")
            self.query_one("#tp-subject", Input).focus()
            return
        try:
            minutes = int(minutes_text) if minutes_text else None
        except ValueError:
            minutes = -1
        if minutes is not None and minutes < 0:
            error.update("Minutes are a whole number, zero or more.")
            self.query_one("#tp-minutes", Input).focus()
            return
        sentiment = self.query_one("#tp-sentiment", Select).value
        notes = self.query_one("#tp-notes", Input).value.strip()
        self.dismiss(
            TouchpointDraft(
                touchpoint_type=TouchpointType(self.query_one("#tp-type", Select).value),
                subject=subject,
                notes=notes or None,
                minutes=minutes,
                sentiment=Sentiment(sentiment) if isinstance(sentiment, str) else None,
            )
        )
