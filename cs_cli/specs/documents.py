"""Every YAML and JSON document cs reads (scorecards, playbooks, journeys,
automation rules, segment rules, map files, `--rules` and `--data` text)
goes through here, within bounds.

Why bounds: YAML aliases let 1 KB of text stand for 10^9 values (the tree is
shared, so it loads at once, and whoever walks it hangs); the composer and
json.loads recurse once per level of nesting (RecursionError); and a few
values that Python reads would break later on, far from the file: a
non-finite number (stored as JSON `Infinity`), a NUL (PostgreSQL refuses
it), a date near year 1 or 9999, an integer of thousands of digits. Each is
said here, at its file, line and column. A key given twice in one mapping
is an error too: YAML would keep the second silently.

docs/limits.md lists the bounds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from cs_cli import dates
from cs_cli.errors import BadInput, FileError

MAX_BYTES = 2_000_000  # a document's size
MAX_DEPTH = 64  # levels of nesting, aliases included
MAX_VALUES = 100_000  # values in a document, an alias counting what it stands for
MAX_INT = 2**63 - 1  # what a database integer holds, either way
_MAX_INT_DIGITS = 25  # longer int text is out of range without reading it

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class _Bound(Exception):
    """A document outside the bounds, at a node (or a mark) of its text."""

    def __init__(self, mark: Any, reason: str) -> None:
        super().__init__(reason)
        self.mark = mark
        self.reason = reason


class _Loader(yaml.SafeLoader):
    """The safe loader, with its composer stopped at MAX_DEPTH levels: it
    recurses once per level, so a deep document would otherwise end in
    RecursionError."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Bound(self.peek_event().start_mark, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_text(path: Path) -> str:
    """A document file's text: at most MAX_BYTES, UTF-8."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FileError(where, None, None, f"larger than {MAX_BYTES:,} bytes ({size:,})")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError(where, None, None, "no such file") from None
    except IsADirectoryError:
        raise FileError(where, None, None, "a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise FileError(where, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_yaml_file(path: Path) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML (or JSON) file and its node tree (for line numbers)."""
    return load_yaml_text(read_text(path), str(path))


