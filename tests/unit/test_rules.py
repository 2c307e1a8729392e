"""The rule language on both dialects: every operator and field kind against
a small book with known answers; hostile values stay data; and a property
test over generated rule documents checks that no value reaches SQL text."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, CustomerSegment, HealthOverride, Segment, UsageEvent
from cs_cli.domain import HealthStatus, SegmentType
from cs_cli.rules import RuleError, compile_rule, parse
from cs_cli.rules.fields import FIELDS, OPERATORS_BY_KIND, Kind

AS_OF = dt.date(2025, 1, 10)
ALL = {"E-1", "E-2", "E-3", "M-1", "W-1", "W-2", "U-1"}


def _at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF, dt.time(12), tzinfo=dt.UTC) - dt.timedelta(days=days_ago)


@pytest.fixture
def ruled_book(engine, book):
    """The small book plus attributes, contract starts, usage, an override
    (W-1's critical 30 read as 70, healthy) and a static segment 'Big'."""
    with transaction(engine) as s:
        ids = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        e1, e3, w1, m1 = (s.get(Customer, ids[k]) for k in ("E-1", "E-3", "W-1", "M-1"))
        e3.attributes = {
            "tier": "silver",
            "employees": 1200,
            "integrations": ["jira"],
            "last_qbr": "2025-01-05",
        }
        w1.attributes = {
            "employees": "many",
            "note": 'it\'s "quoted"; DROP TABLE customers',
            "last_qbr": "2024-06-01T10:00:00",
        }
        e1.contract_start = dt.date(2023, 1, 10)
        m1.contract_start = dt.date(2024, 12, 1)
        events = [(ids["E-1"], "reports", d) for d in range(10)]
        events += [(ids["E-1"], "export", d) for d in (1, 2, 3)]
        events += [(ids["M-1"], "reports", d) for d in (5, 5, 60, 61, 62, 63, 64)]
        s.execute(
            sa.insert(UsageEvent),
            [
                {"customer_id": c, "event_name": n, "occurred_at": _at(d), "quantity": 2.0}
                for c, n, d in events
            ],
        )
        s.add(
            HealthOverride(
                customer_id=ids["W-1"],
                overall_score=70,
                health_status=HealthStatus.HEALTHY,
                reason="exec call went well",
                expires_on=AS_OF + dt.timedelta(days=5),
                set_by="mia",
            )
        )
        big = Segment(name="Big", segment_type=SegmentType.STATIC)
        s.add(big)
        s.flush()
        s.add_all(
            [
                CustomerSegment(customer_id=ids["E-3"], segment_id=big.id, entered_at=_at(3)),
                CustomerSegment(customer_id=ids["W-2"], segment_id=big.id, entered_at=_at(3)),
                CustomerSegment(
                    customer_id=ids["E-1"], segment_id=big.id, entered_at=_at(9), exited_at=_at(4)
                ),
            ]
        )
    return ids


def _matching(engine, document, as_of=AS_OF) -> set[str]:
    compiled = compile_rule(parse(document), dialect=engine.dialect.name, as_of=as_of)
    with engine.connect() as conn:
        stmt = sa.select(Customer.external_id).where(Customer.id.in_(compiled.customer_ids()))
        return set(conn.scalars(stmt))


CASES = [
    # numbers, with NULL ARR (U-1) matched only by ne / not_in / is_null
    ({"arr": {"gte": 100000}}, {"E-1", "E-3", "W-2"}),
    ({"arr": {"lt": 50000}}, {"E-2"}),
    ({"arr": {"lte": 50000}}, {"E-2", "W-1"}),
    ({"arr": {"gt": 300000}}, {"W-2"}),
    ({"arr": 75000}, {"M-1"}),
    ({"arr": {"ne": 30000}}, ALL - {"E-2"}),
    ({"arr": {"between": [50000, 120000]}}, {"E-1", "M-1", "W-1"}),
    ({"arr": {"in": [30000, 75000]}}, {"E-2", "M-1"}),
    ({"arr": {"not_in": [30000, 75000]}}, ALL - {"E-2", "M-1"}),
    ({"arr": {"is_null": True}}, {"U-1"}),
    ({"arr": {"exists": True}}, ALL - {"U-1"}),
    ({"seats": {"gte": 250, "lt": 2000}}, {"E-1", "E-3"}),
    # text and enums
    ({"plan": "enterprise"}, {"E-1", "E-3", "W-2"}),
    ({"plan": ["pro"]}, {"E-2", "M-1", "W-1"}),
    ({"name": {"contains": "ALPHA"}}, {"E-1"}),
    ({"name": {"starts_with": "d"}}, {"W-1"}),
    ({"name": {"contains": "%"}}, set()),
    ({"name": {"lt": "C"}}, {"E-1", "E-2"}),
    ({"industry": {"is_null": False}}, {"E-1"}),
    ({"status": "churned"}, {"E-2"}),
    ({"csm": "ANA@example.com"}, {"E-1", "E-2", "E-3"}),
    ({"csm": {"in": ["bo@example.com"]}}, {"W-1", "W-2"}),
    ({"team": "West"}, {"W-1", "W-2"}),
    ({"team": {"ne": "West"}}, ALL - {"W-1", "W-2"}),
    # health: an override in force wins (W-1 reads 70, healthy)
    ({"health_score": {"lt": 50}}, {"M-1"}),
    ({"overall_score": {"gte": 70}}, {"E-1", "W-1"}),
    ({"health_status": {"in": ["at_risk", "critical"]}}, {"M-1"}),
    ({"health_status": "healthy"}, {"E-1", "W-1"}),
    ({"not": {"health_score": {"lt": 50}}}, ALL - {"M-1"}),
    ({"health_score": {"is_null": True}}, {"E-2", "E-3", "W-2", "U-1"}),
    # dates, relative to the as-of day 2025-01-10
    ({"renewal_date": {"within_next_days": 30}}, {"E-1", "M-1", "W-1"}),
    ({"renewal_date": {"within_next_days": 10}}, {"M-1"}),
    ({"renewal_date": {"older_than_days": 30}}, {"E-2"}),
    ({"renewal_date": {"older_than_days": 45}}, set()),
    ({"renewal_date": {"within_last_days": 60}}, {"E-2"}),
    ({"renewal_date": {"lt": "2025-01-21"}}, {"E-2", "M-1"}),
    ({"renewal_date": {"between": ["2025-01-20", "2025-02-01"]}}, {"E-1", "M-1", "W-1"}),
    ({"renewal_date": {"is_null": True}}, {"W-2", "U-1"}),
    ({"churned_at": {"within_last_days": 60}}, {"E-2"}),
    ({"churned_at": {"gte": "2024-12-02"}}, {"E-2"}),
    ({"churned_at": {"gte": "2024-12-03"}}, set()),
    # a plain date against a date and time is that whole day (E-2 churned 2024-12-02 09:00)
    ({"churned_at": {"eq": "2024-12-02"}}, {"E-2"}),
    ({"churned_at": {"lte": "2024-12-02"}}, {"E-2"}),
    ({"churned_at": {"between": ["2024-12-02", "2024-12-02"]}}, {"E-2"}),
    ({"churned_at": {"gt": "2024-12-02"}}, set()),
    ({"churned_at": {"ne": "2024-12-02"}}, ALL - {"E-2"}),
    ({"churned_at": {"lt": "2024-12-02T10:00:00+00:00"}}, {"E-2"}),
    ({"churned_at": {"lt": "2024-12-02T08:00:00+00:00"}}, set()),
    # the last N days are today and the N-1 before; older is before those
    ({"contract_start": {"within_last_days": 41}}, {"M-1"}),
    ({"contract_start": {"within_last_days": 40}}, set()),
    ({"contract_start": {"older_than_days": 40}}, {"E-1", "M-1"}),
    ({"contract_start": {"older_than_days": 41}}, {"E-1"}),
    # derived
    ({"days_to_renewal": {"lte": 15}}, {"E-2", "M-1", "W-1"}),
    ({"days_to_renewal": {"lt": 0}}, {"E-2"}),
    ({"tenure_days": {"gte": 365}}, {"E-1"}),
    ({"tenure_days": {"lt": 365}}, {"M-1"}),
    # attributes, typed by the value compared with; odd values never fail
    ({"attributes.tier": "gold"}, {"E-1"}),
    ({"attributes.tier": {"ne": "gold"}}, ALL - {"E-1"}),
    ({"attributes.tier": {"in": ["gold", "silver"]}}, {"E-1", "E-3"}),
    ({"attributes.tier": {"starts_with": "SIL"}}, {"E-3"}),
    ({"attributes.sso": True}, {"E-1"}),
    ({"attributes.sso": {"ne": True}}, ALL - {"E-1"}),
    ({"attributes.employees": {"gt": 1000}}, {"E-3"}),
    ({"attributes.employees": "many"}, {"W-1"}),
    ({"attributes.integrations": {"contains": "jira"}}, {"E-1", "E-3"}),
    ({"attributes.integrations": {"contains": "slack"}}, {"E-1"}),
    ({"attributes.note": {"contains": "drop table"}}, {"W-1"}),
    ({"attributes.tier": {"exists": True}}, {"E-1", "E-3"}),
    ({"attributes.missing.deeper": {"exists": False}}, ALL),
    ({"attributes.last_qbr": {"within_last_days": 30}}, {"E-3"}),
    ({"attributes.last_qbr": {"older_than_days": 30}}, {"W-1"}),
    ({"attributes.last_qbr": {"gte": "2025-01-01"}}, {"E-3"}),
    ({"not": {"attributes.integrations": {"contains": "slack"}}}, ALL - {"E-1"}),
    # usage aggregates over a window
    ({"usage": {"feature": "reports", "last_days": 30, "gte": 5}}, {"E-1"}),
    ({"usage": {"last_days": 30, "gte": 1}}, {"E-1", "M-1"}),
    ({"usage": {"last_days": 30, "lt": 3}}, ALL - {"E-1"}),
    ({"usage": {"last_days": 30, "eq": 0}}, ALL - {"E-1", "M-1"}),
    ({"usage": {"last_days": 90, "measure": "active_days", "gte": 5}}, {"E-1", "M-1"}),
    ({"usage": {"last_days": 90, "measure": "active_days", "between": [5, 6]}}, {"M-1"}),
    ({"usage": {"feature": "export", "last_days": 7, "measure": "quantity", "gte": 6}}, {"E-1"}),
    ({"usage": {"last_days": 1, "gte": 1}}, {"E-1"}),
    # membership and groups
    ({"in_segment": "Big"}, {"E-3", "W-2"}),
    ({"not": {"in_segment": ["Big"]}}, ALL - {"E-3", "W-2"}),
    ({"any": [{"plan": "pro"}, {"arr": {"gte": 400000}}]}, {"E-2", "M-1", "W-1", "W-2"}),
    ({"plan": "pro", "status": "active"}, {"M-1", "W-1"}),
    (
        {"all": [{"plan": "enterprise"}, {"not": {"any": [{"in_segment": "Big"}, {"arr": {"lt": 1}}]}}]},
        {"E-1"},
    ),
]


def test_every_operator_and_field_kind_selects_the_right_customers(engine, ruled_book):
    failures = []
    for document, expected in CASES:
        got = _matching(engine, document)
        if got != expected:
            failures.append(f"{document}: expected {sorted(expected)}, got {sorted(got)}")
    assert not failures, "\n".join(failures)


def test_one_scan_of_many_rules_agrees_with_each_rule_alone(engine, ruled_book):
    """Segment refresh evaluates all rules over one source, with usage read
    from one shared pass over the events; the answers must not change."""
    from cs_cli.rules.compile import compile_rules, usage_facts, usage_keys

    nodes = [parse(document) for document, _ in CASES]
    keys = set().union(*(usage_keys(n) for n in nodes))
    facts, select = usage_facts(keys, dialect=engine.dialect.name, as_of=AS_OF)
    source, conditions = compile_rules(nodes, dialect=engine.dialect.name, as_of=AS_OF, facts=facts)
    with engine.begin() as conn:
        facts.table.create(conn)
        conn.execute(sa.insert(facts.table).from_select([c.name for c in facts.table.c], select))
        for (document, expected), condition in zip(CASES, conditions, strict=True):
            got = set(conn.scalars(sa.select(Customer.external_id).select_from(source).where(condition)))
            assert got == expected, document
        facts.table.drop(conn)


HOSTILE = [
    "'; DROP TABLE customers; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM api_users;--",
    "%_\\",
    "\x1b[31m\u202e",
    "ünï' || (SELECT 1) || 'cödé",
]


def test_hostile_values_stay_data(engine, ruled_book):
    for value in HOSTILE:
        for document in (
            {"name": value},
            {"name": {"contains": value}},
            {"plan": {"in": [value, value * 2]}},
            {"attributes.tier": value},
            {"attributes.integrations": {"contains": value}},
            {"in_segment": value},
            {"usage": {"feature": value, "last_days": 30, "gte": 1}},
            {"csm": {"starts_with": value}},
        ):
            assert _matching(engine, document) == set(), document
    huge = [f"name {i}'; --" for i in range(5_000)] + ["Alpha Analytics"]
    assert _matching(engine, {"name": {"in": huge}}) == {"E-1"}
    assert _matching(engine, {"name": {"not_in": huge}}) == ALL - {"E-1"}
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Customer)) == 7


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"arr": {"gte": "lots"}}, "arr.gte: arr is a number; 'lots' is not"),
        (
            {"all": [{"arr": 1}, {"renewal_date": {"lt": "soon"}}]},
            "all[1].renewal_date.lt: renewal_date is a date",
        ),
        ({"helth_score": {"lt": 5}}, "unknown field 'helth_score' (did you mean 'health_score'?)"),
        (
            {"health_status": "ok"},
            f"health_status is one of {', '.join(HealthStatus)}; not 'ok'",
        ),
        ({"arr": {"lt": 1, "near": 2}}, "arr.near: unknown operator 'near'"),
        (
            {"plan": {"within_last_days": 3}},
            "plan.within_last_days: 'within_last_days' does not apply to plan (text)",
        ),
        ({"renewal_date": {"contains": "2025"}}, "'contains' does not apply to renewal_date (date)"),
        ({"arr": {"between": [10, 1]}}, "arr.between: 'between' needs low <= high"),
        ({"arr": {"in": []}}, "arr.in: 'in' takes a non-empty list"),
        ({"arr": {"in": list(range(10_001))}}, "at most 10,000 values"),
        ({"arr": None}, "null is not a value to compare with; use is_null: true"),
        ({"arr": True}, "arr is a number; True is not"),
        ({"any": []}, "any: 'any' takes a non-empty list of rules"),
        ({"not": [1]}, "not: 'not' takes one rule (a mapping)"),
        ({"attributes.a'b": 1}, "attribute names are letters, digits"),
        ({"attributes.flag": {"gt": True}}, "'gt' does not compare true/false"),
        ({"usage": {"gte": 1}}, "usage needs last_days"),
        ({"usage": {"last_days": 30, "measure": "clicks", "gte": 1}}, "measure is one of events, quantity"),
        ({"usage": {"last_days": 30, "gte": 1, "lt": 5}}, "usage takes exactly one comparison"),
        ({"renewal_date": {"within_next_days": -1}}, "a number of days, 0 to 36500"),
        ({"renewal_date": {"within_last_days": 0}}, "a number of days, 1 to 36500"),
        ({"seats": {"eq": 10**23}}, "seats.eq: 100000000000000000000000 is out of range"),
        ({"arr": {"lt": float("inf")}}, "arr.lt: inf is not a number to compare with"),
        ({"usage": {"last_days": 3, "gte": float("nan")}}, "usage.gte: nan is not a number"),
        ([{"arr": 1}], "a rule is a non-empty mapping"),
        ({}, "a rule is a non-empty mapping"),
        ({"name": "a\x00b"}, "name: text cannot contain a NUL character"),
        ({"plan": {"in": ["ok", "\ud800"]}}, "plan.in[1]: text is not valid Unicode"),
        (
            {"usage": {"feature": "\x00", "last_days": 1, "gte": 1}},
            "usage.feature: text cannot contain a NUL",
        ),
    ],
)
def test_bad_rules_are_refused_with_their_path(document, message):
    with pytest.raises(RuleError) as error:
        parse(document)
    assert message in str(error.value)


