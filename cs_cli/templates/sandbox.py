"""The sandbox templates render in, bounded in what one operation may build.

Jinja2's SandboxedEnvironment keeps a template away from Python's internals,
not from the machine's memory: `{{ 'x' * 10**10 }}` asks for ten gigabytes and
`{{ 7 ** 123456789 }}` for minutes of arithmetic. Here the operators,
filters and methods that can make a value far larger than their operands
(repeat, power, product, %- and str.format widths, padding, join, replace,
tojson) are checked before they run, and refused with a SecurityError (which
the renderer reports as `not allowed: ...`). What no check foresees (a
loop that runs too long, a value doubled again and again) is stopped by the
worker process every render runs in (worker.py): a deadline and a memory cap.

Imported only when the first template is compiled (it imports jinja2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from jinja2.sandbox import SandboxedEnvironment, SecurityError

# The most characters (or list items) one operation may produce, the most
# digits of an integer a power or a product may make, and the most characters
# a whole render may write: far beyond any agenda or email.
MAX_ITEMS = 100_000
MAX_DIGITS = 1_000
MAX_OUTPUT = 1_000_000

_SEQUENCES = (str, list, tuple)
# A %-format conversion: its width and precision, either of which can be `*`.
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?")
# Filters and str methods whose integer arguments say how big the result is.
_SIZING_FILTERS = ("center", "indent", "batch", "slice")
_SIZING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
# A str.format replacement field's spec, and the numbers in it (width, precision).
_FORMAT_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_NESTED_SPEC = re.compile(r"\{[^{}]*?:[^{}]*\{")
_NUMBER = re.compile(r"\d+")


class BoundedSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment that refuses to build oversized values."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name in _SIZING_FILTERS:
            self.filters[name] = _sized(self.filters[name], f"the {name} filter")
        self.filters["format"] = _formatting(self.filters["format"])
        self.filters["join"] = _joining(self.filters["join"])
        self.filters["replace"] = _replacing(self.filters["replace"])
        self.filters["tojson"] = _measured(self.filters["tojson"], "tojson")
        # Numbers and statuses as people read them: 281K, at risk.
        self.filters["money"] = money_words
        self.filters["words"] = status_words
        # Placeholder text has no place in what a customer reads, and its
        # sizes are another way to ask for a great deal of it.
        self.globals.pop("lipsum", None)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_product(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        elif operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            _check_size(len(left) + len(right), "joining these")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # The double underscores, as in Jinja2's own: a template may pass any keyword.
        # Jinja2 hands str.format out wrapped (its sandboxed formatter): look through.
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str):
            method = __obj.__name__
            if method in _SIZING_METHODS:
                _check_sizes(args, kwargs, f"str.{method}()")
            elif method in ("format", "format_map"):
                check_format_spec(owner)
            elif method == "join":
                _check_join(owner, args[0] if args else ())
            elif method == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
        return super().call(__context, __obj, *args, **kwargs)


def money_words(value: Any) -> str:
    """An amount in a few characters: 281000 -> 281K, 1250000 -> 1.25M, 950 -> 950."""
    if value is None or value == "":
        return ""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    for size, unit in ((1e6, "M"), (1e3, "K")):
        if abs(amount) >= size:
            return f"{amount / size:.2f}".rstrip("0").rstrip(".") + unit
    return f"{amount:.0f}"


def status_words(value: Any) -> str:
    """An enum value in words: at_risk -> at risk."""
    if value is None:
        return ""
    return str(getattr(value, "value", value)).replace("_", " ")


def _check_size(size: int, doing: str) -> None:
    if size > MAX_ITEMS:
        raise SecurityError(f"{doing} would make {size:,} characters or items (at most {MAX_ITEMS:,})")


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, _SEQUENCES):
        left, right = right, left
    if isinstance(left, _SEQUENCES) and isinstance(right, int):
        _check_size(len(left) * right, "this repeat")


def _check_product(left: Any, right: Any) -> None:
    # A product has about as many digits as its factors together; squaring
    # in a loop doubles them each time.
    if isinstance(left, int) and isinstance(right, int):
        digits = (abs(left).bit_length() + abs(right).bit_length()) * math.log10(2)
        if digits > MAX_DIGITS:
            raise SecurityError(
                f"this product would have about {digits:,.0f} digits (at most {MAX_DIGITS:,})"
            )


def check_format_spec(text: str) -> None:
    """Refuse a str.format text whose widths or precisions are too big, or
    given as arguments (`'{:>{}}'.format(x, 10**9)`)."""
    if _NESTED_SPEC.search(text):
        raise SecurityError("a format width or precision given as an argument is not allowed")
    for spec in _FORMAT_SPEC.findall(text):
        for number in _NUMBER.findall(spec):
            if int(number) > MAX_ITEMS:
                raise SecurityError(f"a format width of {number} (at most {MAX_ITEMS:,})")


def size_of(value: Any, limit: int = MAX_OUTPUT) -> int:
    """About how many characters `value` makes as text (its str() or JSON),
    counted no further than just past `limit`: a list may hold the same
    long text many times over, and nothing here may build it to measure it."""
    size = 0
    stack = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, dict):
            size += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            size += 2 + 2 * len(item)
            stack.extend(item)
        else:
            size += 24  # a number, a date: short
    return size


def _check_join(separator: Any, items: Any) -> None:
    if isinstance(items, list | tuple):
        size = size_of(list(items)) + len(str(separator)) * len(items)
        if size > MAX_OUTPUT:
            raise SecurityError(f"this join would make more than {MAX_OUTPUT:,} characters")


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        times = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        if len(text) + times * (len(new) - len(old)) > MAX_OUTPUT:
            raise SecurityError(f"this replace would make more than {MAX_OUTPUT:,} characters")


def _check_power(base: Any, exponent: Any) -> None:
    # Only integers grow without bound: a float overflows at once (an error).
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0:
        digits = exponent * math.log10(abs(base))
        if digits > MAX_DIGITS:
            raise SecurityError(f"this power would have about {digits:,.0f} digits (at most {MAX_DIGITS:,})")


def _check_format(text: str) -> None:
    for match in _CONVERSION.finditer(text):
        for size in match.groups():
            if size == "*":
                raise SecurityError("a %-format width or precision given as `*` is not allowed")
            if size:
                _check_size(int(size), "this %-format width")


def _check_sizes(args: tuple, kwargs: dict, what: str) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool):
            _check_size(value, what)


def _sized(filter_: Callable, what: str) -> Callable:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_sizes(args, kwargs, what)
        return filter_(value, *args, **kwargs)

    return _like(bounded, filter_)


def _formatting(filter_: Callable) -> Callable:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            _check_format(value)
        return filter_(value, *args, **kwargs)

    return _like(bounded, filter_)


def _joining(filter_: Callable) -> Callable:
    def bounded(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        if attribute is None and isinstance(value, list | tuple):
            _check_join(d, value)
        return filter_(eval_ctx, value, d, attribute)

    return _like(bounded, filter_)


def _replacing(filter_: Callable) -> Callable:
    def bounded(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        _check_replace(s, old, new, -1 if count is None else count)
        return filter_(eval_ctx, s, old, new, count)

    return _like(bounded, filter_)


def _measured(filter_: Callable, what: str) -> Callable:
    def bounded(eval_ctx: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        if size_of(value) > MAX_OUTPUT:
            raise SecurityError(f"{what} would make more than {MAX_OUTPUT:,} characters")
        return filter_(eval_ctx, value, *args, **kwargs)

    return _like(bounded, filter_)


def _like(wrapper: Callable, filter_: Callable) -> Callable:
    # Jinja2 passes the context or environment first to filters marked so.
    wrapper.__dict__.update(getattr(filter_, "__dict__", {}))
    wrapper.__name__ = getattr(filter_, "__name__", wrapper.__name__)
    return wrapper
