"""The task board's filters form and its saved views list. Every choice
shows data (playbook, people and segment names, view names) as plain text,
never as markup."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from cs_cli.domain import BoardView, FilterChoices, Priority, TaskType
from cs_cli.errors import BadInput
from cs_cli.services.tasks.board import HEALTH_CHOICES, BoardFilter, health_words, money_words
from cs_cli.tui.screens.task_modals import FormModal

DUE_CHOICES = [("due today", "today"), ("due this week", "week"), ("overdue", "overdue")]
_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s*([km]?)")


def plain(text: str) -> Text:
    """A choice's words as they are: a str would be read as markup."""
    return Text(text)


def parse_money(text: str, what: str) -> int | None:
    """'250000', '250,000', '250k' or '1.5m' as whole units; blank: None."""
    raw = text.strip().lower().replace(",", "").replace("_", "")
    if not raw:
        return None
    found = _MONEY.fullmatch(raw)
    if found is None:
        raise BadInput(f"{what} is an amount like 250000, 250k or 1.5m, not '{text.strip()}'")
    number, unit = found.groups()
    return round(float(number) * {"": 1, "k": 1_000, "m": 1_000_000}[unit])


class FilterModal(FormModal[BoardFilter]):
    """Due window, priority, type, playbook, owner, health, segment, renewal
    within days and an ARR band (blank means any), and whether snoozed tasks
    show too."""

    OK = "Apply"
    BACK = "Clear all"
    # Four rows of fields: below this many lines they go compact to fit.
    SHORT_BELOW = 42

    def __init__(self, current: BoardFilter, choices: FilterChoices) -> None:
        super().__init__("Filters (blank: any)")
        self.current = current
        self.choices = choices

    def fields(self) -> ComposeResult:
        c = self.current

        def value(v: Any) -> Any:
            return Select.NULL if v is None else v

        def kept(options: list[tuple[Text, Any]], v: Any) -> list[tuple[Text, Any]]:
            # A value set elsewhere (the team view's owner, a saved view's
            # playbook) stays a choice, so applying the form keeps it.
            if v is not None and v not in {o for _, o in options}:
                options.append((plain(str(v)), v))
            return options

        def cell(label: str, widget: Any) -> Vertical:
            return Vertical(Label(label), widget, classes="form-cell")

        playbooks = kept(
            [(plain(f"{name} ({key})"), key) for key, name in self.choices.playbooks], c.playbook
        )
        owners = kept([(plain(f"{name} <{email}>"), email) for email, name in self.choices.owners], c.owner)
        segments = kept([(plain(name), name) for name in self.choices.segments], c.segment)
        with Horizontal(classes="form-row"):
            yield cell("Due", Select(DUE_CHOICES, value=value(c.due), prompt="any day", id="due"))
            priorities = [(p.value, p) for p in Priority]
            yield cell("Priority", Select(priorities, value=value(c.priority), prompt="any", id="priority"))
            types = [(t.value.replace("_", " "), t) for t in TaskType]
            yield cell("Type", Select(types, value=value(c.task_type), prompt="any", id="type"))
        with Horizontal(classes="form-row"):
            yield cell("Playbook", Select(playbooks, value=value(c.playbook), prompt="any", id="playbook"))
            yield cell("Owner", Select(owners, value=value(c.owner), prompt="anyone", id="owner"))
        with Horizontal(classes="form-row"):
            health = [(plain(health_words(h)), h) for h in HEALTH_CHOICES]
            yield cell("Health", Select(health, value=value(c.health), prompt="any", id="health"))
            yield cell("Segment", Select(segments, value=value(c.segment), prompt="any", id="segment"))
            within = "" if c.renewal_within is None else str(c.renewal_within)
            yield cell(
                "Renews within", Input(within, placeholder="days, e.g. 90", id="renewal", type="integer")
            )
        with Horizontal(classes="form-row"):
            low = "" if c.arr_min is None else money_words(c.arr_min)
            high = "" if c.arr_max is None else money_words(c.arr_max)
            yield cell("ARR from", Input(low, placeholder="e.g. 100k", id="arr-min"))
            yield cell("ARR up to", Input(high, placeholder="e.g. 1.5m", id="arr-max"))
            yield cell("Snoozed tasks", Checkbox("show too", c.include_snoozed, id="snoozed"))

    def back(self) -> None:
        self.dismiss(self.current.cleared())

    def result(self) -> BoardFilter:
        def chosen(selector: str) -> Any:
            v = self.query_one(selector, Select).value
            return None if v == Select.NULL else v

        within_text = self.text("#renewal")
        within = None
        if within_text:
            try:
                within = int(within_text)
            except ValueError:
                raise BadInput(f"renews within is a number of days, not '{within_text}'") from None
            if within < 0:
                raise BadInput("renews within is zero days or more")
        flt = replace(
            self.current,
            due=chosen("#due"),
            priority=chosen("#priority"),
            task_type=chosen("#type"),
            playbook=chosen("#playbook"),
            owner=chosen("#owner"),
            health=chosen("#health"),
            segment=chosen("#segment"),
            renewal_within=within,
            arr_min=parse_money(self.text("#arr-min"), "ARR from"),
            arr_max=parse_money(self.text("#arr-max"), "ARR up to"),
            include_snoozed=self.query_one("#snoozed", Checkbox).value,
        )
        from cs_cli.services.tasks.board import check_filter

        check_filter(flt)
        return flt


