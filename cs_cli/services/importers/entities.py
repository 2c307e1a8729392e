"""What each importable entity looks like in a file: its fields, their types,
which field is the upsert key and which fields refer to other rows.

In files, `customer_id` and `contact_id` hold the *source system's* ids (our
external ids), and people are named by email; the importer resolves them to
database ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cs_cli.db.models import (
    Contact,
    Customer,
    Invoice,
    NpsResponse,
    SupportTicket,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import (
    Channel,
    CustomerStatus,
    Direction,
    Role,
    Sentiment,
    TicketPriority,
    TicketStatus,
    TouchpointType,
)
from cs_cli.services.importers import values as v


@dataclass(frozen=True)
class Ref:
    """A field naming another row by its natural key; resolved to its id."""

    model: Any
    key: str  # the natural key column of the referenced table
    column: str  # the id column it fills on this table
    what: str  # for messages: "customer", "contact", "user"


@dataclass(frozen=True)
class Field:
    name: str
    convert: v.Converter
    required: bool = False
    ref: Ref | None = None

    @property
    def column(self) -> str:
        return self.ref.column if self.ref else self.name


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: Any
    fields: tuple[Field, ...]
    key: str | None  # upsert key; None: append-only (events)
    extra_to_attributes: bool = False
    aliases: dict[str, str] = field(default_factory=dict)
    help: str = ""

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


CUSTOMER_REF = Ref(Customer, "external_id", "customer_id", "customer")
CONTACT_REF = Ref(Contact, "external_id", "contact_id", "contact")
_COMMON_ALIASES = {"customer_external_id": "customer_id", "contact_external_id": "contact_id"}

CUSTOMERS = EntitySpec(
    name="customers",
    model=Customer,
    key="external_id",
    extra_to_attributes=True,
    aliases={"id": "external_id", "customer_id": "external_id", "csm": "csm_email"},
    help="accounts; columns not listed here are kept as typed attributes",
    fields=(
        Field("external_id", v.text(100), required=True),
        Field("name", v.text(200)),
        Field("arr", v.money),
        Field("plan", v.text(100)),
        Field("seats", v.integer(0)),
        Field("industry", v.text(100)),
        Field("region", v.text(100)),
        Field("timezone", v.text(64)),
        Field("contract_start", v.date),
        Field("renewal_date", v.date),
        Field("status", v.choice(CustomerStatus)),
        Field("churned_at", v.datetime),
        Field("csm_email", v.email, ref=Ref(User, "email", "csm_id", "user")),
    ),
)

CONTACTS = EntitySpec(
    name="contacts",
    model=Contact,
    key="external_id",
    aliases={"id": "external_id"},
    help="people at customers; champions and executive sponsors",
    fields=(
        Field("external_id", v.text(100), required=True),
        Field("customer_id", v.text(100), required=True, ref=CUSTOMER_REF),
        Field("name", v.text(200)),
        Field("email", v.email),
        Field("title", v.text(200)),
        Field("role", v.text(100)),
        Field("is_champion", v.boolean),
        Field("is_exec_sponsor", v.boolean),
        Field("left_at", v.datetime),
        Field("timezone", v.text(64)),
    ),
)

USERS = EntitySpec(
    name="users",
    model=User,
    key="email",
    aliases={"manager": "manager_email"},
    help="your team: CSMs, managers and admins, with team and manager",
    fields=(
        Field("email", v.email, required=True),
        Field("name", v.text(200)),
        Field("login", v.text(100)),
        Field("role", v.choice(Role)),
        Field("team", v.text(100)),
        # Resolved after the file is written: a manager may appear later in the same file.
        Field("manager_email", v.email),
        Field("is_active", v.boolean),
        Field("timezone", v.text(64)),
    ),
)

EVENTS = EntitySpec(
    name="events",
    model=UsageEvent,
    key=None,
    aliases={"event": "event_name", "feature": "event_name", "timestamp": "occurred_at"},
    help="product usage: one row per event (or per aggregated count in 'quantity')",
    fields=(
        Field("customer_id", v.text(100), required=True, ref=CUSTOMER_REF),
        Field("contact_id", v.text(100), ref=CONTACT_REF),
        Field("event_name", v.text(100), required=True),
        Field("occurred_at", v.datetime, required=True),
        Field("quantity", v.number(0)),
    ),
)

TOUCHPOINTS = EntitySpec(
    name="touchpoints",
    model=Touchpoint,
    key="external_id",
    aliases={"id": "external_id", "type": "touchpoint_type", "user": "user_email"},
    help="calls, meetings, emails and other interactions",
    fields=(
        Field("external_id", v.text(100), required=True),
        Field("customer_id", v.text(100), required=True, ref=CUSTOMER_REF),
        Field("touchpoint_type", v.choice(TouchpointType), required=True),
        Field("occurred_at", v.datetime, required=True),
        Field("subject", v.text(255)),
        Field("description", v.long_text),
        Field("direction", v.choice(Direction)),
        Field("channel", v.choice(Channel)),
        Field("contact_id", v.text(100), ref=CONTACT_REF),
        Field("user_email", v.email, ref=Ref(User, "email", "user_id", "user")),
        Field("sentiment_score", v.number(-1.0, 1.0)),
        Field("sentiment_label", v.choice(Sentiment)),
        Field("key_topics", v.string_list),
        Field("duration_minutes", v.integer(0)),
        Field("recording_url", v.text(500)),
    ),
)

TICKETS = EntitySpec(
    name="tickets",
    model=SupportTicket,
    key="external_id",
    aliases={"id": "external_id"},
    help="support desk tickets, with escalations and satisfaction",
    fields=(
        Field("external_id", v.text(100), required=True),
        Field("customer_id", v.text(100), required=True, ref=CUSTOMER_REF),
        Field("opened_at", v.datetime, required=True),
        Field("contact_id", v.text(100), ref=CONTACT_REF),
        Field("subject", v.text(500)),
        Field("description", v.long_text),
        Field("priority", v.choice(TicketPriority)),
        Field("status", v.choice(TicketStatus)),
        Field("closed_at", v.datetime),
        Field("escalated", v.boolean),
        Field("escalated_at", v.datetime),
        Field("satisfaction", v.integer(1, 5)),
        Field("sentiment_score", v.number(-1.0, 1.0)),
        Field("sentiment_label", v.choice(Sentiment)),
        Field("key_topics", v.string_list),
    ),
)

INVOICES = EntitySpec(
    name="invoices",
    model=Invoice,
    key="external_id",
    aliases={"id": "external_id"},
    help="billing: amount, due date and when it was paid",
    fields=(
        Field("external_id", v.text(100), required=True),
        Field("customer_id", v.text(100), required=True, ref=CUSTOMER_REF),
        Field("amount", v.money, required=True),
        Field("issued_on", v.date, required=True),
        Field("due_on", v.date, required=True),
        Field("paid_on", v.date),
        Field("currency", v.text(3)),
    ),
)

NPS = EntitySpec(
    name="nps",
    model=NpsResponse,
    key="external_id",
    aliases={"id": "external_id"},
    help="NPS survey responses (0-10) with comments",
    fields=(
        Field("external_id", v.text(100), required=True),
        Field("customer_id", v.text(100), required=True, ref=CUSTOMER_REF),
        Field("score", v.integer(0, 10), required=True),
        Field("responded_at", v.datetime, required=True),
        Field("contact_id", v.text(100), ref=CONTACT_REF),
        Field("comment", v.long_text),
    ),
)


def _with_common_aliases(spec: EntitySpec) -> EntitySpec:
    """Accept `customer_external_id` / `contact_external_id` wherever the
    entity has the field they name."""
    common = {alias: target for alias, target in _COMMON_ALIASES.items() if spec.field(target) is not None}
    return EntitySpec(**{**spec.__dict__, "aliases": {**common, **spec.aliases}})


ENTITIES: dict[str, EntitySpec] = {
    spec.name: _with_common_aliases(spec)
    for spec in (CUSTOMERS, CONTACTS, USERS, EVENTS, TOUCHPOINTS, TICKETS, INVOICES, NPS)
}
