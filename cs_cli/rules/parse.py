"""Read a rule document (already loaded from JSON or YAML) into a checked
tree. Every error names the rule path (`all[1].arr.gte`) where it is."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cs_cli import dates
from cs_cli.rules.fields import (
    ALIASES,
    ATTRIBUTE_KEY,
    FIELDS,
    OPERATORS,
    OPERATORS_BY_KIND,
    USAGE_MEASURES,
    USAGE_OPERATORS,
    Field,
    Kind,
)

Path = tuple[str | int, ...]

MAX_LIST = 10_000
MAX_TEXT = 1_000
MAX_DAYS = 36_500
MAX_DEPTH = 32
MAX_INT = 2**63 - 1  # what a database integer holds
_KEY = re.compile(rf"{ATTRIBUTE_KEY}(\.{ATTRIBUTE_KEY}){{0,7}}")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]+")
_DAY_OPS = ("within_last_days", "older_than_days", "within_next_days")


class RuleError(ValueError):
    """A rule document that cannot be used; `path` locates the problem."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{format_path(path)}: {message}" if path else message)
        self.path = path
        self.reason = message


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, str) and not _PLAIN_KEY.fullmatch(part):
            text += f"[{part!r}]"  # a key no field has, shown as it is spelled
        else:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class Condition:
    """`field op value`; `attribute` holds the keys of an `attributes.X.Y` field."""

    path: Path
    field: Field | None
    attribute: tuple[str, ...] | None
    op: str
    value: Any


@dataclass(frozen=True)
class Usage:
    path: Path
    feature: str | None
    last_days: int
    measure: str
    op: str
    value: Any


@dataclass(frozen=True)
class InSegment:
    path: Path
    names: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """all (every item holds) or any (at least one does)."""

    kind: str
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Condition | Usage | InSegment | Group | Not


def parse(document: Any) -> Node:
    """The checked tree of a rule document, or RuleError."""
    if not isinstance(document, dict) or not document:
        raise RuleError((), 'a rule is a non-empty mapping, e.g. {"health_score": {"lt": 50}}')
    return _mapping(document, (), 0)


