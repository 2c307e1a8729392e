"""Turning the text (or JSON values) of an import file into typed values.

Each converter takes the raw value, never None or "", and returns the typed
value or raises ValueError with a reason a person can act on.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from cs_cli import dates
from cs_cli.specs.documents import MAX_INT, json_problem, text_problem

Converter = Callable[[Any], Any]

# An Integer column holds 32 bits on PostgreSQL (SQLite would take 64 and
# say nothing): a whole number field is checked against that unless told.
INT32_MAX = 2**31 - 1
# JSON values kept in attributes nest at most this deep.
MAX_NESTING = 32
_NON_FINITE = frozenset({"inf", "infinity", "nan"})

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _plain(raw: Any) -> str:
    """A value as text; a JSON object or list is not text, and text a
    database cannot store (NUL, a lone surrogate) is refused here."""
    if isinstance(raw, dict | list):
        raise ValueError(f"expected text, not a JSON {'object' if isinstance(raw, dict) else 'list'}")
    value = raw if isinstance(raw, str) else str(raw)
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def text(max_length: int) -> Converter:
    def convert(raw: Any) -> str:
        value = _plain(raw).strip()
        if len(value) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        return value

    return convert


def long_text(raw: Any) -> str:
    return _plain(raw)


def email(raw: Any) -> str:
    value = _plain(raw).strip()
    if not _EMAIL.match(value) or len(value) > 320:
        raise ValueError(f"{value!r} is not an email address")
    return value.lower()


def integer(minimum: int = -INT32_MAX - 1, maximum: int = INT32_MAX) -> Converter:
    def convert(raw: Any) -> int:
        if isinstance(raw, bool | dict | list):
            raise ValueError(f"{raw!r} is not a whole number")
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        else:
            try:
                value = int(str(raw).strip())
            except ValueError:
                try:
                    as_float = float(str(raw).strip())
                except ValueError:
                    raise ValueError(f"{raw!r} is not a whole number") from None
                if not as_float.is_integer():
                    raise ValueError(f"{raw!r} is not a whole number") from None
                value = int(as_float)
        if value < minimum:
            raise ValueError(f"{value} is less than {minimum}")
        if value > maximum:
            raise ValueError(f"{value} is more than {maximum}")
        return value

    return convert


def number(minimum: float | None = None, maximum: float | None = None) -> Converter:
    def convert(raw: Any) -> float:
        if isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not a number")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{raw!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{raw!r} is not a finite number")
        if minimum is not None and value < minimum:
            raise ValueError(f"{value:g} is less than {minimum:g}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{value:g} is more than {maximum:g}")
        return value

    return convert


def money(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not an amount")
    try:
        value = Decimal(str(raw).strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount") from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise ValueError(f"{raw!r} is not a sensible amount")
    return value.quantize(Decimal("0.01"))


def boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = str(raw).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not true/false (use true/false, yes/no or 1/0)")


def date(raw: Any) -> dt.date:
    value = str(raw).strip()
    if len(value) > 10:  # a timestamp where a date is wanted: keep its UTC date
        return datetime(value).date()
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)") from None
    if not dates.in_range(parsed):
        raise ValueError(dates.out_of_range(value))
    return parsed


def datetime(raw: Any) -> dt.datetime:
    """ISO 8601; a value without a zone is taken as UTC."""
    value = raw.strip() if isinstance(raw, str) else str(raw)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date-time (use ISO 8601, e.g. 2024-05-01T13:45:00Z)") from None
    # Checked before moving to UTC, which overflows near year 1 or 9999.
    if not dates.in_range(parsed):
        raise ValueError(dates.out_of_range(value))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def choice(enum: type[StrEnum]) -> Converter:
    allowed = {member.value: member for member in enum}
    lookup = {**allowed, **{k.replace("_", " "): v for k, v in allowed.items()}}

    def convert(raw: Any) -> StrEnum:
        key = str(raw).strip().lower()
        if key in lookup:
            return lookup[key]
        raise ValueError(f"{raw!r} is not one of: {', '.join(allowed)}")

    return convert


def string_list(raw: Any) -> list[str]:
    """A JSON list, or text separated by ; or |."""
    if isinstance(raw, list):
        return [_plain(item) for item in raw]
    text = _plain(raw).strip()
    if text.startswith("["):
        # A CSV cell holding a JSON list (as `cs export` writes one).
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list):
            return [_plain(item) for item in parsed]
    return [part.strip() for part in re.split(r"[;|]", text) if part.strip()]


_NUMBER = re.compile(r"^[+-]?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$")


def attribute(raw: Any) -> Any:
    """An extra column kept in `attributes`: numbers stay numbers, true/false
    stay booleans; codes with leading zeros ("007") and whole numbers beyond
    64 bits stay text. A number that is not finite is refused: stored as
    JSON `Infinity` it breaks every attribute rule on SQLite, and
    PostgreSQL refuses it."""
    if not isinstance(raw, str):
        if isinstance(raw, Decimal):  # from a computed field
            if not raw.is_finite() or not math.isfinite(float(raw)):
                raise ValueError(f"{str(raw)!r} is not a finite number")
            raw = float(raw) if raw != raw.to_integral_value() or abs(raw) > MAX_INT else int(raw)
        problem = json_problem(raw, max_depth=MAX_NESTING)
        if problem is not None:
            raise ValueError(problem)
        return raw
    value = _plain(raw).strip()
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered.lstrip("+-") in _NON_FINITE:
        raise ValueError(f"{value!r} is not a finite number")
    if not _NUMBER.match(value):
        return value
    if "." in value or "e" in lowered:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return number
    whole = int(value) if len(value) <= 20 else None
    return whole if whole is not None and -MAX_INT <= whole <= MAX_INT else value