# -- the property: no user-supplied value ever appears in SQL text

MARK = "QX7"
_texts = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=0, max_size=12
).map(lambda t: f"{MARK}{t}")
_numbers = st.integers(min_value=100_000_001, max_value=999_999_999)
_dates = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 12, 31))
_keys = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,8}", fullmatch=True).map(lambda k: f"{MARK}{k}")


def _value_for(kind: Kind, field):
    if kind in (Kind.NUMBER, Kind.INTEGER):
        return _numbers
    if kind == Kind.ENUM:
        return st.sampled_from(field.values)
    if kind in (Kind.DATE, Kind.DATETIME):
        return _dates.map(dt.date.isoformat)
    return _texts


@st.composite
def _condition(draw):
    if draw(st.integers(0, 9)) == 0:
        return {
            "usage": {"feature": draw(_texts), "last_days": draw(st.integers(1, 400)), "gte": draw(_numbers)}
        }
    if draw(st.integers(0, 9)) == 0:
        return {"in_segment": draw(st.lists(_texts, min_size=1, max_size=3))}
    if draw(st.booleans()):
        field = draw(st.sampled_from(list(FIELDS.values())))
        name, kind = field.name, field.kind
        ops = OPERATORS_BY_KIND[kind]
    else:
        field, name = None, "attributes." + ".".join(draw(st.lists(_keys, min_size=1, max_size=3)))
        kind = draw(st.sampled_from([Kind.NUMBER, Kind.TEXT]))
        ops = ("eq", "ne", "lt", "gte", "in", "not_in", "contains", "exists")
        if kind == Kind.NUMBER:
            ops = ("eq", "ne", "lt", "gte", "in", "not_in", "exists")
    op = draw(st.sampled_from(ops))
    value_of = _value_for(kind, field)
    if op in ("exists", "is_null"):
        value = draw(st.booleans())
    elif op in ("within_last_days", "older_than_days", "within_next_days"):
        value = draw(st.integers(1, 5000))
    elif op in ("in", "not_in"):
        value = draw(st.lists(value_of, min_size=1, max_size=4))
    elif op == "between":
        value = sorted(draw(st.lists(value_of, min_size=2, max_size=2)))
    else:
        value = draw(value_of)
        if op in ("contains", "starts_with") and not value:
            value = MARK
    return {name: {op: value}}


