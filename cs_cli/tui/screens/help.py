"""`?`: the keys of the screen you are on, its own first, then the ones
that work everywhere, then moving around."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

Section = tuple[str, list[tuple[str, str]]]


def key_sections(screen: Screen) -> list[Section]:
    """The screen's active keys in three sections: its own (in the order it
    declares them), the app's, and Textual's own moving around (scrolling,
    paging, focus). Keys that do the same thing share a row ("↓ j  Down")."""
    app = screen.app
    active = screen.active_bindings
    own = list(Binding.make_bindings(type(screen).BINDINGS))
    own_keys = {b.key for b in own}
    here: dict[str, list[str]] = {}
    everywhere: dict[str, list[str]] = {}
    moving: dict[str, list[str]] = {}

    def add(rows: dict[str, list[str]], binding: Binding) -> None:
        if binding.description:
            # The footer's word, and here what it means when it says more ("Task: a task from the alert").
            text = f"{binding.description}: {binding.tooltip}" if binding.tooltip else binding.description
            rows.setdefault(text, []).append(binding.key_display or app.get_key_display(binding))

    for key, found in active.items():
        binding = found.binding
        if binding.id is None:
            # A widget's built-in key; when the screen binds it too, the
            # screen's meaning is the one a user meets (arrows move columns).
            if key not in own_keys:
                add(moving, binding)
        elif found.node is app:
            add(everywhere, binding)
        elif found.node is not screen:
            add(here, binding)
    for binding in own:
        found = active.get(binding.key)
        # Not active: hidden by the screen (a CSM has one scope).
        if found is not None and found.binding.id in (binding.id, None):
            add(here, binding)
    for text in [t for t in here if t in moving]:
        # j and k beside the arrows they stand for.
        moving[text] += here.pop(text)
    sections = [("this screen", here), ("everywhere", everywhere), ("moving around", moving)]
    return [
        (name, [(" ".join(keys), text) for text, keys in rows.items()]) for name, rows in sections if rows
    ]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, title: str, sections: list[Section]) -> None:
        super().__init__()
        self.heading = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.assemble((self.heading, "bold"), ": keys"))
            table: DataTable = DataTable(show_cursor=False, zebra_stripes=False)
            table.add_columns("key", "does")
            for name, rows in self.sections:
                table.add_row("", Content.styled(name, "bold $accent"))
                for key, description in rows:
                    table.add_row(key, description)
            yield table
            yield Static("Escape closes this. The mouse works too.", classes="muted")
