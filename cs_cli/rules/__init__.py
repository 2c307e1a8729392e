"""The rule language: who is in a segment (and, elsewhere, which scorecard
or journey branch applies), written as JSON or YAML, checked against an
allow-list of fields and operators, and compiled to one parameterized SQL
condition. docs/segments.md is the reference."""

from __future__ import annotations

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
    """Rules given inline (`--rules '{...}'`): JSON, or YAML for short forms;
    both read within the bounds of specs/documents.py."""
    from cs_cli.specs.documents import load_json_text, load_yaml_text

    if text.lstrip().startswith(("{", "[")):
        document = load_json_text(text, "--rules")
    else:
        document = load_yaml_text(text, "--rules")[0]
    return document, parse_document(document, where="--rules")


def read_rules_file(path: Path) -> tuple[Any, Node]:
    """Rules from a JSON or YAML file; errors name file:line and the rule path."""
    from cs_cli.specs.loader import load_yaml, position_of

    document, root = load_yaml(path)
    try:
        return document, parse(document)
    except RuleError as exc:
        raise FileError(str(path), *position_of(root, exc.path), str(exc)) from None
