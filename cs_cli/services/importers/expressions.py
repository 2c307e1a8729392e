"""Computed columns of map files: a small, safe expression language.

    computed:
      arr: MonthlyCharges * 12
      name: first_name & " " & last_name
      contract_start: date(SignupDate, "%m/%d/%Y")
      tier: '"enterprise" if number(Seats) >= 500 else "growth"'

An expression is read with Python's own parser (`ast.parse`, which only
parses) and evaluated here by walking the tree, allowing nothing but what is
listed below: column names, constants, arithmetic, comparison, and/or/not,
`A if C else B`, `&` to join text, and the functions of FUNCTIONS. There is
no attribute access, no indexing, no lambda, no eval: a map file cannot run
code.

Values from a CSV file are text; arithmetic and comparisons read text that
is a number as a number. An empty cell is null, and null goes through
arithmetic and joins as null (so the field stays empty).
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


class ExpressionError(ValueError):
    """A bad expression (when the map is read) or a value it cannot use
    (when a row is computed). `column` is the 1-based offset in the text."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.source: Any = None  # the import column being computed, when known


_NUMBER = re.compile(r"^\s*[-+]?[$€£]?\s*(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?\s*$")


def _number(value: Any, what: str | None = None) -> Decimal | int | None:
    """A number from a number or from text that reads as one ("1,200.50",
    "$12"); decimals stay exact (29.85 * 12 is 358.2, not 358.20000000000005)."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip()
    if text == "":
        return None
    wrong = f"{what}: '{value}' is not a number" if what else f"'{value}' is not a number"
    if not _NUMBER.match(text) or not any(ch.isdigit() for ch in text):
        raise ExpressionError(wrong)
    cleaned = re.sub(r"[,$€£\s]", "", text)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ExpressionError(wrong) from None
    return int(number) if "." not in cleaned else number


def _tidy(value: Any) -> Any:
    """A computed number as the importer takes it: whole ones as int, others as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float | Decimal) and value == int(value):
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _parse_date(value: Any, fmt: str, kind: str) -> str | None:
    text = _text(value)
    if text is None or text.strip() == "":
        return None
    try:
        moment = dt.datetime.strptime(text.strip(), fmt)
    except ValueError:
        raise ExpressionError(f"'{text}' does not match the {kind} format '{fmt}'") from None
    return moment.date().isoformat() if kind == "date" else moment.isoformat()


def _round(value: Any, digits: Any = 0) -> float | int | None:
    number = _number(value)
    if number is None:
        return None
    places = int(_number(digits) or 0)
    rounded = round(Decimal(number), places)
    return int(rounded) if places <= 0 else rounded


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None and _text(v) != ""), None)


def _lift(function: Callable[[str], str]) -> Callable[[Any], str | None]:
    return lambda value: None if _text(value) is None else function(_text(value))


# The functions an expression may call, with how many arguments each takes.
FUNCTIONS: dict[str, tuple[Callable[..., Any], range]] = {
    "number": (lambda v: _number(v), range(1, 2)),
    "integer": (lambda v: None if _number(v) is None else int(_number(v) or 0), range(1, 2)),
    "text": (_text, range(1, 2)),
    "date": (lambda v, f: _parse_date(v, f, "date"), range(2, 3)),
    "datetime": (lambda v, f: _parse_date(v, f, "date-time"), range(2, 3)),
    "round": (_round, range(1, 3)),
    "lower": (_lift(str.lower), range(1, 2)),
    "upper": (_lift(str.upper), range(1, 2)),
    "trim": (_lift(str.strip), range(1, 2)),
    "coalesce": (_coalesce, range(1, 100)),
    "col": (None, range(1, 2)),  # a column whose name is not a bare word: col("Monthly Charges")
}
_CONSTANTS = {"true": True, "false": False, "null": None}
_ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_WHAT = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "indexing (a[b])",
    ast.Lambda: "lambda",
    ast.Pow: "** (powers)",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}


@dataclass(frozen=True)
class Expression:
    text: str
    tree: ast.expr
    columns: tuple[str, ...]  # the source columns it reads

    def evaluate(self, value_of: Callable[[str], Any]) -> Any:
        """The expression's value for one record; `value_of(name)` gives a
        source column's raw value."""
        return _tidy(_evaluate(self.tree, value_of))


# An expression is a line of a map file: long or deeply nested ones are
# refused before Python's parser and the evaluator recurse through them.
MAX_LENGTH = 1_000
MAX_DEPTH = 50


