"""The "log touchpoint" form of Customer 360: type, day, subject, notes of
several lines, who of the customer's people took part, minutes, sentiment,
and an optional follow-up task. It returns what was typed; the screen hands
it to the touchpoint services, as `cs touchpoints log` and `cs tasks create`
do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from cs_cli.domain import ContactChoice, FollowUp, Sentiment, TouchpointType
from cs_cli.errors import BadInput
from cs_cli.services.tasks.dates import parse_day

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
# Fewer lines than this: the fields are drawn without borders.
SHORT = 34


class AttendeePicker(OptionList):
    """The customer's people, each ticked or not: `[x] Carla` reads the same
    without colour (NO_COLOR), unlike a highlight. Space or enter ticks."""

    BINDINGS = [Binding("space", "tick", "Tick", id="attendees.tick", show=False)]

    def __init__(self, contacts: list[ContactChoice], **kwargs) -> None:
        self.contacts = contacts
        self.ticked: set[int] = set()
        super().__init__(*[Option(self._prompt(c), id=str(c.id)) for c in contacts], **kwargs)

    def _prompt(self, c: ContactChoice) -> Content:
        mark = "[x] " if c.id in self.ticked else "[ ] "
        parts = [c.name, *([f"· {c.title}"] if c.title else []), *(["(left)"] if c.left else [])]
        # Content, not markup: names are data.
        return Content.assemble((mark, "bold"), " ".join(parts))

    def action_tick(self) -> None:
        index = self.highlighted
        if index is None:
            return
        contact = self.contacts[index]
        self.ticked ^= {contact.id}
        self.replace_option_prompt_at_index(index, self._prompt(contact))

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_tick()

    @property
    def selected(self) -> tuple[int, ...]:
        """The ticked contacts' ids, in the order they are listed."""
        return tuple(c.id for c in self.contacts if c.id in self.ticked)


@dataclass(frozen=True)
class TouchpointDraft:
    """A touchpoint as typed into the form, not yet logged."""

    touchpoint_type: TouchpointType
    subject: str
    notes: str | None
    minutes: int | None
    sentiment: Sentiment | None
    occurred_on: dt.date | None = None
    attendees: tuple[int, ...] = ()
    follow_up: FollowUp | None = None


class LogTouchpointScreen(ModalScreen[TouchpointDraft | None]):
    """Log an interaction with the customer; ctrl+s logs it, escape cancels."""

    CSS_PATH = "log_touchpoint.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="touchpoint_form.cancel"),
        Binding("ctrl+s", "submit", "Log it", id="touchpoint_form.submit"),
    ]

    def __init__(
        self,
        customer_name: str,
        today: dt.date | None = None,
        contacts: list[ContactChoice] | None = None,
    ) -> None:
        super().__init__()
        self.customer_name = customer_name
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.contacts = contacts or []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="touchpoint-form"):
            # Content, not markup: the customer's name is data.
            yield Static(Content.assemble(("Log a touchpoint", "bold"), f" with {self.customer_name}"))
            with Horizontal(classes="tp-row"):
                with Vertical():
                    yield Label("Type")
                    yield Select(
                        [(t.value.replace("_", " "), t) for t in TYPES],
                        value=TouchpointType.CALL,
                        allow_blank=False,
                        id="tp-type",
                    )
                with Vertical():
                    yield Label("Day (today, yesterday, -3d, YYYY-MM-DD)")
                    yield Input("today", id="tp-day")
            yield Label("Subject")
            yield Input(placeholder="One line: what it was about", max_length=255, id="tp-subject")
            yield Label("Notes (several lines: enter starts a new one)")
            yield TextArea(id="tp-notes", soft_wrap=True, show_line_numbers=False)
            if self.contacts:
                yield Label("Who took part (space ticks)")
                yield AttendeePicker(self.contacts, id="tp-attendees")
            else:
                yield Label("Who took part: no contacts on record for this customer")
            with Horizontal(classes="tp-row"):
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
            with Horizontal(classes="tp-row"):
                with Vertical(classes="tp-wide"):
                    yield Label("Follow-up task (optional title)")
                    yield Input(placeholder="e.g. Send the success plan", max_length=200, id="tp-follow-up")
                with Vertical():
                    yield Label("Due")
                    yield Input(placeholder="+3d", id="tp-follow-up-due")
            yield Static("", id="tp-error")
            with Horizontal(id="tp-buttons"):
                yield Button("Log it", variant="primary", id="tp-submit")
                yield Button("Cancel", id="tp-cancel")

    def on_mount(self) -> None:
        self.query_one("#tp-subject", Input).focus()

    def on_resize(self) -> None:
        # On a short terminal (80x24) the fields drop their borders so more fit.
        short = self.size.height < SHORT
        self.set_class(short, "-short")
        for widget in self.query("Input, Select, Button, TextArea, OptionList"):
            widget.compact = short  # type: ignore[attr-defined]

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
        try:
            draft = self._draft()
        except _Mistake as mistake:
            self.query_one("#tp-error", Static).update(Content(mistake.text))
            if mistake.field:
                self.query_one(mistake.field).focus()
            return
        self.dismiss(draft)

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _draft(self) -> TouchpointDraft:
        subject = self._value("#tp-subject")
        if not subject:
            raise _Mistake("A touchpoint needs a subject.", "#tp-subject")
        day_text = self._value("#tp-day") or "today"
        try:
            day = parse_day(day_text, self.today, "day")
        except BadInput as exc:
            raise _Mistake(exc.message, "#tp-day") from None
        if day > self.today:
            raise _Mistake("A touchpoint is of today or a day gone by.", "#tp-day")
        minutes_text = self._value("#tp-minutes")
        try:
            minutes = int(minutes_text) if minutes_text else None
        except ValueError:
            minutes = -1
        if minutes is not None and minutes < 0:
            raise _Mistake("Minutes are a whole number, zero or more.", "#tp-minutes")
        follow_up = None
        title, due_text = self._value("#tp-follow-up"), self._value("#tp-follow-up-due")
        if title:
            try:
                due = parse_day(due_text, self.today, "due") if due_text else None
            except BadInput as exc:
                raise _Mistake(exc.message, "#tp-follow-up-due") from None
            follow_up = FollowUp(title=title, due_date=due)
        elif due_text:
            raise _Mistake("Give the follow-up task a title, or clear its due day.", "#tp-follow-up")
        sentiment = self.query_one("#tp-sentiment", Select).value
        notes = self.query_one("#tp-notes", TextArea).text.strip()
        attendees: tuple[int, ...] = ()
        if self.contacts:
            attendees = self.query_one("#tp-attendees", AttendeePicker).selected
        return TouchpointDraft(
            touchpoint_type=TouchpointType(self.query_one("#tp-type", Select).value),
            subject=subject,
            notes=notes or None,
            minutes=minutes,
            sentiment=Sentiment(sentiment) if isinstance(sentiment, str) else None,
            occurred_on=day,
            attendees=attendees,
            follow_up=follow_up,
        )


class _Mistake(Exception):
    """What is wrong with the form, and the field to go back to."""

    def __init__(self, text: str, field: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.field = field