@dataclass(frozen=True)
class ViewsChoice:
    """What to do from the views list: apply, save or delete a view."""

    action: str  # "apply", "save" or "delete"
    name: str


class ViewsModal(FormModal[ViewsChoice]):
    """Your saved views: enter applies the highlighted one, d deletes it;
    a name typed below saves the board's filters as a view."""

    OK = "Apply"
    BACK = "Close"
    BINDINGS = [
        *FormModal.BINDINGS,
        Binding("d,delete", "delete", "Delete the highlighted view", id="views.delete"),
    ]

    def __init__(self, views: list[BoardView], current: str, name: str = "") -> None:
        super().__init__("Saved views")
        self.views = views
        self.current = current
        self.view_name = name

    def fields(self) -> ComposeResult:
        options = [
            Option(Content.assemble((v.name, "bold"), "  ", (v.described, "$text-muted")), id=str(v.id))
            for v in self.views
        ]
        if options:
            yield Label("enter: apply · d: delete")
            yield OptionList(*options, id="views")
        else:
            yield Static(Content("No saved views yet."), classes="views-empty")
        yield Label(Content(f"Save the board as it is ({self.current}) under the name"))
        with Horizontal(classes="form-row"):
            yield Input(self.view_name, placeholder="e.g. Renewals at risk", id="view-name", max_length=100)
            yield Button("Save", id="save")
        if options:
            yield Button("Delete", id="delete", variant="error")

    def on_mount(self) -> None:
        if self.views:
            views = self.query_one("#views", OptionList)
            views.highlighted = 0
            views.focus()
        else:
            self.query_one("#view-name", Input).focus()

    def _highlighted(self) -> BoardView | None:
        if not self.views:
            return None
        index = self.query_one("#views", OptionList).highlighted
        return None if index is None else self.views[index]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            event.stop()
            self._save()
        elif event.button.id == "delete":
            event.stop()
            self.action_delete()
        else:
            super().on_button_pressed(event)

    def _save(self) -> None:
        name = " ".join(self.query_one("#view-name", Input).value.split())
        if not name:
            self.query_one(".form-error", Static).update(
                Content("type a name to save the board's filters under")
            )
            return
        self.dismiss(ViewsChoice("save", name))

    def action_delete(self) -> None:
        if isinstance(self.focused, Input):
            return
        view = self._highlighted()
        if view is not None:
            self.dismiss(ViewsChoice("delete", view.name))

    def result(self) -> ViewsChoice:
        view = self._highlighted()
        if view is None:
            raise BadInput("no view to apply: save one first")
        return ViewsChoice("apply", view.name)
