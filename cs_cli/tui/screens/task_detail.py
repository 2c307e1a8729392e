"""Task detail: one task whole, pushed over the task board (enter on a card)
or the Customer 360 (enter on an open task); escape goes back.

It shows what the card cannot: the description, the playbook step the task
came from with its agenda and talk track, the customer's key facts, the
notes and outcome, the touchpoints logged for it and its history. The task
actions of the board work here too (the same forms and services); after one
the detail loads again. The view is one service call on a worker thread."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from cs_cli.domain import BoardCard, TaskStatus, TaskView
from cs_cli.tui.screens.task_actions import Changed, Failed, TaskActions
from cs_cli.tui.screens.task_modals import describe
from cs_cli.tui.widgets.tasks import detail as text

# Narrower than this, the two columns of panels stack.
NARROW = 120


class TaskDetailScreen(TaskActions, Screen[bool]):
    """Dismissed with whether an action here changed the task."""

    TITLE = "Task"
    CSS_PATH = "task_detail.tcss"
    BINDINGS = [
        # The footer: going back, the customer, the two most used actions
        # and help; with the app's keys it fits 80 columns. ? lists all.
        Binding("escape", "back", "Back", id="task.back"),
        Binding("o", "open_customer", "Customer", id="task.customer"),
        Binding("c", "complete", "Complete", id="task.complete"),
        Binding("t", "start", "Start", id="task.start"),
        Binding("question_mark", "app.help", "Help", id="task.help"),
        Binding("b", "block", "Block", id="task.block", show=False),
        Binding("u", "unblock", "Unblock", id="task.unblock", show=False),
        Binding("r", "reschedule", "Reschedule", id="task.reschedule", show=False),
        Binding("z", "snooze", "Snooze until a day", id="task.snooze", show=False),
        Binding("a", "assign", "Assign to someone", id="task.assign", show=False),
        Binding("x", "cancel_task", "Cancel", id="task.cancel", show=False),
        Binding("e", "edit", "Edit title, type, priority, due", id="task.edit", show=False),
        Binding("ctrl+r", "reload", "Reload", id="task.reload", show=False),
    ]

    class Loaded(Message):
        def __init__(self, view: TaskView) -> None:
            super().__init__()
            self.view = view

    class Gone(Message):
        """The task cannot be read (no longer visible, or never was)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, task_id: int, *, over_customer: str | None = None) -> None:
        super().__init__()
        self.task_id = task_id
        # The customer whose 360 this was opened from: `o` goes back to it.
        self.over_customer = over_customer
        self.view: TaskView | None = None
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Content(f"Loading task {self.task_id}…"), id="task-title")
        with VerticalScroll(id="task-body"), Container(id="task-columns"):
            with Vertical(id="task-main", classes="task-column"):
                yield Static("", id="task-facts", classes="panel")
                yield Static("", id="task-description", classes="panel")
                yield Static("", id="task-guidance", classes="panel")
            with Vertical(id="task-side", classes="task-column"):
                yield Static("", id="task-customer", classes="panel")
                yield Static("", id="task-outcome", classes="panel")
                yield Static("", id="task-touchpoints", classes="panel")
                yield Static("", id="task-history", classes="panel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        titles = {
            "#task-facts": "Task",
            "#task-description": "Description",
            "#task-guidance": "Playbook step",
            "#task-customer": "Customer",
            "#task-outcome": "Notes and outcome",
            "#task-touchpoints": "Touchpoints",
            "#task-history": "History",
        }
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        self.query_one("#task-body").focus()
        self.load()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    # -- loading

    @work(thread=True, exclusive=True, group="task-load")
    def load(self) -> None:
        from cs_cli.errors import NotFound
        from cs_cli.services.tasks.detail import task_view

        db = self.app.db
        try:
            view = db.call(task_view, self.task_id, today=db.today())
        except NotFound as exc:
            self.post_message(self.Gone(exc.message))
            return
        except Exception as exc:
            self.fail(exc)
            return
        self.post_message(self.Loaded(view))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        view = self.view = message.view
        today = self.app.db.today()
        self.query_one("#task-title", Static).update(text.heading(view))
        self.query_one("#task-facts", Static).update(text.facts(view, today))
        self.query_one("#task-description", Static).update(text.description(view))
        self.query_one("#task-guidance", Static).update(text.guidance(view))
        self.query_one("#task-customer", Static).update(text.customer(view, today))
        self.query_one("#task-outcome", Static).update(text.outcome(view))
        self.query_one("#task-touchpoints", Static).update(text.touchpoint_lines(view.touchpoints))
        self.query_one("#task-history", Static).update(text.history_lines(view.history))
        self.query_one("#task-touchpoints").border_title = f"Touchpoints ({len(view.touchpoints)})"

    @on(Gone)
    def gone(self, message: Gone) -> None:
        self.notify(message.text, title="Task", severity="error", markup=False)
        if self.app.screen is self:
            self.dismiss(self.changed)

    def on_failed(self, message: Failed) -> None:
        self.notify(message.text, title="Task", severity="error", timeout=8, markup=False)

    def on_changed(self, message: Changed) -> None:
        self.notify(message.text, markup=False)
        self.changed = True
        self.load()

    # -- keys

    def task_targets(self) -> tuple[list[int], str] | None:
        if self.view is None:
            self.notify("the task is still loading", severity="warning", markup=False)
            return None
        return [self.task_id], describe(1, self.view.card.title)

    def target_statuses(self) -> dict[int, TaskStatus]:
        return {self.task_id: self.view.card.status} if self.view else {}

    def edit_card(self) -> BoardCard | None:
        return self.view.card if self.view else None

    def action_back(self) -> None:
        self.dismiss(self.changed)

    def action_reload(self) -> None:
        self.load()

    def action_open_customer(self) -> None:
        if self.view is None:
            return
        customer = self.view.card.customer
        if customer == self.over_customer:
            # Opened from this customer's 360: back to it rather than another copy.
            self.dismiss(self.changed)
        else:
            self.app.open_customer(customer)
