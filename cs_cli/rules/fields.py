"""The fields a rule may name: an allow-list, each with its kind (which
operators and values it takes) and where its value comes from. Nothing
outside this list can reach SQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cs_cli.domain import CustomerStatus, HealthStatus, ScoreTrend


class Kind(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    ENUM = "enum"
    TOPICS = "topics"  # a list of key topics; `contains` matches one of them


class Source(StrEnum):
    """Where a field's value lives; the compiler joins only what a rule uses."""

    CUSTOMER = "customer"
    HEALTH = "health"
    OVERRIDE = "override"  # health score and status: an override in force wins
    CSM = "csm"
    TEAM = "team"
    DERIVED = "derived"
    USAGE = "usage"  # a table of usage aggregates computed once for many rules
    TOPICS = "topics"  # key topics of the customer's recent touchpoints and tickets


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    source: Source
    column: str
    help: str
    values: tuple[str, ...] = ()  # an enum's allowed values


def _enum(e: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in e)


_FIELDS = [
    # The customer record.
    Field("external_id", Kind.TEXT, Source.CUSTOMER, "external_id", "the id in your CRM"),
    Field("name", Kind.TEXT, Source.CUSTOMER, "name", "account name"),
    Field("arr", Kind.NUMBER, Source.CUSTOMER, "arr", "annual recurring revenue"),
    Field("plan", Kind.TEXT, Source.CUSTOMER, "plan", "plan or tier"),
    Field("seats", Kind.INTEGER, Source.CUSTOMER, "seats", "licensed seats"),
    Field("industry", Kind.TEXT, Source.CUSTOMER, "industry", "industry"),
    Field("region", Kind.TEXT, Source.CUSTOMER, "region", "region"),
    Field("timezone", Kind.TEXT, Source.CUSTOMER, "timezone", "IANA time zone"),
    Field("contract_start", Kind.DATE, Source.CUSTOMER, "contract_start", "first contract day"),
    Field("renewal_date", Kind.DATE, Source.CUSTOMER, "renewal_date", "next renewal day"),
    Field("status", Kind.ENUM, Source.CUSTOMER, "status", "active or churned", _enum(CustomerStatus)),
    Field("churned_at", Kind.DATETIME, Source.CUSTOMER, "churned_at", "when the customer churned"),
    Field("created_at", Kind.DATETIME, Source.CUSTOMER, "created_at", "when the customer was added"),
    Field("csm", Kind.TEXT, Source.CSM, "email", "the owning CSM's email"),
    Field("team", Kind.TEXT, Source.TEAM, "name", "the owning CSM's team"),
    # The current health score (empty until `cs recalc` has run).
    Field("health_score", Kind.INTEGER, Source.OVERRIDE, "overall_score", "overall health, 0-100"),
    Field(
        "health_status",
        Kind.ENUM,
        Source.OVERRIDE,
        "health_status",
        "healthy, at_risk, critical, churned, onboarding, insufficient_data",
        _enum(HealthStatus),
    ),
    Field("adoption_score", Kind.INTEGER, Source.HEALTH, "product_adoption_score", "adoption component"),
    Field("engagement_score", Kind.INTEGER, Source.HEALTH, "engagement_score", "engagement component"),
    Field("relationship_score", Kind.INTEGER, Source.HEALTH, "relationship_score", "relationship component"),
    Field("financial_score", Kind.INTEGER, Source.HEALTH, "financial_score", "financial component"),
    Field("support_score", Kind.INTEGER, Source.HEALTH, "support_score", "support component"),
    Field(
        "score_trend",
        Kind.ENUM,
        Source.HEALTH,
        "score_trend",
        "improving, stable, declining",
        _enum(ScoreTrend),
    ),
    Field("score_change_30d", Kind.INTEGER, Source.HEALTH, "score_change_30d", "points gained in 30 days"),
    Field("churn_probability", Kind.NUMBER, Source.HEALTH, "churn_probability", "0.0-1.0, from the model"),
    Field(
        "expansion_probability",
        Kind.NUMBER,
        Source.HEALTH,
        "expansion_probability",
        "0.0-1.0, from the model",
    ),
    Field(
        "nps_predicted", Kind.INTEGER, Source.HEALTH, "nps_predicted", "0-10, the next NPS response expected"
    ),
    # Derived from the record and the day the rule is evaluated on.
    Field("days_to_renewal", Kind.INTEGER, Source.DERIVED, "days_to_renewal", "renewal_date minus today"),
    Field(
        "days_since_last_login",
        Kind.INTEGER,
        Source.DERIVED,
        "days_since_last_login",
        "days since the last usage event (as of the last recalc, counted on to today)",
    ),
    Field("tenure_days", Kind.INTEGER, Source.DERIVED, "tenure_days", "today minus contract_start"),
    # What the customer's touchpoints and tickets were about (docs/text.md).
    Field(
        "key_topics",
        Kind.TOPICS,
        Source.TOPICS,
        "key_topics",
        "key topics of touchpoints and tickets of the last 90 days (contains: part of a topic)",
    ),
]

# The plan's own spelling and the column names are accepted too.
ALIASES = {
    "overall_score": "health_score",
    "product_adoption_score": "adoption_score",
    "customer_status": "status",
    "csm_email": "csm",
}

FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}

OPERATORS_BY_KIND: dict[Kind, tuple[str, ...]] = {
    Kind.NUMBER: ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in", "exists", "is_null"),
    Kind.TEXT: (
        "eq",
        "ne",
        "lt",
        "lte",
        "gt",
        "gte",
        "between",
        "in",
        "not_in",
        "contains",
        "starts_with",
        "exists",
        "is_null",
    ),
    Kind.ENUM: ("eq", "ne", "in", "not_in", "exists", "is_null"),
    Kind.BOOL: ("eq", "ne", "exists", "is_null"),
    Kind.DATE: (
        "eq",
        "ne",
        "lt",
        "lte",
        "gt",
        "gte",
        "between",
        "exists",
        "is_null",
        "within_last_days",
        "older_than_days",
        "within_next_days",
    ),
}
OPERATORS_BY_KIND[Kind.TOPICS] = ("contains",)
OPERATORS_BY_KIND[Kind.INTEGER] = OPERATORS_BY_KIND[Kind.NUMBER]
OPERATORS_BY_KIND[Kind.DATETIME] = OPERATORS_BY_KIND[Kind.DATE]

OPERATORS = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "between",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "exists",
    "is_null",
    "within_last_days",
    "older_than_days",
    "within_next_days",
)

# Usage aggregates: `usage: {feature: NAME, last_days: N, measure: M, <op>: V}`.
USAGE_MEASURES = {
    "events": "usage events in the window",
    "quantity": "sum of the events' quantity",
    "active_days": "distinct days with an event",
    "active_users": "distinct contacts with an event",
}
USAGE_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in")

# An attribute key: letters, digits, _ and -; dots separate nested keys.
ATTRIBUTE_KEY = r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}"