def parse_expression(text: str) -> Expression:
    """Read and check an expression; ExpressionError says what is not allowed, and where."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression is text, e.g. MonthlyCharges * 12")
    if len(text.strip()) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH:,} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"cannot read the expression: {exc.msg}", exc.offset) from None
    except (RecursionError, MemoryError):  # the parser's own bound on nesting
        raise ExpressionError(f"nested deeper than {MAX_DEPTH} levels") from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(f"nested deeper than {MAX_DEPTH} levels")
    columns: list[str] = []
    _check(tree, columns)
    return Expression(text.strip(), tree, tuple(dict.fromkeys(columns)))


def _depth(tree: ast.AST) -> int:
    """How deep the tree nests (walked without recursion): checking and
    evaluating it recurse once per level."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _check(node: ast.AST, columns: list[str]) -> None:
    where = getattr(node, "col_offset", None)
    where = None if where is None else where + 1
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise ExpressionError(
                f"constants are text, numbers, true, false or null, not {node.value!r}", where
            )
    elif isinstance(node, ast.Name):
        if node.id not in _CONSTANTS:
            columns.append(node.id)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITHMETIC and not isinstance(node.op, ast.BitAnd):
            raise ExpressionError(f"{_WHAT.get(type(node.op), type(node.op).__name__)} is not allowed", where)
        _check(node.left, columns)
        _check(node.right, columns)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise ExpressionError("only -, + and not go before a value", where)
        _check(node.operand, columns)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, columns)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE and not isinstance(op, ast.In | ast.NotIn):
                raise ExpressionError("compare with ==, !=, <, <=, >, >=, in or not in", where)
        for value in (node.left, *node.comparators):
            _check(value, columns)
    elif isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, columns)
    elif isinstance(node, ast.List | ast.Tuple):
        for item in node.elts:
            _check(item, columns)
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            known = ", ".join(FUNCTIONS)
            raise ExpressionError(f"unknown function {name or '(not a name)'} (known: {known})", where)
        if node.keywords:
            raise ExpressionError(f"{name}() takes its arguments in order, without names", where)
        if len(node.args) not in FUNCTIONS[name][1]:
            raise ExpressionError(f"{name}() takes {_arity(FUNCTIONS[name][1])}", where)
        if name == "col":
            arg = node.args[0]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise ExpressionError('col() takes a column name in quotes: col("Monthly Charges")', where)
            columns.append(arg.value)
            return
        for arg in node.args:
            _check(arg, columns)
    else:
        what = _WHAT.get(type(node), type(node).__name__)
        raise ExpressionError(f"{what} is not allowed in an expression", where)


def _arity(allowed: range) -> str:
    low, high = allowed.start, allowed.stop - 1
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments" if high < 99 else f"{low} or more arguments"


def _evaluate(node: ast.AST, value_of: Callable[[str], Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return _CONSTANTS[node.id] if node.id in _CONSTANTS else _blank_is_null(value_of(node.id))
    if isinstance(node, ast.List | ast.Tuple):
        return [_evaluate(item, value_of) for item in node.elts]
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, value_of), _evaluate(node.right, value_of)
        if isinstance(node.op, ast.BitAnd):
            if left is None or right is None:
                return None
            return f"{_text(left)}{_text(right)}"
        a, b = _number(left, _name(node.left)), _number(right, _name(node.right))
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and not isinstance(a, Decimal):
            a = Decimal(a)
        if a is None or b is None:
            return None
        try:
            return _ARITHMETIC[type(node.op)](a, b)
        except ZeroDivisionError:
            raise ExpressionError("division by zero") from None
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, value_of)
        if isinstance(node.op, ast.Not):
            return not _truthy(value)
        number = _number(value, _name(node.operand))
        return None if number is None else (-number if isinstance(node.op, ast.USub) else number)
    if isinstance(node, ast.BoolOp):
        values = (_evaluate(v, value_of) for v in node.values)
        if isinstance(node.op, ast.And):
            return all(_truthy(v) for v in values)
        return any(_truthy(v) for v in values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, value_of)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(right_node, value_of)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        branch = node.body if _truthy(_evaluate(node.test, value_of)) else node.orelse
        return _evaluate(branch, value_of)
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        if name == "col":
            return _blank_is_null(value_of(node.args[0].value))  # type: ignore[attr-defined]
        function = FUNCTIONS[name][0]
        return function(*(_evaluate(arg, value_of) for arg in node.args))
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # _check keeps this unreachable


def _name(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _blank_is_null(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "no", "0", "n", "off")
    return bool(value)


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, ast.In | ast.NotIn):
        items = right if isinstance(right, list) else [right]
        found = any(_equal(left, item) for item in items)
        return found if isinstance(op, ast.In) else not found
    if isinstance(op, ast.Eq | ast.NotEq):
        same = _equal(left, right)
        return same if isinstance(op, ast.Eq) else not same
    if left is None or right is None:
        return False
    try:
        a, b = _number(left), _number(right)
    except ExpressionError:
        a, b = _text(left), _text(right)
    return _COMPARE[type(op)](a, b)


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return _truthy(left) == _truthy(right)
    try:
        return _number(left) == _number(right)
    except ExpressionError:
        return _text(left) == _text(right)
