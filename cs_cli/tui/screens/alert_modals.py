"""The forms of the risk alerts screen: resolve with a note, start a
playbook for the alert's customer. (A task from an alert is the board's new
task form with the customer given; assigning, the board's assign form.)
Each returns a typed result, or None on escape; the services check the rest."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Label, OptionList, TextArea
from textual.widgets.option_list import Option

from cs_cli.domain import PlaybookRow
from cs_cli.errors import BadInput
from cs_cli.tui.screens.task_modals import FormModal


@dataclass(frozen=True)
class ResolveForm:
    note: str | None


@dataclass(frozen=True)
class PlaybookForm:
    key: str


class ResolveModal(FormModal[ResolveForm]):
    """Resolve with an optional note of several lines (kept in the alert's history)."""

    CSS_PATH = ["task_modals.tcss", "alert_modals.tcss"]
    OK = "Resolve"
    OK_VARIANT = "success"
    BINDINGS = [
        Binding("escape", "close", "Close", id="resolve_form.close"),
        Binding("ctrl+s", "submit", "Resolve", id="resolve_form.submit"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__(f"Resolve {what}")

    def fields(self) -> ComposeResult:
        yield Label("Note (optional; enter starts a new line, ctrl+s resolves)")
        yield TextArea(id="note", soft_wrap=True, show_line_numbers=False)

    def on_mount(self) -> None:
        self.query_one("#note", TextArea).focus()

    def action_submit(self) -> None:
        self.submit()

    def result(self) -> ResolveForm:
        return ResolveForm(self.query_one("#note", TextArea).text.strip() or None)


class PlaybookModal(FormModal[PlaybookForm]):
    """Pick an active playbook to start for the alert's customer."""

    CSS_PATH = ["task_modals.tcss", "alert_modals.tcss"]
    OK = "Start"

    def __init__(self, what: str, playbooks: list[PlaybookRow]) -> None:
        super().__init__(f"Start a playbook for {what}")
        self.playbooks = [p for p in playbooks if p.is_active]

    def fields(self) -> ComposeResult:
        # Content, not a str: a str prompt is read as markup, and names are data.
        options = [
            Option(
                Content(f"{p.name} ({p.key}) · {p.category.value.replace('_', ' ')} · {p.steps} steps"),
                id=p.key,
            )
            for p in self.playbooks
        ]
        yield OptionList(*options, id="playbooks")

    def on_mount(self) -> None:
        playbooks = self.query_one("#playbooks", OptionList)
        if playbooks.option_count:
            playbooks.highlighted = 0
        playbooks.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit()

    def result(self) -> PlaybookForm:
        option = self.query_one("#playbooks", OptionList).highlighted_option
        if option is None or option.id is None:
            raise BadInput("no playbook to start: `cs playbooks load` adds them")
        return PlaybookForm(option.id)
