"""What validation can see of a template's cost without rendering it: a
bomb behind an `if` the sample customer does not take still passes a
sample render, so `validate` and `load` read the tree for loops nested too
deep, literal ranges too long and format widths too wide. Renders are
bounded anyway (sandbox.py, worker.py); this finds the mistake before any
customer's message fails on it."""

from __future__ import annotations

from typing import Any

from cs_cli.errors import TemplateError

# Loops inside loops, and items of a literal range(): an email or an agenda
# needs neither more.
MAX_LOOP_DEPTH = 2
MAX_LOOP_ITEMS = 10_000


def check_cost(tree: Any, where: str) -> None:
    """TemplateError naming `where` and the line for the first thing too costly."""
    from jinja2 import nodes
    from jinja2.sandbox import SecurityError

    from cs_cli.templates.sandbox import _check_format, check_format_spec

    _check_depth(tree, where, 0)
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "range":
            for arg in call.args:
                if isinstance(arg, nodes.Const) and isinstance(arg.value, int) and arg.value > MAX_LOOP_ITEMS:
                    raise TemplateError(
                        where,
                        call.lineno,
                        f"not allowed: range({arg.value}) (at most {MAX_LOOP_ITEMS:,} items)",
                    )
    for const in tree.find_all(nodes.Const):
        if isinstance(const.value, str):
            try:
                check_format_spec(const.value)
                _check_format(const.value)
            except SecurityError as exc:
                raise TemplateError(where, const.lineno, f"not allowed: {exc}") from None


def _check_depth(node: Any, where: str, depth: int) -> None:
    from jinja2 import nodes

    for child in node.iter_child_nodes():
        inner = depth
        if isinstance(child, nodes.For):
            inner = depth + 1
            if inner > MAX_LOOP_DEPTH:
                raise TemplateError(
                    where, child.lineno, f"not allowed: loops nested {inner} deep (at most {MAX_LOOP_DEPTH})"
                )
        _check_depth(child, where, inner)