_documents = st.recursive(
    _condition(),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"all": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"any": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"not": inner}),
    ),
    max_leaves=6,
)


def _is_iso_day(text: str) -> bool:
    return len(text) == 10 and text[4] == "-"


def _literals(document) -> set[str]:
    """Every value and key the document carries, as it could appear in SQL."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.startswith("attributes."):
                    found.update(key.split(".")[1:])
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and (node.startswith(MARK) or _is_iso_day(node)):
            found.add(node)
        elif isinstance(node, int) and not isinstance(node, bool) and node > 100_000_000:
            found.add(str(node))

    walk(document)
    return found


def _assert_no_value_reaches_the_sql_text(document) -> None:
    node = parse(document)
    literals = _literals(document)
    for name, dialect in (("postgresql", postgresql.dialect()), ("sqlite", sqlite.dialect())):
        compiled = compile_rule(node, dialect=name, as_of=AS_OF)
        sql = str(compiled.customer_ids().compile(dialect=dialect))
        assert MARK not in sql, sql
        for literal in literals:
            assert literal not in sql, (literal, sql)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_no_value_of_a_generated_rule_reaches_the_sql_text(document):
    _assert_no_value_reaches_the_sql_text(document)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_no_value_of_many_generated_rules_reaches_the_sql_text(document):
    """The same property over many more documents (pytest -m slow)."""
    _assert_no_value_reaches_the_sql_text(document)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=_documents)
def test_generated_rules_run_on_the_database(engine, ruled_book, document):
    """Any valid document runs: no type errors, no invalid SQL, on both dialects."""
    assert _matching(engine, document) <= ALL