def _mapping(doc: dict, path: Path, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise RuleError(path, f"rules nest deeper than {MAX_DEPTH} levels")
    items: list[Node] = []
    for key, value in doc.items():
        if not isinstance(key, str):
            raise RuleError(path, f"keys are field names or all/any/not, not {key!r}")
        here = (*path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise RuleError(here, f"'{key}' takes a non-empty list of rules")
            subs = []
            for i, sub in enumerate(value):
                if not isinstance(sub, dict) or not sub:
                    raise RuleError((*here, i), "each rule in the list is a non-empty mapping")
                subs.append(_mapping(sub, (*here, i), depth + 1))
            items.append(subs[0] if len(subs) == 1 else Group(key, tuple(subs)))
        elif key == "not":
            if not isinstance(value, dict) or not value:
                raise RuleError(here, "'not' takes one rule (a mapping)")
            items.append(Not(_mapping(value, here, depth + 1)))
        elif key == "usage":
            items.append(_usage(value, here))
        elif key == "in_segment":
            items.append(_in_segment(value, here))
        else:
            items.extend(_field(key, value, here))
    return items[0] if len(items) == 1 else Group("all", tuple(items))


def _field(name: str, spec: Any, path: Path) -> list[Node]:
    attribute = None
    field = None
    if name.startswith("attributes."):
        keys = name.removeprefix("attributes.")
        if not _KEY.fullmatch(keys):
            raise RuleError(path, "attribute names are letters, digits, '_' and '-', dots between levels")
        attribute = tuple(keys.split("."))
    else:
        field = FIELDS.get(ALIASES.get(name, name))
        if field is None:
            raise RuleError(path, f"unknown field {name!r}{_suggest(name)}")
    if isinstance(spec, dict):
        if not spec:
            raise RuleError(path, 'give an operator, e.g. {"eq": ...}')
        ops = spec.items()
    elif isinstance(spec, list):
        ops = [("in", spec)]
    else:
        ops = [("eq", spec)]
    return [
        _condition(field, attribute, str(op), value, (*path, op) if isinstance(spec, dict) else path)
        for op, value in ops
    ]


def _condition(
    field: Field | None, attribute: tuple[str, ...] | None, op: str, value: Any, path: Path
) -> Condition:
    if op not in OPERATORS:
        raise RuleError(path, f"unknown operator '{op}' (one of {', '.join(OPERATORS)})")
    if field is not None and op not in OPERATORS_BY_KIND[field.kind]:
        raise RuleError(
            path,
            f"'{op}' does not apply to {field.name} ({field.kind.value}); use one of "
            + ", ".join(OPERATORS_BY_KIND[field.kind]),
        )
    kind = field.kind if field else _attribute_kind(op, value, path)
    return Condition(path, field, attribute, op, _value(kind, field, op, value, path))


def _attribute_kind(op: str, value: Any, path: Path) -> Kind:
    """An attribute's kind is the kind of the value it is compared with."""
    if op in ("exists", "is_null"):
        return Kind.BOOL
    if op in _DAY_OPS:
        return Kind.DATE
    if op in ("contains", "starts_with"):
        return Kind.TEXT
    sample = value[0] if op in ("in", "not_in", "between") and isinstance(value, list) and value else value
    if isinstance(sample, bool):
        if op not in ("eq", "ne"):
            raise RuleError(path, f"'{op}' does not compare true/false")
        return Kind.BOOL
    if isinstance(sample, int | float | Decimal):
        return Kind.NUMBER
    if isinstance(sample, dt.date):
        return Kind.DATE
    return Kind.TEXT


def _value(kind: Kind, field: Field | None, op: str, value: Any, path: Path) -> Any:
    name = field.name if field else "this attribute"
    if op in ("exists", "is_null"):
        if not isinstance(value, bool):
            raise RuleError(path, f"'{op}' takes true or false, not {value!r}")
        return value
    if op in _DAY_OPS:
        # The last N days include today, so there is no "last 0 days".
        return _days(value, path, least=1 if op == "within_last_days" else 0)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise RuleError(path, f"'{op}' takes a non-empty list")
        if len(value) > MAX_LIST:
            raise RuleError(path, f"'{op}' takes at most {MAX_LIST:,} values ({len(value):,} given)")
        return tuple(_scalar(kind, field, v, (*path, i), name) for i, v in enumerate(value))
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise RuleError(path, "'between' takes a list of two values, [low, high]")
        low, high = (_scalar(kind, field, v, (*path, i), name) for i, v in enumerate(value))
        if _order_key(low) > _order_key(high):
            raise RuleError(path, f"'between' needs low <= high, got [{value[0]!r}, {value[1]!r}]")
        return (low, high)
    if op in ("contains", "starts_with") and (not isinstance(value, str) or not value):
        raise RuleError(path, f"'{op}' takes non-empty text, not {value!r}")
    return _scalar(kind, field, value, path, name)


def _scalar(kind: Kind, field: Field | None, value: Any, path: Path, name: str) -> Any:
    if value is None:
        raise RuleError(path, "null is not a value to compare with; use is_null: true")
    if kind in (Kind.NUMBER, Kind.INTEGER):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise RuleError(path, f"{name} is a number; {value!r} is not")
        if isinstance(value, float) and not math.isfinite(value):
            raise RuleError(path, f"{value!r} is not a number to compare with")
        if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
            raise RuleError(path, f"{value} is out of range (at most {MAX_INT:,} either way)")
        if isinstance(value, Decimal) and not value.is_finite():
            raise RuleError(path, f"{value} is not a number to compare with")
        return value
    if kind == Kind.BOOL:
        if not isinstance(value, bool):
            raise RuleError(path, f"{name} is true or false; {value!r} is not")
        return value
    if kind in (Kind.DATE, Kind.DATETIME):
        return _date(kind, value, path, name)
    if not isinstance(value, str):
        raise RuleError(path, f"{name} is text; {value!r} is not")
    if len(value) > MAX_TEXT:
        raise RuleError(path, f"text values are at most {MAX_TEXT} characters")
    _check_text(value, path)
    if kind == Kind.ENUM and field is not None and value not in field.values:
        raise RuleError(path, f"{name} is one of {', '.join(field.values)}; not {value!r}")
    return value


def _date(kind: Kind, value: Any, path: Path, name: str) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime):
        parsed: dt.date = value
    elif isinstance(value, dt.date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = (
                dt.datetime.fromisoformat(value)
                if "T" in value or " " in value
                else dt.date.fromisoformat(value)
            )
        except ValueError:
            raise RuleError(path, f"{name} is a date; {value!r} is not one (use YYYY-MM-DD)") from None
    else:
        raise RuleError(path, f"{name} is a date; {value!r} is not one (use YYYY-MM-DD)")
    # The compiler adds a day to a date and moves times to UTC: near year 1
    # or 9999 that overflows.
    if not dates.in_range(parsed):
        raise RuleError(path, dates.out_of_range(value if isinstance(value, str) else value.isoformat()))
    # A plain date given for a date-and-time field stays a date: it means
    # that whole day (UTC), and the compiler turns it into a range.
    if isinstance(parsed, dt.datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if kind == Kind.DATE and isinstance(parsed, dt.datetime):
        parsed = parsed.date()
    return parsed


def _order_key(value: Any) -> Any:
    """Dates and date-times compare with each other (a date as its midnight)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return value


def _days(value: Any, path: Path, least: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_DAYS:
        raise RuleError(path, f"a number of days, {least} to {MAX_DAYS}, not {value!r}")
    return value


def _usage(spec: Any, path: Path) -> Usage:
    if not isinstance(spec, dict):
        raise RuleError(path, "usage takes a mapping: {feature: NAME, last_days: 30, gte: 5}")
    spec = dict(spec)
    feature = spec.pop("feature", None)
    if feature is not None and (not isinstance(feature, str) or not feature or len(feature) > 100):
        raise RuleError((*path, "feature"), "a feature is an event name (text, at most 100 characters)")
    if feature is not None:
        _check_text(feature, (*path, "feature"))
    if "last_days" not in spec:
        raise RuleError(path, "usage needs last_days, the window in days")
    last_days = spec.pop("last_days")
    if isinstance(last_days, bool) or not isinstance(last_days, int) or not 1 <= last_days <= MAX_DAYS:
        raise RuleError((*path, "last_days"), f"a number of days, 1 to {MAX_DAYS}, not {last_days!r}")
    measure = spec.pop("measure", "events")
    if measure not in USAGE_MEASURES:
        raise RuleError((*path, "measure"), f"measure is one of {', '.join(USAGE_MEASURES)}; not {measure!r}")
    if len(spec) != 1:
        raise RuleError(path, "usage takes exactly one comparison: " + ", ".join(USAGE_OPERATORS))
    op, value = next(iter(spec.items()))
    if op not in USAGE_OPERATORS:
        raise RuleError((*path, op), f"usage compares with one of {', '.join(USAGE_OPERATORS)}; not '{op}'")
    value = _value(Kind.NUMBER, None, op, value, (*path, op))
    return Usage(path, feature, last_days, measure, op, value)


def _in_segment(value: Any, path: Path) -> InSegment:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) and 0 < len(n) <= 100 for n in names):
        raise RuleError(path, "in_segment takes a segment name or a list of names")
    for name in names:
        _check_text(name, path)
    return InSegment(path, tuple(names))


def _check_text(text: str, path: Path) -> None:
    """Text the database can store: no NUL, no lone surrogates (JSON can
    spell both); said here rather than failing there."""
    if "\x00" in text:
        raise RuleError(path, "text cannot contain a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RuleError(path, "text is not valid Unicode (a lone surrogate)") from None


def _suggest(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, [*FIELDS, *ALIASES], n=1)
    return f" (did you mean '{close[0]}'?)" if close else "; see `cs segments fields`"


def segments_named(node: Node) -> set[str]:
    """Every segment an in_segment condition names, anywhere in the tree."""
    if isinstance(node, InSegment):
        return set(node.names)
    if isinstance(node, Group):
        return set().union(*(segments_named(i) for i in node.items))
    if isinstance(node, Not):
        return segments_named(node.item)
    return set()


def reads_health(node: Node) -> bool:
    """Whether a condition anywhere in the tree reads a health score field
    (a segment is read from its members, not re-evaluated)."""
    from cs_cli.rules.fields import Source

    if isinstance(node, Condition):
        return node.field is not None and node.field.source == Source.HEALTH
    if isinstance(node, Group):
        return any(reads_health(i) for i in node.items)
    if isinstance(node, Not):
        return reads_health(node.item)
    return False
