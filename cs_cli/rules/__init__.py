"""The rule language: who is in a segment (and, elsewhere, which scorecard
or journey branch applies), written as JSON or YAML, checked against an
allow-list of fields and operators, and compiled to one parameterized SQL
condition. docs/segments.md is the reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cs_cli.errors import BadInput, FileError
from cs_cli.rules.compile import CompiledRule, compile_rule
from cs_cli.rules.parse import Node, RuleError, parse, segments_named

__all__ = [
    "CompiledRule",
    "Node",
    "RuleError",
    "compile_rule",
    "parse",
    "parse_document",
    "read_rules_file",
    "read_rules_text",
    "segments_named",
]


def parse_document(document: Any, *, where: str = "rules") -> Node:
    """The checked tree of a rule document; BadInput naming the rule path."""
    try:
        return parse(document)
    except RuleError as exc:
        raise BadInput(f"{where}: {exc}") from None


def read_rules_text(text: str) -> tuple[Any, Node]:
    """Rules given inline (`--rules '{...}'`): JSON, or YAML for short forms."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith(("{", "[")):
            raise BadInput(f"--rules: invalid JSON at column {exc.colno}: {exc.msg}") from None
        import yaml

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            raise BadInput(f"--rules: invalid JSON at column {exc.colno}: {exc.msg}") from None
    return document, parse_document(document, where="--rules")


def read_rules_file(path: Path) -> tuple[Any, Node]:
    """Rules from a JSON or YAML file; errors name file:line and the rule path."""
    from cs_cli.specs.loader import line_of, load_yaml

    document, root = load_yaml(path)
    try:
        return document, parse(document)
    except RuleError as exc:
        raise FileError(str(path), line_of(root, exc.path), None, str(exc)) from None
