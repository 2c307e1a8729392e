"""The sandbox templates render in, bounded in what one operation may build.

Jinja2's SandboxedEnvironment keeps a template away from Python's internals,
not from the machine's memory: `{{ 'x' * 10**10 }}` asks for ten gigabytes and
`{{ 7 ** 123456789 }}` for minutes of arithmetic. Here the operators and
filters that can make a value far larger than their operands (repeat, power,
%-formatting, padding to a width) are checked before they run, and refused
with a SecurityError (which the renderer reports as `not allowed: ...`).

Imported only when the first template is compiled (it imports jinja2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from jinja2.sandbox import SandboxedEnvironment, SecurityError

# The most characters (or list items) one operation may produce, and the most
# digits of a power of integers: far beyond any agenda or email.
MAX_ITEMS = 100_000
MAX_DIGITS = 1_000

_SEQUENCES = (str, list, tuple)
# A %-format conversion: its width and precision, either of which can be `*`.
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?")
# Filters and str methods whose integer arguments say how big the result is.
_SIZING_FILTERS = ("center", "indent", "batch", "slice")
_SIZING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class BoundedSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment that refuses to build oversized values."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name in _SIZING_FILTERS:
            self.filters[name] = _sized(self.filters[name], f"the {name} filter")
        self.filters["format"] = _formatting(self.filters["format"])
        # Placeholder text has no place in what a customer reads, and its
        # sizes are another way to ask for a great deal of it.
        self.globals.pop("lipsum", None)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        elif operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            _check_size(len(left) + len(right), "joining these")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # The double underscores, as in Jinja2's own: a template may pass any keyword.
        if isinstance(getattr(__obj, "__self__", None), str) and __obj.__name__ in _SIZING_METHODS:
            _check_sizes(args, kwargs, f"str.{__obj.__name__}()")
        return super().call(__context, __obj, *args, **kwargs)


def _check_size(size: int, doing: str) -> None:
    if size > MAX_ITEMS:
        raise SecurityError(f"{doing} would make {size:,} characters or items (at most {MAX_ITEMS:,})")


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, _SEQUENCES):
        left, right = right, left
    if isinstance(left, _SEQUENCES) and isinstance(right, int):
        _check_size(len(left) * right, "this repeat")


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


def _like(wrapper: Callable, filter_: Callable) -> Callable:
    # Jinja2 passes the context or environment first to filters marked so.
    wrapper.__dict__.update(getattr(filter_, "__dict__", {}))
    wrapper.__name__ = getattr(filter_, "__name__", wrapper.__name__)
    return wrapper
