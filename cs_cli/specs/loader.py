"""Load a YAML file into a typed model; every error names file, line and the
key path, and unknown keys are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cs_cli.errors import FileError

M = TypeVar("M", bound=BaseModel)


def _node_at(node: yaml.Node | None, path: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest node of `path` that exists (for its line number)."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if match is None:
                # An unknown key: point at the key itself.
                key = next((k for k, _ in node.value if getattr(k, "value", None) == str(part)), None)
                return key or node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _key_of(node: yaml.MappingNode, part: str) -> yaml.Node | None:
    return next((k for k, _ in node.value if getattr(k, "value", None) == part), None)


def line_of(root: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    return position_of(root, path)[0]


def position_of(root: yaml.Node | None, path: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """Line and column (both from 1) of the node at `path`, or of the deepest
    part of it that exists."""
    parent = _node_at(root, path[:-1]) if path else None
    if isinstance(parent, yaml.MappingNode):
        # A key with a plain value (unknown, or a bad value): point at the key.
        # A key whose value is wrong as a whole (a plain value, or a mapping
        # such as an unknown measure): point at the key.
        pair = next(((k, v) for k, v in parent.value if getattr(k, "value", None) == str(path[-1])), None)
        if pair is not None and isinstance(pair[1], yaml.ScalarNode | yaml.MappingNode):
            return pair[0].start_mark.line + 1, pair[0].start_mark.column + 1
    node = _node_at(root, path)
    if path and isinstance(node, yaml.MappingNode):
        key = _key_of(node, str(path[-1]))
        if key is not None:
            node = key
    if node is None:
        return None, None
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The data and its node tree (for line numbers), read within the
    bounds of documents.py."""
    from cs_cli.specs.documents import load_yaml_file

    return load_yaml_file(path)


def load_model(path: Path, model: type[M]) -> tuple[M, str]:
    """Parse and validate `path` as `model`; returns it and the file's text."""
    from cs_cli.specs.documents import load_yaml_text, read_text

    text = read_text(path)
    data, root = load_yaml_text(text, str(path))
    return validate(path, data, root, model), text


def validate(path: Path, data: Any, root: yaml.Node | None, model: type[M]) -> M:
    """`data` (read from `path`, with its node tree `root`) as `model`; the
    first error names the file, line, column and key path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(p for p in error["loc"] if p != "__root__")
        message = error["msg"].removeprefix("Value error, ")
        if ": " in message and " " not in message.split(": ", 1)[0]:
            # A check across keys names its own path below where it runs:
            # "components.x.y: reason".
            keys_text, message = message.split(": ", 1)
            loc += tuple(int(p) if p.isdigit() else p for p in keys_text.split("."))
        keys = ".".join(str(p) for p in loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        line, column = position_of(root, loc)
        raise FileError(str(path), line, column, f"{keys}: {message}") from None
