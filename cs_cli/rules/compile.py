"""Turn a checked rule tree into one SQLAlchemy condition over the customers
table, with the joins it needs. Every value and every attribute key becomes
a bound parameter; only names from the field allow-list become SQL.

Each condition is two-valued: a customer with no value for a field is simply
not matched by `lt`, `eq` and the like, and is matched by `ne`, `not_in` and
by `not` around any of them (SQL's NULL would otherwise drop it from both).
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import (
    Customer,
    CustomerSegment,
    HealthOverride,
    HealthScore,
    Segment,
    SupportTicket,
    Team,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.enums import HealthStatus
from cs_cli.rules.fields import Field, Kind, Source
from cs_cli.rules.parse import Condition, Group, InSegment, Node, Not, Usage


@dataclass(frozen=True)
class CompiledRule:
    """`SELECT ... FROM source WHERE condition` picks the matching customers;
    `source` starts at the customers table, so callers may add columns,
    joins and the actor's scope."""

    source: sa.FromClause
    condition: sa.ColumnElement[bool]

    def customer_ids(self) -> sa.Select:
        return sa.select(Customer.__table__.c.id).select_from(self.source).where(self.condition)


def compile_rule(node: Node, *, dialect: str, as_of: dt.date) -> CompiledRule:
    """The condition a rule tree means on `as_of`, for the given SQL dialect
    ("postgresql" or "sqlite")."""
    compiler = _Compiler(dialect, as_of)
    condition = compiler.node(node)
    return CompiledRule(compiler.source(), condition)


def compile_rules(
    nodes: list[Node],
    *,
    dialect: str,
    as_of: dt.date,
    facts: UsageFacts | None = None,
    customers: sa.FromClause | None = None,
) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
    """Several rules over one shared source, so one scan of the book can
    evaluate them all; usage conditions read `facts` when it has them.
    `customers` (shaped as the customers table) stands in for the table,
    e.g. its facts as of a past day."""
    compiler = _Compiler(dialect, as_of, facts, customers=customers)
    conditions = [compiler.node(n) for n in nodes]
    return compiler.source(), conditions


@dataclass(frozen=True)
class UsageKey:
    """One usage aggregate: a measure of (some) events over a window."""

    feature: str | None
    last_days: int
    measure: str


def usage_keys(node: Node) -> set[UsageKey]:
    """The usage aggregates a rule tree reads."""
    if isinstance(node, Usage):
        return {UsageKey(node.feature, node.last_days, node.measure)}
    if isinstance(node, Group):
        return set().union(*(usage_keys(i) for i in node.items))
    if isinstance(node, Not):
        return usage_keys(node.item)
    return set()


@dataclass(frozen=True)
class UsageFacts:
    """A table with one row per customer that had events in the widest
    window, and one column per usage aggregate."""

    table: sa.Table
    columns: dict[UsageKey, str]


def usage_facts(keys: set[UsageKey], *, dialect: str, as_of: dt.date) -> tuple[UsageFacts, sa.Select]:
    """A scratch table for the aggregates and the one SELECT that fills it:
    a single pass over the widest window's events, each aggregate counting
    only the events of its own window and feature."""
    u = UsageEvent.__table__
    ordered = sorted(keys, key=lambda k: (k.last_days, k.feature or "", k.measure))
    columns = {key: f"u{i}" for i, key in enumerate(ordered)}
    table = sa.Table(
        "cs_usage_facts",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        *(sa.Column(name, sa.Float) for name in columns.values()),
        prefixes=["TEMPORARY"],
    )
    end = _day_start(as_of + dt.timedelta(days=1))
    widest = max(k.last_days for k in ordered)
    aggregates = []
    for key in ordered:
        start = _day_start(as_of - dt.timedelta(days=key.last_days - 1))
        within = u.c.occurred_at >= sa.bindparam(None, start, type_=UTCDateTime())
        if key.feature is not None:
            within = sa.and_(within, u.c.event_name == sa.bindparam(None, key.feature))
        aggregates.append(_aggregate(key.measure, u, dialect).filter(within).label(columns[key]))
    select = (
        sa.select(u.c.customer_id, *aggregates)
        .where(
            u.c.occurred_at
            >= sa.bindparam(None, _day_start(as_of - dt.timedelta(days=widest - 1)), type_=UTCDateTime()),
            u.c.occurred_at < sa.bindparam(None, end, type_=UTCDateTime()),
        )
        .group_by(u.c.customer_id)
    )
    return UsageFacts(table, columns), select


