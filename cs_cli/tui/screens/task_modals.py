"""The task board's forms: each a modal that returns a typed result (a
frozen dataclass, or None when closed with escape). They check what they
can (a required outcome, a readable date); the services check the rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from cs_cli.domain import Assignee, BoardCard, Priority, TaskOutcome, TaskType
from cs_cli.errors import BadInput
from cs_cli.services.tasks.dates import parse_day

T = TypeVar("T")

DATE_HINT = "YYYY-MM-DD, +3d, +2w, today or tomorrow"
# A snooze ends after today: the forms of a day it offers are those it takes.
SNOOZE_HINT = "YYYY-MM-DD, +3d, +2w or tomorrow"
# Fewer lines than this: forms are drawn compact.
SHORT = 34


@dataclass(frozen=True)
class CompleteForm:
    outcome: TaskOutcome
    notes: str | None
    minutes: int | None


@dataclass(frozen=True)
class BlockForm:
    reason: str


@dataclass(frozen=True)
class CancelForm:
    reason: str | None


@dataclass(frozen=True)
class RescheduleForm:
    due: dt.date


@dataclass(frozen=True)
class SnoozeForm:
    until: dt.date | None  # None: end the snooze now


@dataclass(frozen=True)
class EditForm:
    """The fields to change; None: leave as it is."""

    title: str | None = None
    task_type: TaskType | None = None
    priority: Priority | None = None
    due: dt.date | None = None


@dataclass(frozen=True)
class AssignForm:
    to: str


@dataclass(frozen=True)
class NewTaskForm:
    customer: str
    title: str
    task_type: TaskType
    priority: Priority
    due: dt.date | None


def _tasks(count: int) -> str:
    return f"{count} tasks" if count != 1 else "1 task"


class FormModal(ModalScreen[T | None], Generic[T]):
    """A form over the board: enter (or the first button) submits, escape
    closes; a mistake shows under the fields and the form stays open."""

    CSS_PATH = "task_modals.tcss"
    BINDINGS = [Binding("escape", "close", "Close", id="form.close")]
    OK = "OK"
    OK_VARIANT = "primary"
    BACK = "Back"
    # Fewer lines than this: the form is drawn compact.
    SHORT_BELOW = SHORT

    def __init__(self, heading: str) -> None:
        super().__init__()
        self.heading = heading

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(Content(self.heading), classes="form-title")
            yield from self.fields()
            yield Static("", classes="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button(self.OK, variant=self.OK_VARIANT, id="ok")  # type: ignore[arg-type]
                yield Button(self.BACK, id="back")

    def fields(self) -> ComposeResult:
        yield from ()

    def on_resize(self) -> None:
        # On a short terminal (80x24) the fields drop their borders and
        # spacing so the whole form, buttons included, stays on screen.
        short = self.size.height < self.SHORT_BELOW
        self.set_class(short, "-short")
        for widget in self.query("Input, Select, RadioSet, Button"):
            widget.compact = short  # type: ignore[attr-defined]

    def result(self) -> T:
        raise NotImplementedError

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.submit()
        else:
            self.back()

    def back(self) -> None:
        """The second button: close without a result."""
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        try:
            result = self.result()
        except BadInput as exc:
            self.query_one(".form-error", Static).update(Content(exc.message))
            return
        self.dismiss(result)

    def action_close(self) -> None:
        self.dismiss(None)

    def text(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()


class CompleteModal(FormModal[CompleteForm]):
    """Outcome (required), notes and minutes spent."""

    OK = "Complete"
    OK_VARIANT = "success"

    def __init__(self, count: int, what: str) -> None:
        super().__init__(f"Complete {what}")
        self.count = count

    def fields(self) -> ComposeResult:
        yield Label("Outcome (required: arrows, then space)")
        with RadioSet(id="outcome"):
            for outcome in TaskOutcome:
                yield RadioButton(outcome.value.replace("_", " "), name=outcome.value)
        yield Label("Notes")
        yield Input(placeholder="what happened", id="notes")
        yield Label("Minutes spent")
        yield Input(placeholder="e.g. 30", id="minutes", type="integer")

    def result(self) -> CompleteForm:
        pressed = self.query_one("#outcome", RadioSet).pressed_button
        if pressed is None or pressed.name is None:
            raise BadInput("choose an outcome: " + ", ".join(o.value.replace("_", " ") for o in TaskOutcome))
        minutes_text = self.text("#minutes")
        minutes = None
        if minutes_text:
            try:
                minutes = int(minutes_text)
            except ValueError:
                raise BadInput(f"minutes is a whole number, not '{minutes_text}'") from None
            if minutes < 0:
                raise BadInput("minutes must be zero or more")
        return CompleteForm(
            outcome=TaskOutcome(pressed.name), notes=self.text("#notes") or None, minutes=minutes
        )


class ConfirmModal(FormModal[bool]):
    """A yes-or-no question: enter (or the first button) says yes (True),
    the second button no (False), escape closes without an answer (None)."""

    BACK = "No"

    def __init__(self, question: str, yes: str, *, no: str = "No") -> None:
        super().__init__(question)
        self.OK = yes
        self.BACK = no

    def back(self) -> None:
        self.dismiss(False)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def result(self) -> bool:
        return True


class BlockModal(FormModal[BlockForm]):
    OK = "Block"
    OK_VARIANT = "warning"

    def __init__(self, what: str) -> None:
        super().__init__(f"Block {what}")

    def fields(self) -> ComposeResult:
        yield Label("What is it waiting for? (required)")
        yield Input(placeholder="e.g. legal to approve the order form", id="reason")

    def result(self) -> BlockForm:
        reason = self.text("#reason")
        if not reason:
            raise BadInput("say what it waits for")
        return BlockForm(reason)


class CancelModal(FormModal[CancelForm]):
    """Asks first: cancelling is final."""

    OK = "Cancel it"
    OK_VARIANT = "error"
    BACK = "Keep"

    def __init__(self, count: int, what: str) -> None:
        noun = "them" if count != 1 else "it"
        super().__init__(f"Cancel {what}? This is final; enter to cancel {noun}, escape to keep.")
        self.OK = "Cancel them" if count != 1 else "Cancel it"

    def fields(self) -> ComposeResult:
        yield Label("Why (optional, kept as the outcome notes)")
        yield Input(placeholder="e.g. the customer already renewed", id="reason")

    def result(self) -> CancelForm:
        return CancelForm(self.text("#reason") or None)


class RescheduleModal(FormModal[RescheduleForm]):
    OK = "Reschedule"

    def __init__(self, what: str, today: dt.date) -> None:
        super().__init__(f"Reschedule {what}")
        self.today = today

    def fields(self) -> ComposeResult:
        yield Label(f"New due date ({DATE_HINT})")
        yield Input(placeholder="+3d", id="due")

    def result(self) -> RescheduleForm:
        text = self.text("#due")
        if not text:
            raise BadInput(f"give the new due date ({DATE_HINT})")
        due = parse_day(text, self.today, "due date")
        if due < self.today:
            raise BadInput(f"the new due date {due} is in the past (today is {self.today})")
        return RescheduleForm(due)


class SnoozeModal(FormModal[SnoozeForm]):
    """Hide the tasks from the board until a day; they come back on it."""

    OK = "Snooze"

    def __init__(self, what: str, today: dt.date) -> None:
        super().__init__(f"Snooze {what}")
        self.today = today

    def fields(self) -> ComposeResult:
        yield Label(f"Hide it until ({SNOOZE_HINT}); it comes back on that day. 'clear' ends a snooze")
        yield Input(placeholder="+1w", id="until")

    def result(self) -> SnoozeForm:
        text = self.text("#until")
        if not text:
            raise BadInput(f"give the day it comes back ({SNOOZE_HINT}), or 'clear'")
        if text.lower() == "clear":
            return SnoozeForm(None)
        try:
            until = parse_day(text, self.today, "snooze until")
        except BadInput:
            raise BadInput(f"'{text}' is not a day to come back ({SNOOZE_HINT}), or 'clear'") from None
        if until <= self.today:
            raise BadInput(f"snooze until a day after today ({self.today}), not {until}")
        return SnoozeForm(until)


class EditModal(FormModal[EditForm]):
    """Title, type, priority and due date. For one card the fields start
    from its values and only what changed is sent; for a selection the
    title is left out and a blank field changes nothing."""

    OK = "Save"

    def __init__(self, what: str, today: dt.date, card: BoardCard | None) -> None:
        super().__init__(f"Edit {what}")
        self.today = today
        self.card = card

    def fields(self) -> ComposeResult:
        card = self.card
        if card is not None:
            yield Label("Title")
            yield Input(card.title, id="title", max_length=200)
        keep = "" if card is not None else " (blank: keep)"
        with Horizontal(classes="form-row"):
            with Vertical(classes="form-cell"):
                yield Label(f"Type{keep}")
                yield Select(
                    [(t.value.replace("_", " "), t) for t in TaskType],
                    value=card.task_type if card else Select.NULL,
                    allow_blank=card is None,
                    prompt="keep",
                    id="type",
                )
            with Vertical(classes="form-cell"):
                yield Label(f"Priority{keep}")
                yield Select(
                    [(p.value, p) for p in Priority],
                    value=card.priority if card else Select.NULL,
                    allow_blank=card is None,
                    prompt="keep",
                    id="priority",
                )
        yield Label(f"Due ({DATE_HINT}; blank: keep)")
        due = card.due_date.isoformat() if card and card.due_date else ""
        yield Input(due, placeholder="+3d", id="due")

    def on_mount(self) -> None:
        self.query_one("#title" if self.card else "#type").focus()

    def result(self) -> EditForm:
        card = self.card

        def chosen(selector: str) -> Any:
            v = self.query_one(selector, Select).value
            return None if v == Select.NULL else v

        title = self.text("#title") if card is not None else None
        if card is not None and not title:
            raise BadInput("a task needs a title")
        task_type, priority = chosen("#type"), chosen("#priority")
        due_text = self.text("#due")
        due = parse_day(due_text, self.today, "due date") if due_text else None
        if card is not None:
            # Send only what changed: an overdue card keeps its past date untouched.
            title = None if title == card.title else title
            task_type = None if task_type == card.task_type else task_type
            priority = None if priority == card.priority else priority
            due = None if due == card.due_date else due
        if due is not None and due < self.today:
            raise BadInput(f"the new due date {due} is in the past (today is {self.today})")
        form = EditForm(title=title, task_type=task_type, priority=priority, due=due)
        if form == EditForm():
            raise BadInput("nothing changed")
        return form


class AssignModal(FormModal[AssignForm]):
    """Pick the new assignee from the users the actor may give tasks to."""

    OK = "Assign"

    def __init__(self, what: str, users: list[Assignee]) -> None:
        super().__init__(f"Assign {what} to")
        self.users = users

    def fields(self) -> ComposeResult:
        # Content, not a str: a str prompt is read as markup, and names are data.
        options = [Option(Content(f"{u.name} <{u.email}> ({u.role.value})"), id=u.email) for u in self.users]
        yield OptionList(*options, id="users")

    def on_mount(self) -> None:
        users = self.query_one("#users", OptionList)
        if users.option_count:
            users.highlighted = 0
        users.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit()

    def result(self) -> AssignForm:
        option = self.query_one("#users", OptionList).highlighted_option
        if option is None or option.id is None:
            raise BadInput("nobody to assign to")
        return AssignForm(option.id)


class NewTaskModal(FormModal[NewTaskForm]):
    """A new task; with `fixed` the customer is given (a task from an
    alert) and the form starts on the title, filled with `title`."""

    OK = "Create"

    def __init__(
        self,
        today: dt.date,
        customer: str = "",
        *,
        title: str = "",
        priority: Priority = Priority.MEDIUM,
        task_type: TaskType = TaskType.CUSTOM,
        heading: str = "New task",
        fixed: bool = False,
    ) -> None:
        super().__init__(heading)
        self.today = today
        self.customer = customer
        self.title = title
        self.priority = priority
        self.task_type = task_type
        self.fixed = fixed

    def fields(self) -> ComposeResult:
        if not self.fixed:
            yield Label("Customer (external id, required)")
            yield Input(self.customer, placeholder="C-00107", id="customer")
        yield Label("Title (required)")
        yield Input(self.title, placeholder="Call about the renewal", id="title", max_length=200)
        with Horizontal(classes="form-row"):
            yield Select(
                [(t.value.replace("_", " "), t) for t in TaskType],
                value=self.task_type,
                allow_blank=False,
                id="type",
            )
            yield Select(
                [(p.value, p) for p in Priority], value=self.priority, allow_blank=False, id="priority"
            )
        yield Label(f"Due ({DATE_HINT}; optional)")
        yield Input(placeholder="+3d", id="due")

    def on_mount(self) -> None:
        # With the customer known, start on the title.
        self.query_one("#title" if self.customer else "#customer", Input).focus()

    def result(self) -> NewTaskForm:
        customer = self.customer if self.fixed else self.text("#customer")
        title, due_text = self.text("#title"), self.text("#due")
        if not customer:
            raise BadInput("name the customer (its external id)")
        if not title:
            raise BadInput("a task needs a title")
        due = parse_day(due_text, self.today, "due") if due_text else None
        return NewTaskForm(
            customer=customer,
            title=title,
            task_type=self.query_one("#type", Select).value,  # type: ignore[arg-type]
            priority=self.query_one("#priority", Select).value,  # type: ignore[arg-type]
            due=due,
        )


def describe(count: int, title: str | None) -> str:
    """What a form is about: the card's title, or how many cards."""
    if count == 1 and title:
        short = title if len(title) <= 40 else title[:39] + "…"
        return f"'{short}'"
    return _tasks(count)