def load_yaml_text(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """The data of YAML text and its node tree; FileError at `where`:line:column."""
    if len(text) > MAX_BYTES:
        raise FileError(where, None, None, f"larger than {MAX_BYTES:,} characters")
    loader = None
    try:
        loader = _Loader(text)  # the reader checks every character here
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_tree(loader, root)
        return loader.construct_document(root), root
    except _Bound as exc:
        line, column = _position(exc.mark)
        raise FileError(where, line, column, exc.reason) from None
    except yaml.MarkedYAMLError as exc:
        line, column = _position(exc.problem_mark)
        raise FileError(where, line, column, f"invalid YAML: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:
        # A control character: the reader gives only its offset in the text.
        line, column = _line_column(text, exc.position)
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        reason = f"invalid YAML: control character {what} is not allowed"
        raise FileError(where, line, column, reason) from None
    except yaml.YAMLError as exc:
        raise FileError(where, None, None, f"invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_json_text(text: str, where: str) -> Any:
    """A JSON value from text given on the command line; BadInput naming `where`."""
    if len(text) > MAX_BYTES:
        raise BadInput(f"{where}: longer than {MAX_BYTES:,} characters")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise BadInput(f"{where}: invalid JSON at {at}: {exc.msg}") from None
    except RecursionError:
        raise BadInput(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer of more digits than Python reads
        raise BadInput(f"{where}: invalid JSON: {exc}") from None
    problem = json_problem(value)
    if problem is not None:
        raise BadInput(f"{where}: {problem}")
    return value


def json_problem(value: Any, *, max_depth: int = MAX_DEPTH) -> str | None:
    """What is wrong with a value read from JSON, by its key path, or None:
    nesting, size, non-finite numbers, integers out of range, text a
    database cannot store. Walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    count = 0
    while stack:
        item, path, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return f"more than {MAX_VALUES:,} values"
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return f"nested deeper than {max_depth} levels"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, sub in pairs:
                if isinstance(key, str) and (reason := text_problem(key)):
                    return f"{path or '(top level)'}: key {key[:40]!r}: {reason}"
                stack.append((sub, f"{path}.{key}" if path else str(key), depth + 1))
            continue
        reason = scalar_problem(item)
        if reason is not None:
            return f"{path}: {reason}" if path else reason
    return None


def scalar_problem(value: Any) -> str | None:
    """Why a number or text read from a document cannot be kept, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
        return f"{value} is out of range (at most {MAX_INT:,} either way)"
    if isinstance(value, str):
        return text_problem(value)
    return None


def text_problem(text: str) -> str | None:
    """Why text cannot be stored (NUL, a lone surrogate: JSON and YAML can
    spell both, no database keeps them), or None."""
    if "\x00" in text:
        return "text cannot contain a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text is not valid Unicode (a lone surrogate)"
    return None


def _check_tree(loader: _Loader, root: yaml.Node) -> None:
    """Size and depth of the tree as its readers will walk it (each alias
    expanded, counted without expanding it), keys given twice, and each
    scalar the constructor would read into something unusable."""
    measured: dict[int, tuple[int, int]] = {}  # node -> (values under it, its height)
    open_nodes: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in measured:
            size, height = measured[key]
            if depth + height > MAX_DEPTH:
                raise _Bound(node.start_mark, f"nested deeper than {MAX_DEPTH} levels (aliases included)")
            return size
        if key in open_nodes:
            raise _Bound(node.start_mark, "an alias stands for a node that holds it (a loop)")
        if depth > MAX_DEPTH:
            raise _Bound(node.start_mark, f"nested deeper than {MAX_DEPTH} levels (aliases included)")
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(loader, node)
            measured[key] = (1, 0)
            return 1
        open_nodes.add(key)
        if isinstance(node, yaml.MappingNode):
            _check_keys(node)
            children = [part for pair in node.value for part in pair]
        else:
            children = list(node.value)
        size, height = 1, 0
        for child in children:
            size += visit(child, depth + 1)
            height = max(height, measured[id(child)][1] + 1)
            if size > MAX_VALUES:
                raise _Bound(
                    node.start_mark,
                    f"the document holds more than {MAX_VALUES:,} values (an alias counts all it stands for)",
                )
        open_nodes.discard(key)
        measured[key] = (size, height)
        return size

    visit(root, 1)


def _check_keys(node: yaml.MappingNode) -> None:
    first: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE:
            continue
        spelled = (key.tag, key.value)
        if spelled in first:
            raise _Bound(key.start_mark, f"key '{key.value}' given twice (first on line {first[spelled]})")
        first[spelled] = key.start_mark.line + 1


def _check_scalar(loader: _Loader, node: yaml.ScalarNode) -> None:
    try:
        if node.tag == _STR:
            reason = text_problem(node.value)
        elif node.tag == _INT:
            digits = node.value.replace("_", "").lstrip("+-")
            if len(digits) > _MAX_INT_DIGITS:
                reason = f"a whole number of at most {MAX_INT:,} either way"
            else:
                reason = scalar_problem(loader.construct_yaml_int(node))
        elif node.tag == _FLOAT:
            reason = scalar_problem(loader.construct_yaml_float(node))
        elif node.tag == _TIMESTAMP:
            value = loader.construct_yaml_timestamp(node)
            reason = None if dates.in_range(value) else dates.out_of_range(node.value)
        else:
            reason = None
    except ValueError as exc:  # a date such as 2026-02-30 or year 0
        reason = f"{node.value!r} is not a date ({exc})"
    if reason is not None:
        raise _Bound(node.start_mark, reason)


def _position(mark: Any) -> tuple[int | None, int | None]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
