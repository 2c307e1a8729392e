"""Attribute conditions that can never match the book as it is.

A rule on `attributes.X` compares with whatever JSON the imports left there:
a number never equals the text "70", true never equals the text "Yes", and
`attributes.contract` matches nothing in a book whose column is `Contract`.
Such a rule is valid (the book may change), so these are warnings, said
when a segment is previewed, created or given new rules.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from cs_cli import rules
from cs_cli.db import dialect
from cs_cli.db.models import Customer
from cs_cli.rules.parse import Condition, Group, Not

# JSON kinds, named once for both dialects.
_KIND = {
    "number": "number",
    "integer": "number",
    "real": "number",
    "string": "text",
    "text": "text",
    "boolean": "true/false",
    "true": "true/false",
    "false": "true/false",
    "array": "list",
    "object": "object",
}
_PLURAL = {"number": "numbers", "list": "lists", "object": "objects"}
_A = {"number": "a number"}
# Operators that look at presence or inside lists and text: any kind will do.
_ANY_KIND = {"exists", "is_null", "contains"}
_DATE_OPS = {"within_last_days", "older_than_days", "within_next_days"}


def attribute_warnings(session: Session, document: dict[str, Any]) -> list[str]:
    """One line for each attribute condition that no customer can match."""
    node = rules.parse_document(document)
    conditions = [c for c in _conditions(node) if c.attribute is not None]
    if not conditions:
        return []
    warnings = []
    names: list[str] | None = None
    for condition in conditions:
        keys = condition.attribute
        assert keys is not None
        field = "attributes." + ".".join(keys)
        kinds = _kinds(session, keys)
        if not kinds:
            names = names if names is not None else _top_level_names(session)
            warnings.append(f"{field}: no customer has this attribute{_nearest(keys[0], names)}")
            continue
        if condition.op in _ANY_KIND:
            continue
        wanted = "text" if condition.op in _DATE_OPS else _kind_of(condition.value)
        if wanted is None or wanted in kinds:
            continue
        held = " and ".join(f"{_PLURAL.get(kind, kind)} ({n:,} customers)" for kind, n in kinds.most_common())
        hint = _hint(session, keys, condition.value, kinds)
        value = _shown(condition.value)
        warnings.append(
            f"{field} holds {held}, and {value} is {_A.get(wanted, wanted)}: the rule never matches{hint}"
        )
    return warnings


def _conditions(node) -> Iterator[Condition]:
    if isinstance(node, Condition):
        yield node
    elif isinstance(node, Group):
        for item in node.items:
            yield from _conditions(item)
    elif isinstance(node, Not):
        yield from _conditions(node.item)


def _kind_of(value: Any) -> str | None:
    sample = value[0] if isinstance(value, tuple | list) and value else value
    if isinstance(sample, bool):
        return "true/false"
    if isinstance(sample, int | float | Decimal):
        return "number"
    if isinstance(sample, str | dt.date):
        return "text"
    return None


def _shown(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def _typeof(session: Session, keys: tuple[str, ...]) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """The JSON kind and the text of an attribute, in this dialect."""
    column = Customer.__table__.c.attributes
    if dialect.name(session) == "postgresql":
        path = sa.bindparam(None, list(keys), type_=postgresql.ARRAY(sa.Text))
        return sa.func.jsonb_typeof(column.op("#>")(path)), column.op("#>>")(path)
    path = sa.bindparam(None, "$" + "".join(f'."{k}"' for k in keys))
    return sa.func.json_type(column, path), sa.cast(sa.func.json_extract(column, path), sa.Text)


def _kinds(session: Session, keys: tuple[str, ...]) -> Counter[str]:
    typeof, _ = _typeof(session, keys)
    found: Counter[str] = Counter()
    for kind, n in session.execute(sa.select(typeof, sa.func.count()).group_by(typeof)):
        if kind is not None and kind != "null":
            found[_KIND.get(kind, kind)] += n
    return found


def _hint(session: Session, keys: tuple[str, ...], value: Any, kinds: Counter[str]) -> str:
    """What to write instead: the values the attribute does hold."""
    held = kinds.most_common(1)[0][0]
    if held == "number" and isinstance(value, str):
        try:
            return f" (write {float(value):g}, without quotes)"
        except ValueError:
            return ""
    if held == "text":
        typeof, text = _typeof(session, keys)
        values = session.scalars(
            sa.select(text).where(typeof.in_(["string", "text"])).group_by(text).order_by(text).limit(6)
        ).all()
        if values:
            listed = ", ".join(f"'{v}'" for v in values[:5]) + (", ..." if len(values) > 5 else "")
            return f" (it holds text such as {listed})"
    if held == "true/false" and isinstance(value, str):
        return " (write true or false, without quotes)"
    return ""


def _top_level_names(session: Session) -> list[str]:
    column = Customer.__table__.c.attributes
    if dialect.name(session) == "postgresql":
        keys = sa.func.jsonb_object_keys(column).table_valued("key").render_derived()
        stmt = (
            sa.select(keys.c.key)
            .select_from(Customer.__table__.join(keys, sa.true()))
            .where(sa.func.jsonb_typeof(column) == "object")
            .distinct()
        )
    else:
        each = sa.func.json_each(column).table_valued("key")
        stmt = sa.select(each.c.key).select_from(Customer.__table__.join(each, sa.true())).distinct()
    return [str(k) for k in session.scalars(stmt)]


def _nearest(name: str, names: list[str]) -> str:
    same = [n for n in names if n.lower() == name.lower()]
    if same:
        return f" (names differ in case: attributes.{same[0]})"
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean attributes.{close[0]}?)" if close else ""
