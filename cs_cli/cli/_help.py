"""How `--help` reads: prose that wraps to the terminal, and option values
named in words (a flag takes none).

Typer, in its rich markup mode, keeps a docstring's own line breaks, so at
80 columns a 78-character docstring line leaves one word alone on the next
line; and it names values by their Python type (`<bool>` beside a flag that
takes no value, `<str>`, `<int range>`). Both are put right here, once for
the whole command tree, before the help is shown.
"""

from __future__ import annotations

import re

# What a value is called in help, by the Python type Typer would print.
_VALUE_WORDS = {
    "str": "TEXT",
    "int": "INTEGER",
    "int range": "INTEGER",
    "float": "NUMBER",
    "float range": "NUMBER",
    "Decimal": "AMOUNT",
    "Path": "PATH",
    "file": "FILE",
    "directory": "DIR",
    "path": "PATH",
}


def value_word(param, ctx) -> str | None:
    """The word after an option in help: none for a flag or an argument
    (its name says it), its metavar when it has one, else its type in words
    (`a|b|c` for a few short choices)."""
    from typer.core import TyperArgument

    if isinstance(param, TyperArgument):
        return None
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        return None
    if param.metavar is not None:
        return param.metavar
    label = param.display_type(ctx)
    if not label:
        return label
    inner = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    repeated = inner.startswith("list[") and inner.endswith("]")
    if repeated:
        inner = inner[len("list[") : -1]
    word = _VALUE_WORDS.get(inner, inner)
    return f"{word}..." if repeated and getattr(param, "nargs", 1) != 1 else word


def install() -> None:
    """Name values in words in every option's and argument's help line."""
    from typer import core

    def display_type_rich(self, ctx):
        return value_word(self, ctx)

    for cls in (core.TyperOption, core.TyperArgument):
        cls.display_type_rich = display_type_rich


# Choices longer than this show as the option's name in capitals, and are
# listed in its help instead (the value column is narrow: they would break
# mid-word).
_CHOICES_WIDTH = 20


def _name_long_choices(param) -> None:
    desc = getattr(param, "type_descriptor", None)
    if param.metavar is not None or desc is None or not desc.is_choice or not desc.choices:
        return
    names = [str(getattr(c, "value", c)) for c in desc.choices]
    if len("|".join(names)) <= _CHOICES_WIDTH:
        return
    flag = next((o for o in param.opts if o.startswith("--")), param.name or "value")
    param.metavar = flag.lstrip("-").replace("-", "_").upper()
    listed = ", ".join(names)
    param.help = f"{param.help or ''} One of: {listed}.".strip()


_INDENTED = re.compile(r"^\s")


def reflow(text: str) -> str:
    """Join the lines of each prose paragraph, so the terminal wraps it; a
    paragraph with an indented line (an example, a list) keeps its lines."""
    paragraphs = text.split("\n\n")
    # The first paragraph Typer joins itself; left as it is, its lines keep
    # inspect.cleandoc (which Typer applies) from taking the indentation of
    # the paragraphs that follow for a common margin.
    out = paragraphs[:1]
    for paragraph in paragraphs[1:]:
        lines = paragraph.strip("\n").split("\n")
        if paragraph.startswith("\b") or any(_INDENTED.match(line) for line in lines):
            out.append(paragraph)
        else:
            out.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def tidy(group) -> None:
    """Every command under `group`: prose reflowed, and its line in a
    listing the first sentence of its help."""
    for command in getattr(group, "commands", {}).values():
        for param in getattr(command, "params", ()):
            _name_long_choices(param)
        if command.help:
            command.help = reflow(command.help)
            if not command.short_help:
                # One line: the listing wraps it to its column itself.
                first = " ".join(command.help.split("\n\n")[0].split())
                end = first.find(". ")
                command.short_help = first if end < 0 else first[: end + 1]
        tidy(command)