def _aggregate(measure: str, u: sa.Table, dialect: str) -> sa.FunctionElement:
    if measure == "events":
        return sa.func.count()
    if measure == "quantity":
        return sa.func.sum(u.c.quantity)
    if measure == "active_days":
        if dialect == "postgresql":
            day = sa.cast(sa.func.timezone("UTC", u.c.occurred_at), sa.Date)
        else:
            day = sa.func.substr(u.c.occurred_at, 1, 10)
        return sa.func.count(sa.distinct(day))
    return sa.func.count(sa.distinct(u.c.contact_id))


_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


_DAY = dt.timedelta(days=1)


def _is_day(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


# `key_topics contains` looks at this many days of touchpoints and tickets.
TOPIC_DAYS = 90


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@dataclass
class _Compiler:
    dialect: str
    as_of: dt.date
    facts: UsageFacts | None = None
    used: set[Source] = field(default_factory=set)
    customers: sa.FromClause | None = None

    def __post_init__(self) -> None:
        if self.customers is None:
            self.customers = Customer.__table__
        self.health = HealthScore.__table__
        self.csm = User.__table__.alias("csm")
        self.team = Team.__table__.alias("csm_team")
        o = HealthOverride
        self.override = (
            sa.select(o.customer_id, o.overall_score, o.health_status)
            .where(o.cleared_at.is_(None), o.expires_on >= self.as_of)
            .subquery("override")
        )

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    # -- the tree

    def node(self, node: Node) -> sa.ColumnElement[bool]:
        if isinstance(node, Group):
            parts = [self.node(item) for item in node.items]
            return sa.and_(*parts) if node.kind == "all" else sa.or_(*parts)
        if isinstance(node, Not):
            return sa.not_(self.node(node.item))
        if isinstance(node, Condition):
            if node.attribute is not None:
                return self.attribute(node)
            assert node.field is not None
            if node.field.source == Source.TOPICS:
                return self.topics(str(node.value))
            expr, value = self.expression(node.field), node.value
            if node.field.source == Source.CSM:  # emails match whatever their case
                expr, value = sa.func.lower(expr), _lower(value)
            return self.compare(expr, node.field.kind, node.op, value)
        if isinstance(node, Usage):
            return self.usage(node)
        if isinstance(node, InSegment):
            return self.in_segment(node)
        raise TypeError(node)

    def source(self) -> sa.FromClause:
        c = self.customers
        source: sa.FromClause = c
        if self.used & {Source.HEALTH, Source.OVERRIDE, Source.DERIVED}:
            source = source.outerjoin(self.health, self.health.c.customer_id == c.c.id)
        if Source.OVERRIDE in self.used:
            source = source.outerjoin(self.override, self.override.c.customer_id == c.c.id)
        if self.used & {Source.CSM, Source.TEAM}:
            source = source.outerjoin(self.csm, self.csm.c.id == c.c.csm_id)
        if Source.TEAM in self.used:
            source = source.outerjoin(self.team, self.team.c.id == self.csm.c.team_id)
        if Source.USAGE in self.used:
            assert self.facts is not None
            facts = self.facts.table
            source = source.outerjoin(facts, facts.c.customer_id == c.c.id)
        return source

    # -- fields

    def expression(self, f: Field) -> sa.ColumnElement:
        self.used.add(f.source)
        if f.source == Source.CUSTOMER:
            return self.customers.c[f.column]
        if f.source == Source.HEALTH:
            return self.health.c[f.column]
        if f.source == Source.OVERRIDE:
            value = sa.func.coalesce(self.override.c[f.column], self.health.c[f.column])
            if f.column == "overall_score":
                # With too little data the number judges nothing (it may be
                # size alone): no score for rules, as for no score at all.
                status = sa.func.coalesce(self.override.c.health_status, self.health.c.health_status)
                return sa.case((status == HealthStatus.INSUFFICIENT_DATA.value, sa.null()), else_=value)
            return value
        if f.source == Source.CSM:
            return self.csm.c[f.column]
        if f.source == Source.TEAM:
            return self.team.c[f.column]
        c, h = self.customers.c, self.health.c
        if f.column == "days_to_renewal":
            return self.days_between(c.renewal_date, self.as_of)
        if f.column == "tenure_days":
            return self.days_between(self.as_of, c.contract_start)
        if f.column == "days_since_last_login":
            # Recalc stores it as of its day; count on from there to today.
            return h.days_since_last_login + self.days_between(self.as_of, h.as_of)
        raise KeyError(f.column)

    def days_between(self, later: Any, earlier: Any) -> sa.ColumnElement:
        """Whole days from `earlier` to `later` (dates or date columns)."""
        if self.pg:
            return _as_date(later) - _as_date(earlier)
        return sa.cast(sa.func.julianday(_as_date(later)) - sa.func.julianday(_as_date(earlier)), sa.Integer)

    # -- comparisons

    def compare(self, expr: Any, kind: Kind, op: str, value: Any) -> sa.ColumnElement[bool]:
        """`expr op value` for a field of `kind`, two-valued (see the module)."""
        present = expr.is_not(None)
        if op == "exists":
            return present if value else expr.is_(None)
        if op == "is_null":
            return expr.is_(None) if value else present
        if op in ("ne", "not_in"):
            return sa.or_(expr.is_(None), self.holds(expr, kind, op, value))
        return sa.and_(present, self.holds(expr, kind, op, value))

    def holds(self, expr: Any, kind: Kind, op: str, value: Any) -> sa.ColumnElement[bool]:
        """`expr op value` where expr is not null."""
        if kind == Kind.DATETIME and op in (*_COMPARE, "between"):
            return self.moments(expr, op, value)
        if op in _COMPARE:
            return _COMPARE[op](expr, self.bind(value, kind))
        if op == "between":
            return expr.between(self.bind(value[0], kind), self.bind(value[1], kind))
        if op == "in":
            return self.one_of(expr, kind, value)
        if op == "ne":
            return expr != self.bind(value, kind)
        if op == "not_in":
            return sa.not_(self.one_of(expr, kind, value))
        if op == "contains":
            return sa.func.lower(expr).contains(value.lower(), autoescape=True)
        if op == "starts_with":
            return sa.func.lower(expr).startswith(value.lower(), autoescape=True)
        low, high = self.day_window(op, value)
        bounds = []
        if kind == Kind.DATETIME:
            if low is not None:
                bounds.append(expr >= self.bind(_day_start(low), kind))
            if high is not None:
                bounds.append(expr < self.bind(_day_start(high + _DAY), kind))
        elif kind == Kind.TEXT:  # ISO dates (or date-times) in an attribute
            if low is not None:
                bounds.append(expr >= self.bind(low.isoformat(), kind))
            if high is not None:
                bounds.append(expr < self.bind((high + _DAY).isoformat(), kind))
        else:
            if low is not None:
                bounds.append(expr >= self.bind(low, kind))
            if high is not None:
                bounds.append(expr <= self.bind(high, kind))
        return sa.and_(*bounds)

    def day_window(self, op: str, days: int) -> tuple[dt.date | None, dt.date | None]:
        """The first and last day (inclusive, None = open) a day operator
        means: the last N days are today and the N-1 before it; older than
        N days is every day before those; the next N days are today and the
        N after it."""
        if op == "within_last_days":
            return self.as_of - (days - 1) * _DAY, self.as_of
        if op == "older_than_days":
            return None, self.as_of - days * _DAY
        if op == "within_next_days":
            return self.as_of, self.as_of + days * _DAY
        raise ValueError(op)

    def moments(self, expr: Any, op: str, value: Any) -> sa.ColumnElement[bool]:
        """A date-and-time field against dates or date-times; a plain date
        means that whole day (UTC): `eq` is the day, `lte` includes it."""

        def start(day: dt.date) -> sa.BindParameter:
            return self.bind(_day_start(day), Kind.DATETIME)

        def at(moment: dt.datetime) -> sa.BindParameter:
            return self.bind(moment, Kind.DATETIME)

        if op == "between":
            low, high = value
            above = expr >= (start(low) if _is_day(low) else at(low))
            below = expr < start(high + _DAY) if _is_day(high) else expr <= at(high)
            return sa.and_(above, below)
        if not _is_day(value):
            return _COMPARE[op](expr, at(value))
        within = sa.and_(expr >= start(value), expr < start(value + _DAY))
        return {
            "eq": within,
            "ne": sa.or_(expr < start(value), expr >= start(value + _DAY)),
            "lt": expr < start(value),
            "lte": expr < start(value + _DAY),
            "gt": expr >= start(value + _DAY),
            "gte": expr >= start(value),
        }[op]

    def bind(self, value: Any, kind: Kind) -> sa.BindParameter:
        return sa.bindparam(None, value, type_=_TYPES.get(kind))

    def one_of(self, expr: Any, kind: Kind, values: tuple) -> sa.ColumnElement[bool]:
        """`expr` is one of `values`, sent as ONE bound parameter however long
        the list: an expanding IN gives every value its own parameter, and a
        refresh evaluates every segment in one statement, so seven lists of
        10,000 passed Postgres' 65,535 parameters (SQLite's 250,000 at 26).
        Postgres takes an array (`= ANY`), SQLite a JSON array it unpacks
        with json_each."""
        if self.pg:
            array = sa.bindparam(
                None, _array_values(values, kind), type_=postgresql.ARRAY(_ARRAY_TYPES[kind])
            )
            return expr == sa.any_(array)
        each = sa.func.json_each(sa.bindparam(None, json.dumps(_json_values(values)))).table_valued("value")
        return expr.in_(sa.select(each.c.value))

    # -- attributes

    def attribute(self, node: Condition) -> sa.ColumnElement[bool]:
        keys = node.attribute
        assert keys is not None
        column = self.customers.c.attributes
        if self.pg:
            path = sa.bindparam(None, list(keys), type_=postgresql.ARRAY(sa.Text))
            typeof = sa.func.jsonb_typeof(column.op("#>")(path))
            text = column.op("#>>")(path)
            number = sa.case((typeof == "number", sa.cast(text, sa.Float)))
            string = sa.case((typeof == "string", text))
            boolean = sa.case((typeof == "boolean", text == "true"))
            is_array = sa.func.coalesce(typeof, "") == "array"  # two-valued when the key is missing
        else:
            path = sa.bindparam(None, "$" + "".join(f'."{k}"' for k in keys))
            typeof = sa.func.json_type(column, path)
            value = sa.func.json_extract(column, path)
            number = sa.case((typeof.in_(["integer", "real"]), value))
            string = sa.case((typeof == "text", value))
            boolean = sa.case((typeof.in_(["true", "false"]), typeof == "true"))
            is_array = sa.func.coalesce(typeof, "") == "array"
        op, val = node.op, node.value
        if op in ("exists", "is_null"):
            present = sa.and_(typeof.is_not(None), typeof != "null")
            return present if (op == "exists") == val else sa.not_(present)
        if op == "contains":
            return sa.or_(
                sa.and_(is_array, self.array_contains(column, keys, val)),
                sa.and_(string.is_not(None), sa.func.lower(string).contains(val.lower(), autoescape=True)),
            )
        if op in ("within_last_days", "older_than_days", "within_next_days"):
            return self.compare(string, Kind.TEXT, op, val)  # ISO dates compare as text
        sample = val[0] if isinstance(val, tuple) else val
        if isinstance(sample, bool):
            return self.compare(boolean, Kind.BOOL, op, val)
        if isinstance(sample, int | float) or type(sample).__name__ == "Decimal":
            return self.compare(number, Kind.NUMBER, op, val)
        if isinstance(sample, dt.date):
            val = tuple(v.isoformat() for v in val) if isinstance(val, tuple) else val.isoformat()
        return self.compare(string, Kind.TEXT, op, val)

    def array_contains(self, column: Any, keys: tuple[str, ...], value: str) -> sa.ColumnElement[bool]:
        if self.pg:
            path = sa.bindparam(None, list(keys), type_=postgresql.ARRAY(sa.Text))
            needle = sa.cast(sa.bindparam(None, json.dumps([value])), postgresql.JSONB)
            return column.op("#>")(path).op("@>")(needle)
        path = sa.bindparam(None, "$" + "".join(f'."{k}"' for k in keys))
        each = sa.func.json_each(column, path).table_valued("value").alias("element")
        return sa.exists(
            sa.select(sa.literal(1)).select_from(each).where(each.c.value == sa.bindparam(None, value))
        )

    # -- key topics

    def topics(self, needle: str) -> sa.ColumnElement[bool]:
        """A touchpoint or ticket of the customer's, in the TOPIC_DAYS days
        up to as_of, with a key topic containing `needle` (any case): one
        pass over the window's topic lists, unnested in SQL."""
        low = sa.bindparam(
            None, _day_start(self.as_of - dt.timedelta(days=TOPIC_DAYS - 1)), type_=UTCDateTime()
        )
        high = sa.bindparam(None, _day_start(self.as_of + dt.timedelta(days=1)), type_=UTCDateTime())
        pattern = "%" + needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        selects = []
        for table, at in (
            (Touchpoint.__table__, "occurred_at"),
            (SupportTicket.__table__, "opened_at"),
        ):
            if self.pg:
                each = (
                    sa.func.jsonb_array_elements_text(table.c.key_topics).table_valued("value").alias("topic")
                )
            else:
                each = sa.func.json_each(table.c.key_topics).table_valued("value").alias("topic")
            selects.append(
                sa.select(table.c.customer_id)
                .select_from(table)
                .join(each, sa.true())
                .where(
                    table.c[at] >= low,
                    table.c[at] < high,
                    table.c.key_topics.is_not(None),
                    sa.func.lower(each.c.value).like(sa.bindparam(None, pattern), escape="\\"),
                )
            )
        return self.customers.c.id.in_(sa.union(*selects))

    # -- usage and membership

    def usage(self, node: Usage) -> sa.ColumnElement[bool]:
        key = UsageKey(node.feature, node.last_days, node.measure)
        if self.facts is not None and key in self.facts.columns:
            self.used.add(Source.USAGE)
            amount = sa.func.coalesce(self.facts.table.c[self.facts.columns[key]], 0)
            return self.holds(amount, Kind.NUMBER, node.op, node.value)
        u = UsageEvent.__table__
        first_day = self.as_of - dt.timedelta(days=node.last_days - 1)
        where = [
            u.c.occurred_at >= sa.bindparam(None, _day_start(first_day), type_=UTCDateTime()),
            u.c.occurred_at
            < sa.bindparam(None, _day_start(self.as_of + dt.timedelta(days=1)), type_=UTCDateTime()),
        ]
        if node.feature is not None:
            where.append(u.c.event_name == sa.bindparam(None, node.feature))
        amount = _aggregate(node.measure, u, self.dialect)
        if node.measure == "quantity":
            amount = sa.func.coalesce(amount, 0)
        condition = self.holds(amount, Kind.NUMBER, node.op, node.value)
        groups = sa.select(u.c.customer_id).where(*where).group_by(u.c.customer_id)
        # One pass over the window's events, not a lookup per customer. A
        # customer without events has 0; when 0 satisfies the comparison,
        # match everyone except the customers whose events fail it.
        if _holds_at_zero(node.op, node.value):
            return self.customers.c.id.not_in(groups.having(sa.not_(condition)))
        return self.customers.c.id.in_(groups.having(condition))

    def in_segment(self, node: InSegment) -> sa.ColumnElement[bool]:
        cs, s = CustomerSegment.__table__, Segment.__table__
        members = (
            sa.select(cs.c.customer_id)
            .join(s, s.c.id == cs.c.segment_id)
            .where(self.one_of(s.c.name, Kind.TEXT, tuple(node.names)), cs.c.exited_at.is_(None))
        )
        return self.customers.c.id.in_(members)


_TYPES: dict[Kind, sa.types.TypeEngine] = {
    Kind.DATE: sa.Date(),
    Kind.DATETIME: UTCDateTime(),
    Kind.TEXT: sa.String(),
    Kind.ENUM: sa.String(),
    Kind.BOOL: sa.Boolean(),
}


# Element types of the arrays `in` and `not_in` send to Postgres.
_ARRAY_TYPES: dict[Kind, sa.types.TypeEngine] = {
    Kind.NUMBER: sa.Numeric(),
    Kind.INTEGER: sa.Numeric(),
    Kind.DATE: sa.Date(),
    Kind.TEXT: sa.Text(),
    Kind.ENUM: sa.Text(),
}


def _array_values(values: tuple, kind: Kind) -> list:
    if kind in (Kind.NUMBER, Kind.INTEGER):
        # One element type for the whole array: psycopg will not mix ints and floats.
        return [
            v if isinstance(v, Decimal) else Decimal(repr(v) if isinstance(v, float) else v) for v in values
        ]
    return list(values)


def _json_values(values: tuple) -> list:
    out = []
    for v in values:
        if isinstance(v, Decimal):
            v = int(v) if v == v.to_integral_value() else float(v)
        elif isinstance(v, dt.date):
            v = v.isoformat()  # SQLite keeps dates as ISO text
        out.append(v)
    return out


def _lower(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_lower(v) for v in value)
    return value.lower() if isinstance(value, str) else value


def _as_date(value: Any) -> Any:
    if isinstance(value, dt.date):
        return sa.bindparam(None, value, type_=sa.Date())
    return value


def _holds_at_zero(op: str, value: Any) -> bool:
    if op in _COMPARE:
        return _COMPARE[op](0, value)
    if op == "between":
        return value[0] <= 0 <= value[1]
    if op == "in":
        return 0 in value
    if op == "not_in":
        return 0 not in value
    raise ValueError(op)
