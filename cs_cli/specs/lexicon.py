"""The domain lexicon: customer-success words and phrases with a valence,
laid over the sentiment analyser's general lexicon (docs/text.md).

The shipped file is cs_cli/lexicon/default.yaml; the `text_lexicon` setting
names one of yours, read through the bounded document reader and checked
here, each error at its file, line and key."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cs_cli.errors import FileError
from cs_cli.specs.documents import load_yaml_file

SHIPPED = Path(__file__).resolve().parent.parent / "lexicon" / "default.yaml"
MAX_ENTRIES = 5_000  # words and phrases together: each phrase is one regex branch
VALENCE = 4.0  # VADER's scale runs from -4 to +4
_TERM = re.compile(r"[a-z0-9][a-z0-9' -]{0,78}[a-z0-9]|[a-z0-9]")


@dataclass(frozen=True)
class Lexicon:
    """Single words and multi-word phrases, lower case, with their valence."""

    words: tuple[tuple[str, float], ...]
    phrases: tuple[tuple[str, float], ...]
    source: str = "shipped"


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The shipped lexicon, with the file at `path` laid over it (or, when
    the file says `replace: true`, instead of it)."""
    shipped = _read(SHIPPED)
    if path is None:
        return shipped
    own, replace = _read(path), _replaces(path)
    if replace:
        return own
    words = dict(shipped.words) | dict(own.words)
    phrases = dict(shipped.phrases) | dict(own.phrases)
    return Lexicon(tuple(words.items()), tuple(phrases.items()), source=str(path))


def _replaces(path: Path) -> bool:
    data, _ = load_yaml_file(path)
    return bool(isinstance(data, dict) and data.get("replace") is True)


def _read(path: Path) -> Lexicon:
    where = str(path)
    data, root = load_yaml_file(path)
    if data is None:
        raise FileError(where, None, None, "empty lexicon: give `words:` or `phrases:`")
    if not isinstance(data, dict):
        raise FileError(where, _line(root, ()), None, "a lexicon is a mapping with `words:` and `phrases:`")
    for key in data:
        if key not in ("words", "phrases", "replace"):
            reason = f"unknown key '{key}' (words, phrases, replace)"
            raise FileError(where, _line(root, (key,)), None, reason)
    if "replace" in data and not isinstance(data["replace"], bool):
        raise FileError(where, _line(root, ("replace",)), None, "replace: is true or false")
    parts: dict[str, tuple[tuple[str, float], ...]] = {}
    count = 0
    for section in ("words", "phrases"):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise FileError(where, _line(root, (section,)), None, f"{section}: is a mapping of term: valence")
        checked = []
        for term, valence in entries.items():
            at = _line(root, (section, term))
            text = str(term).strip().lower().replace("\u2019", "'")
            if not _TERM.fullmatch(text):
                raise FileError(where, at, None, f"{section}.{term}: letters, digits, ' and - only (1-80)")
            many = " " in text
            if section == "words" and many:
                raise FileError(where, at, None, f"words.{term}: one word; put it under phrases")
            if section == "phrases" and not many:
                raise FileError(where, at, None, f"phrases.{term}: two words or more; put it under words")
            number = isinstance(valence, int | float) and not isinstance(valence, bool)
            if not number or not math.isfinite(valence):
                raise FileError(where, at, None, f"{section}.{term}: the valence is a number")
            if abs(valence) > VALENCE:
                reason = f"{section}.{term}: the valence is from -4 to 4, not {valence}"
                raise FileError(where, at, None, reason)
            checked.append((" ".join(text.split()), float(valence)))
        count += len(checked)
        parts[section] = tuple(checked)
    if count > MAX_ENTRIES:
        raise FileError(where, None, None, f"more than {MAX_ENTRIES:,} words and phrases ({count:,})")
    return Lexicon(parts["words"], parts["phrases"], source=where)


def _line(root: yaml.Node | None, keys: tuple[Any, ...]) -> int | None:
    """The line of the key at `keys` in the document (1-based), as near as found."""
    node = root
    line = None if root is None else root.start_mark.line + 1
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == str(key):
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            break
    return line
