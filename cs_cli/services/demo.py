"""The demo book of business: teams, customers, contacts and a history of usage,
support, billing, surveys, touchpoints and tasks, shaped like a real book.

Everything is a function of the seed and `as_of`: the same pair writes the same
rows (ids aside). About 70% of accounts trend healthy, 20% are at risk and 10%
have churned or are heading there, and their activity tells that story.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import Base
from cs_cli.db.models import (
    Contact,
    CSTask,
    Customer,
    Invoice,
    NpsResponse,
    SupportTicket,
    Team,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import (
    Actor,
    Channel,
    CustomerStatus,
    Direction,
    Priority,
    Role,
    Sentiment,
    TaskOutcome,
    TaskStatus,
    TaskType,
    TicketPriority,
    TicketStatus,
    TouchpointType,
)
from cs_cli.errors import BadInput
from cs_cli.services.access import require_role

MAX_CUSTOMERS = 200_000
MAX_MONTHS = 60
DEMO_DOMAIN = "demo.example"
_BATCH = 10_000

# (phase, done, total): called as the load advances; the CLI draws it.
Progress = Callable[[str, int, int], None]

HEALTHY, AT_RISK, CHURN_BOUND, CHURNED = "healthy", "at_risk", "churn_bound", "churned"
_SIGNALS = ("usage_decline", "champion_left", "support_trouble", "late_payment", "low_nps")


@dataclass(frozen=True)
class DemoSummary:
    """What `load_demo` wrote."""

    counts: dict[str, int]  # table name -> rows written
    customers: int
    churned: int
    at_risk: int  # active accounts at risk, including those heading to churn
    renewing_within_90: int
    largest_at_risk: str | None  # external id of the at-risk account with the most ARR
    sample_csm: str | None  # login of that account's CSM
    deleted_rows: int
    seed: int
    months: int
    as_of: dt.date


def load_demo(
    session: Session,
    actor: Actor,
    *,
    customers: int = 200,
    months: int = 12,
    seed: int = 42,
    as_of: dt.date,
    reset: bool = False,
    progress: Progress | None = None,
) -> DemoSummary:
    """Write a demo book of business (admins only). Refuses when customers exist,
    unless `reset`, which first deletes every row but the acting user's."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise BadInput(f"--customers must be between 1 and {MAX_CUSTOMERS:,}, not {customers}")
    if not 1 <= months <= MAX_MONTHS:
        raise BadInput(f"--months must be between 1 and {MAX_MONTHS}, not {months}")
    require_role(actor, Role.ADMIN, doing="loading the demo")

    deleted = 0
    if reset:
        deleted = _wipe(session, actor)
    else:
        existing = session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0
        if existing:
            noun = "customer" if existing == 1 else "customers"
            raise BadInput(
                f"the database already has {existing:,} {noun}; "
                "pass --reset to delete all data and load the demo instead"
            )

    taken = session.execute(sa.select(User.login, User.email)).all()
    book = _Book(
        seed=seed,
        n=customers,
        months=months,
        as_of=as_of,
        taken_logins={login for login, _ in taken if login},
        taken_emails={email.lower() for _, email in taken},
    )
    book.plan()
    writer = _Writer(session)
    user_ids = _write_people(session, writer, book)
    customer_ids, contact_ids = _write_accounts(session, writer, book, user_ids)

    total = len(book.customers)
    step = max(1, total // 200)
    for i, plan in enumerate(book.customers):
        _Activity(book, plan, writer, user_ids, customer_ids[plan.external_id], contact_ids).run()
        if progress is not None and (i + 1 == total or (i + 1) % step == 0):
            progress("activity", i + 1, total)
    writer.flush_all()

    at_risk = [c for c in book.customers if c.fate in (AT_RISK, CHURN_BOUND)]
    spotlight = max(at_risk, key=lambda c: (c.arr, c.external_id), default=None)
    return DemoSummary(
        counts=dict(writer.counts),
        customers=total,
        churned=sum(1 for c in book.customers if c.fate == CHURNED),
        at_risk=len(at_risk),
        renewing_within_90=sum(
            1 for c in book.customers if c.fate != CHURNED and (c.renewal_date - as_of).days <= 90
        ),
        largest_at_risk=spotlight.external_id if spotlight else None,
        sample_csm=spotlight.csm_login if spotlight else None,
        deleted_rows=deleted,
        seed=seed,
        months=months,
        as_of=as_of,
    )


def _wipe(session: Session, actor: Actor) -> int:
    """Delete every row, children first; the acting user stays, as an admin."""
    users = User.__table__
    if actor.user_id is not None:
        session.execute(
            sa.update(users)
            .where(users.c.id == actor.user_id)
            .values(role=Role.ADMIN, team_id=None, manager_id=None, is_active=True)
        )
    deleted = 0
    for table in reversed(Base.metadata.sorted_tables):
        stmt = table.delete()
        if table is users and actor.user_id is not None:
            stmt = stmt.where(users.c.id != actor.user_id)
        deleted += session.execute(stmt).rowcount or 0
    session.expire_all()
    return deleted


_EVENT_COLUMNS = ("customer_id", "contact_id", "event_name", "occurred_at", "quantity")
# What the demo writes, in the order the summary lists it.
_KINDS = (Team, User, Customer, Contact, UsageEvent, SupportTicket, Invoice, NpsResponse, Touchpoint, CSTask)


class _Writer:
    """Buffers rows per table and writes them in batches: executemany for most
    tables, the dialect's fast append (COPY on Postgres) for usage events."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.buffers: dict[sa.Table, list[dict[str, Any]]] = {}
        self.events: list[tuple] = []
        self.counts: dict[str, int] = {model.__tablename__: 0 for model in _KINDS}

    def event(self, row: tuple) -> None:
        """One usage event, as a tuple in the order of _EVENT_COLUMNS."""
        self.events.append(row)
        if len(self.events) >= _BATCH:
            self.flush_events()

    def flush_events(self) -> None:
        if self.events:
            written = dialect.append_rows(self.session, UsageEvent.__table__, _EVENT_COLUMNS, self.events)
            self.counts["usage_events"] += written
            self.events = []

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= _BATCH:
            self.flush(table)

    def write(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _BATCH):
            self._insert(table, rows[start : start + _BATCH])

    def flush(self, table: sa.Table) -> None:
        rows = self.buffers.pop(table, [])
        if rows:
            self._insert(table, rows)

    def flush_all(self) -> None:
        self.flush_events()
        for table in list(self.buffers):
            self.flush(table)

    def _insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        self.session.execute(sa.insert(table), rows)
        self.counts[table.name] += len(rows)


# --- word lists -------------------------------------------------------------------------------------
# fmt: off
_FIRST = (
    "Maria", "James", "Aisha", "Wei", "Carlos", "Priya", "Liam", "Sofia", "Noah", "Fatima", "Lucas", "Yuki",
    "Emma", "Omar", "Chloe", "Mateo", "Hannah", "Arjun", "Grace", "Diego", "Olivia", "Kenji", "Amara",
    "Ethan", "Zara", "Samuel", "Ines", "David", "Leila", "Jonas", "Nora", "Raj", "Elena", "Tomas", "Mei",
    "Isaac", "Ana", "Felix", "Rosa", "Daniel", "Sara", "Marcus", "Julia", "Hugo", "Alice", "Kwame", "Nina",
    "Pablo", "Lena", "Victor",
)
_LAST = (
    "Lopez", "Smith", "Khan", "Chen", "Garcia", "Patel", "Murphy", "Rossi", "Kim", "Hassan", "Silva",
    "Tanaka", "Johnson", "Ali", "Martin", "Fernandez", "Schmidt", "Sharma", "Nguyen", "Okafor", "Brown",
    "Sato", "Mensah", "Wilson", "Novak", "Cohen", "Costa", "Dubois", "Ivanova", "Jensen", "Larsen", "Moreau",
    "Nakamura", "Obi", "Park", "Quinn", "Reyes", "Santos", "Torres", "Walker", "Weber", "Young", "Zhang",
    "Ahmed", "Becker", "Carter", "Diaz", "Evans", "Fischer", "Gupta",
)
_PREFIXES = (
    "Northwind", "Bluebird", "Summit", "Evergreen", "Ironwood", "Silverline", "Brightpath", "Cedar",
    "Granite", "Harbor", "Keystone", "Lakeshore", "Maple", "Meridian", "Nimbus", "Oakridge", "Pinnacle",
    "Quantum", "Redwood", "Riverbend", "Sagebrush", "Starlight", "Sterling", "Tidewater", "Trailhead",
    "Vantage", "Westfield", "Willow", "Zephyr", "Aurora", "Beacon", "Cascade", "Cobalt", "Crescent",
    "Driftwood", "Ember", "Falcon", "Foxglove", "Frontier", "Glacier", "Halcyon", "Horizon", "Juniper",
    "Kestrel", "Lighthouse", "Lumen", "Magnolia", "Mosaic", "Nova", "Orchard", "Paragon", "Polaris",
    "Prairie", "Quarry", "Radiant", "Sequoia", "Solstice", "Sparrow", "Thistle", "Topaz", "Upland",
    "Waypoint", "Alder", "Birchwood", "Copperfield", "Highland", "Ridgeline", "Stonebridge", "Clearwater",
    "Fairview",
)
_QUALIFIERS = ("Group", "Holdings", "International", "Global", "Ventures", "Worldwide", "Co", "Enterprises")
# industry -> (weight, company name suffixes)
_INDUSTRIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Software": (0.22, ("Analytics", "Software", "Systems", "Labs", "Cloud", "Data")),
    "Financial Services": (0.12, ("Capital", "Financial", "Bancorp", "Insurance", "Payments")),
    "Healthcare": (0.12, ("Health", "Medical", "Clinics", "Biosciences", "Care")),
    "Retail": (0.10, ("Retail", "Foods", "Outfitters", "Market", "Brands")),
    "Manufacturing": (0.10, ("Manufacturing", "Industries", "Robotics", "Materials", "Components")),
    "Logistics": (0.08, ("Logistics", "Freight", "Shipping", "Transport")),
    "Education": (0.06, ("Learning", "Academy", "Education", "Schools")),
    "Media": (0.06, ("Media", "Studios", "Publishing", "Broadcasting")),
    "Energy": (0.06, ("Energy", "Solar", "Power", "Utilities")),
    "Professional Services": (0.08, ("Consulting", "Partners", "Advisors", "Associates")),
}
# region -> (weight, first working hour in UTC, timezones)
_REGIONS: dict[str, tuple[float, int, tuple[str, ...]]] = {
    "North America": (0.45, 13, ("America/New_York", "America/Chicago", "America/Denver",
                                 "America/Los_Angeles", "America/Toronto")),
    "EMEA": (0.30, 7, ("Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Amsterdam", "Europe/Madrid",
                       "Asia/Dubai")),
    "APAC": (0.15, 0, ("Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata")),
    "LATAM": (0.10, 12, ("America/Sao_Paulo", "America/Mexico_City", "America/Bogota")),
}
_STAFF_TIMEZONES = (
    "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
)
_TEAMS = {2: ("Enterprise", "Commercial"), 3: ("Enterprise", "Mid-Market", "Commercial")}
_TEAM_SHARES = {2: (0.3, 0.7), 3: (0.2, 0.35, 0.45)}  # of accounts, largest ARR first

_CHAMPION_TITLES = (
    "Director of Operations", "Head of Analytics", "VP Customer Operations", "Senior Operations Manager",
    "Head of Revenue Operations", "Director of Business Systems", "Analytics Lead",
)
_EXEC_TITLES = (
    "Chief Operating Officer", "Chief Technology Officer", "VP of Engineering", "Chief Financial Officer",
    "SVP Operations", "Chief Data Officer",
)
_BILLING_TITLES = ("Finance Manager", "Accounts Payable Specialist", "Controller", "Procurement Lead")
_USER_TITLES = (
    "Data Analyst", "Operations Specialist", "Business Analyst", "Project Coordinator", "Support Lead",
    "Marketing Manager", "Software Engineer", "Team Lead", "Systems Administrator",
)

# In the order accounts adopt them: breadth N means the first N are in use.
FEATURES = (
    "login", "dashboard_view", "search", "report_export", "user_invited", "comment_added", "workflow_run",
    "file_upload", "alert_configured", "integration_sync", "api_call", "custom_report_created",
)
# Chance a contact uses a feature on a day they log in, and the most uses in a day.
_FEATURE_P = (1.0, 0.85, 0.6, 0.35, 0.06, 0.4, 0.45, 0.3, 0.05, 0.25, 0.3, 0.12)
_FEATURE_Q = (2, 10, 12, 4, 2, 6, 25, 4, 1, 6, 300, 1)
_FEATURE_WORDS = (
    "logins", "dashboards", "search", "report exports", "user invitations", "comments", "workflows",
    "file uploads", "alerts", "integrations", "the API", "custom reports",
)
_INTEGRATION, _API = FEATURES.index("integration_sync"), FEATURES.index("api_call")

_TICKETS = (
    ("Cannot export report to Excel", TicketPriority.NORMAL),
    ("SSO login failing for new users", TicketPriority.HIGH),
    ("API returns 429 rate limit errors", TicketPriority.HIGH),
    ("Dashboard loading slowly", TicketPriority.NORMAL),
    ("Question about seat count on invoice", TicketPriority.LOW),
    ("Workflow stuck in pending state", TicketPriority.HIGH),
    ("Integration sync missing records", TicketPriority.HIGH),
    ("Request: bulk user import", TicketPriority.LOW),
    ("Permissions not applied to new team", TicketPriority.NORMAL),
    ("Numbers in monthly report do not match", TicketPriority.NORMAL),
    ("Production outage: app not loading", TicketPriority.URGENT),
    ("Webhook deliveries failing", TicketPriority.HIGH),
    ("How do I schedule a report?", TicketPriority.LOW),
    ("Data export job timed out", TicketPriority.NORMAL),
    ("Password reset email not arriving", TicketPriority.NORMAL),
    ("Alert notifications sent twice", TicketPriority.LOW),
)
_TICKET_LEVELS = (TicketPriority.LOW, TicketPriority.NORMAL, TicketPriority.HIGH, TicketPriority.URGENT)

_NPS_COMMENTS = {
    "promoter": (
        "Great product, the team uses it every day.", "Support is quick and genuinely helpful.",
        "Dashboards are now part of our weekly ops review.", "Our CSM really understands our business.",
        "Workflows save us hours every week.", "Easy to roll out to new teams.",
        "Reliable, and it keeps getting better.",
    ),
    "passive": (
        "Good overall, but reporting could be more flexible.",
        "Solid tool; onboarding new users takes a while.",
        "Does what we need. Pricing is on the high side.", "Would like more integrations.",
        "Fine most days, slow at month end.", "Useful, but only a few of us really use it.",
    ),
    "detractor": (
        "Too many open support issues lately.", "We are not getting the value we expected for the price.",
        "Hard to use for our wider team.", "Since our admin left nobody really owns it.",
        "Sync errors keep breaking our reports.", "Slow dashboards and slow answers from support.",
        "We are evaluating alternatives before renewal.",
    ),
}

_TOPICS = (
    "onboarding", "adoption", "renewal", "pricing", "integrations", "reporting", "performance", "support",
    "roadmap", "training", "expansion", "security",
)
_CONCERNS = (
    "slow dashboards", "a missing integration", "pricing at renewal", "the number of open tickets",
    "low adoption outside their team", "data sync errors", "losing their internal admin",
)
_EMAIL_SUBJECTS = (
    "Your monthly usage summary", "New: {feature} improvements", "Invitation: quarterly product webinar",
    "Checking in on {feature}", "Resources to get more from {feature}", "Following up on our call",
    "Release notes: what's new this month",
)
_CALL_SUBJECTS = ("Check-in call with {contact}", "Usage review call", "Call: plans for next quarter")
_MEETING_SUBJECTS = ("Adoption workshop: {feature}", "Roadmap preview", "Success plan review",
                     "Admin training session")
_WEBINAR_SUBJECTS = ("Webinar: getting started with {feature}", "Webinar: release highlights")
_IN_APP_SUBJECTS = ("In-app tip: try {feature}", "Announcement: new dashboard filters")
_TALK = {
    Sentiment.POSITIVE: (
        "{contact} is happy with the rollout; the team uses {feature} daily. Talked about adding seats.",
        "Good conversation. {contact} shared a win from {feature} and agreed to a case study call.",
        "{contact} confirmed goals are on track and wants a roadmap preview next quarter.",
    ),
    Sentiment.NEUTRAL: (
        "Routine check-in. {contact} asked about {feature}; sent documentation afterwards.",
        "Reviewed usage with {contact}. No blockers, a few questions about {feature}.",
        "{contact} is busy with a reorg; agreed to pick up again next month.",
    ),
    Sentiment.NEGATIVE: (
        "{contact} raised concerns about {concern}. Agreed to follow up within a week.",
        "Tense call. {contact} said {concern} is hurting their team; wants a plan before renewal.",
        "{contact} is unhappy about {concern} and questioned the value for the price.",
    ),
}
_QBR_NOTES = {
    Sentiment.POSITIVE: "Reviewed outcomes and ROI with {contact}; goals met, expansion is next.",
    Sentiment.NEUTRAL: "Walked {contact} through usage and roadmap; adoption of {feature} is the focus.",
    Sentiment.NEGATIVE: "{contact} challenged the value delivered; {concern} dominated the review.",
}
# (task type, title, description); {names} are filled from the account.
_ROUTINE_TASKS = (
    (TaskType.CALL, "Check-in call with {contact}", "Monthly check-in: usage, open questions, next steps."),
    (TaskType.EMAIL, "Send usage summary to {contact}", "Share last month's adoption numbers and one tip."),
    (TaskType.MEETING, "Adoption workshop: {feature}", "Walk {contact}'s team through {feature}."),
    (TaskType.REVIEW, "Review account plan for {company}", "Update goals, stakeholders and risks."),
    (TaskType.INTERNAL, "Update CRM notes for {company}", "Log stakeholders and recent conversations."),
    (TaskType.FOLLOW_UP, "Follow up on ticket: {ticket}", "Check support closed the loop with {contact}."),
    (TaskType.MEETING, "Prepare QBR for {company}", "Build the deck: usage, outcomes, roadmap, asks."),
)
_RISK_TASKS = {
    "usage_decline": (TaskType.REVIEW, "Investigate usage drop at {company}",
                      "Active users and feature breadth are down; find out why and agree a recovery plan."),
    "champion_left": (TaskType.CALL, "Find a new champion at {company}",
                      "{champion} has left; map the new stakeholders and onboard the new admin."),
    "support_trouble": (TaskType.ESCALATION, "Escalation review: {ticket}",
                        "Open escalation; agree a remediation plan with support and product."),
    "late_payment": (TaskType.EMAIL, "Chase overdue invoice with {billing}",
                     "An invoice is past due; confirm the payment date."),
    "low_nps": (TaskType.MEETING, "Executive check-in with {executive}",
                "Recent NPS responses are low; re-confirm goals and value before renewal."),
}
_OUTCOME_NOTES = {
    TaskOutcome.SUCCESSFUL: ("Done; {contact} confirmed next steps.", "Went well; follow-up booked.",
                             "{contact} is happy with the plan.", "Completed; notes shared with the team."),
    TaskOutcome.UNSUCCESSFUL: ("{contact} did not see the value; revisit with their manager.",
                               "Could not agree on next steps.", "Blocked by a budget freeze on their side."),
    TaskOutcome.RESCHEDULED: ("{contact} asked to move it to next week.", "Moved: conflicting offsite."),
    TaskOutcome.NO_RESPONSE: ("No reply after two emails and a voicemail.", "{contact} did not show up."),
}
# plan -> (touchpoint types, weights): the bigger the account, the more human the touch.
_TOUCH_MIX = {
    "Starter": ((TouchpointType.EMAIL_SENT, TouchpointType.WEBINAR, TouchpointType.IN_APP_MESSAGE,
                 TouchpointType.CALL, TouchpointType.MEETING), (50, 15, 15, 15, 5)),
    "Growth": ((TouchpointType.EMAIL_SENT, TouchpointType.CALL, TouchpointType.MEETING,
                TouchpointType.WEBINAR, TouchpointType.IN_APP_MESSAGE), (35, 25, 20, 10, 10)),
    "Enterprise": ((TouchpointType.EMAIL_SENT, TouchpointType.CALL, TouchpointType.MEETING,
                    TouchpointType.WEBINAR, TouchpointType.IN_APP_MESSAGE), (25, 25, 35, 5, 10)),
}
_BLOCKED_REASONS = ("Waiting on the customer's security review", "Waiting for a product fix",
                    "Champion on leave until next month")
_TIME_SPENT = {
    TaskType.CALL: (15, 60), TaskType.EMAIL: (5, 20), TaskType.MEETING: (30, 90), TaskType.REVIEW: (20, 120),
    TaskType.INTERNAL: (10, 60), TaskType.FOLLOW_UP: (10, 45), TaskType.ESCALATION: (30, 180),
    TaskType.CUSTOM: (15, 60),
}
# fmt: on


# --- dates ------------------------------------------------------------------------------------------


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


# --- the plan: people and accounts ------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    name: str
    login: str
    email: str
    role: Role
    team: str
    manager_login: str | None
    timezone: str


@dataclass(slots=True)
class _ContactPlan:
    external_id: str
    first: str
    name: str
    email: str
    title: str
    role: str
    is_champion: bool = False
    is_exec_sponsor: bool = False
    left_day: int | None = None  # day index in the window; None when still there
    left_at: dt.datetime | None = None
    activity: float = 0.5  # chance of using the product on a working day at full intensity


@dataclass(slots=True)
class _CustomerPlan:
    index: int
    external_id: str
    name: str
    industry: str
    region: str
    timezone: str
    utc_hour: int
    arr: Decimal
    plan: str
    seats: int
    contract_type: str
    billing: str
    net_days: int
    contract_start: dt.date
    renewal_date: dt.date
    fate: str
    signals: frozenset[str]
    churn_date: dt.date | None
    churned_at: dt.datetime | None
    domain: str
    activity_seed: int
    attributes: dict[str, Any] = field(default_factory=dict)
    csm_login: str = ""
    manager_login: str | None = None
    contacts: list[_ContactPlan] = field(default_factory=list)


class _Book:
    """The whole book planned in memory from one random stream, before any row is written."""

    def __init__(
        self,
        *,
        seed: int,
        n: int,
        months: int,
        as_of: dt.date,
        taken_logins: set[str],
        taken_emails: set[str],
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.n = n
        self.as_of = as_of
        self.start = _add_months(as_of, -months)
        self.days = (as_of - self.start).days
        self.dates = [self.start + dt.timedelta(days=d) for d in range(self.days)]
        self.midnights = [_midnight(d) for d in self.dates]
        self.day_factor = [self._day_factor(d) for d in self.dates]
        self.now = _midnight(as_of)  # nothing happens on or after the start of as_of
        self.taken_logins = set(taken_logins)
        self.taken_emails = set(taken_emails)
        self.people: list[_Person] = []
        self.customers: list[_CustomerPlan] = []

    @staticmethod
    def _day_factor(day: dt.date) -> float:
        factor = 1.0 if day.weekday() < 5 else 0.12
        if (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1):
            factor *= 0.35
        return factor

    def day_index(self, day: dt.date) -> int:
        return (day - self.start).days

    def plan(self) -> None:
        self._plan_people()
        self._plan_customers()
        self._assign_csms()

    # people

    def _plan_people(self) -> None:
        n_teams = 2 if self.n < 100 else 3
        per_team = 3 if self.n < 100 else 4
        for team in _TEAMS[n_teams]:
            manager = self._person(Role.MANAGER, team, None)
            for _ in range(per_team):
                self._person(Role.CSM, team, manager.login)

    def _person(self, role: Role, team: str, manager: str | None) -> _Person:
        rng = self.rng
        while True:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            login = f"{first}.{last}".lower()
            email = f"{login}@{DEMO_DOMAIN}"
            if login not in self.taken_logins and email not in self.taken_emails:
                break
        self.taken_logins.add(login)
        self.taken_emails.add(email)
        person = _Person(
            name=f"{first} {last}",
            login=login,
            email=email,
            role=role,
            team=team,
            manager_login=manager,
            timezone=rng.choice(_STAFF_TIMEZONES),
        )
        self.people.append(person)
        return person

    # customers

    def _fates(self) -> list[str]:
        n = self.n
        churned, bound, at_risk = round(n * 0.06), round(n * 0.04), round(n * 0.20)
        if n >= 5:  # even a tiny demo shows every story
            churned, bound, at_risk = max(1, churned), max(1, bound), max(1, at_risk)
        fates = [CHURNED] * churned + [CHURN_BOUND] * bound + [AT_RISK] * at_risk
        fates += [HEALTHY] * (n - len(fates))
        self.rng.shuffle(fates)
        return fates

    def _plan_customers(self) -> None:
        rng = self.rng
        width = max(5, len(str(self.n)))
        used_names: set[str] = set()
        industries = list(_INDUSTRIES)
        industry_weights = [_INDUSTRIES[i][0] for i in industries]
        regions = list(_REGIONS)
        region_weights = [_REGIONS[r][0] for r in regions]
        for i, fate in enumerate(self._fates()):
            industry = rng.choices(industries, industry_weights)[0]
            name = self._company_name(industry, used_names)
            region = rng.choices(regions, region_weights)[0]
            _, utc_hour, zones = _REGIONS[region]

            arr = _draw_arr(rng)
            fuzzy = float(arr) * rng.lognormvariate(0, 0.25)
            plan = "Starter" if fuzzy < 35_000 else "Growth" if fuzzy < 180_000 else "Enterprise"
            seat_price = {"Starter": 600, "Growth": 900, "Enterprise": 1200}[plan]
            seats = max(5, round(float(arr) / seat_price * rng.uniform(0.8, 1.25)))

            signals = self._signals(fate)
            contract_type, contract_start, renewal, churn_date = self._contract(fate, plan)
            billing_monthly = {"Starter": 0.7, "Growth": 0.3, "Enterprise": 0.05}[plan]
            billing = "monthly" if rng.random() < billing_monthly else "annual"
            net_days = 30 if plan != "Enterprise" else rng.choice((30, 45, 60))
            churned_at = None
            if churn_date is not None:
                churned_at = _midnight(churn_date) + dt.timedelta(hours=15, minutes=rng.randrange(240))

            plan_row = _CustomerPlan(
                index=i,
                external_id=f"C-{i + 1:0{width}d}",
                name=name,
                industry=industry,
                region=region,
                timezone=rng.choice(zones),
                utc_hour=utc_hour,
                arr=arr,
                plan=plan,
                seats=seats,
                contract_type=contract_type,
                billing=billing,
                net_days=net_days,
                contract_start=contract_start,
                renewal_date=renewal,
                fate=fate,
                signals=signals,
                churn_date=churn_date,
                churned_at=churned_at,
                domain=re.sub(r"[^a-z0-9]+", "", name.lower()) + ".example",
                activity_seed=rng.getrandbits(64),
            )
            plan_row.attributes = self._attributes(plan_row)
            plan_row.contacts = self._contacts(plan_row)
            if not any(p.is_champion and p.left_at for p in plan_row.contacts):
                plan_row.signals -= {"champion_left"}  # too new an account to have lost anyone
            self.customers.append(plan_row)

    def _company_name(self, industry: str, used: set[str]) -> str:
        rng = self.rng
        suffixes = _INDUSTRIES[industry][1]
        for _ in range(3):
            name = f"{rng.choice(_PREFIXES)} {rng.choice(suffixes)}"
            if name not in used:
                break
        else:
            name = f"{name} {rng.choice(_QUALIFIERS)}"
            base, k = name, 2
            while name in used:
                name, k = f"{base} {k}", k + 1
        used.add(name)
        return name

    def _signals(self, fate: str) -> frozenset[str]:
        rng = self.rng
        if fate == HEALTHY:
            return frozenset()
        if fate == AT_RISK:
            return frozenset(rng.sample(_SIGNALS, rng.choice((1, 1, 2, 2, 3))))
        others = [s for s in _SIGNALS if s != "usage_decline"]
        return frozenset(["usage_decline", *rng.sample(others, rng.choice((1, 2, 3)))])

    def _contract(self, fate: str, plan: str) -> tuple[str, dt.date, dt.date, dt.date | None]:
        """(contract type, start, renewal date, churn date): annual contracts renew within a year."""
        rng, as_of = self.rng, self.as_of
        if fate == CHURNED:
            # Accounts leave at a renewal they do not sign; the window shows their decline.
            lo = min(30, self.days // 3)
            hi = max(lo, self.days - 3)
            churn_date = self.start + dt.timedelta(days=rng.randint(lo, hi))
            return "annual", _add_years(churn_date, -rng.randint(1, 3)), churn_date, churn_date
        if fate == CHURN_BOUND:
            renewal = as_of + dt.timedelta(days=rng.randint(10, 100))
            return "annual", _add_years(renewal, -rng.randint(1, 3)), renewal, None
        tenure = int(rng.triangular(20, 5 * 365, 200))
        start = as_of - dt.timedelta(days=tenure)
        if plan != "Starter" and tenure > 400 and rng.random() < 0.15:
            term = rng.choice((2, 3))
            renewal = _add_years(start, term)
            while renewal <= as_of:
                renewal = _add_years(renewal, term)
            return "multi_year", start, renewal, None
        renewal = _add_years(start, 1)
        while renewal <= as_of:
            renewal = _add_years(renewal, 1)
        return "annual", start, renewal, None

    def _attributes(self, c: _CustomerPlan) -> dict[str, Any]:
        rng = self.rng
        until = c.churn_date or self.as_of
        tenure_days = (until - c.contract_start).days
        if c.fate == CHURNED:
            stage = "churned"
        elif tenure_days < 90:
            stage = "onboarding"
        elif (c.renewal_date - self.as_of).days <= 90:
            stage = "renewal"
        elif tenure_days < 365:
            stage = "adoption"
        else:
            stage = "mature"
        channel_weights = {"Starter": (3, 2, 5), "Growth": (6, 3, 1), "Enterprise": (8, 2, 0)}[c.plan]
        employees = round(c.seats * rng.uniform(1.5, 8), -1 if c.seats < 100 else -2)
        return {
            "contract_type": c.contract_type,
            "billing_frequency": c.billing,
            "lifecycle_stage": stage,
            "tenure_months": tenure_days // 30,
            "employee_count": int(max(10, employees)),
            "sales_channel": rng.choices(("direct", "partner", "self_serve"), channel_weights)[0],
        }

    def _contacts(self, c: _CustomerPlan) -> list[_ContactPlan]:
        rng = self.rng
        count = round(3 + 0.9 * math.log2(float(c.arr) / 15_000) + rng.uniform(-1, 1))
        count = min(8, max(3, count))
        names: set[str] = set()
        contacts: list[_ContactPlan] = []

        def person(title: str, role: str, activity: tuple[float, float]) -> _ContactPlan:
            while True:
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
                if f"{first} {last}" not in names:
                    break
            names.add(f"{first} {last}")
            contact = _ContactPlan(
                external_id=f"{c.external_id}-P{len(contacts) + 1}",
                first=first,
                name=f"{first} {last}",
                email=f"{first}.{last}@{c.domain}".lower(),
                title=title,
                role=role,
                activity=rng.uniform(*activity),
            )
            contacts.append(contact)
            return contact

        champion = person(rng.choice(_CHAMPION_TITLES), "admin", (0.75, 0.95))
        champion.is_champion = True
        if c.plan != "Starter" or rng.random() < 0.4:
            person(rng.choice(_EXEC_TITLES), "executive", (0.05, 0.2)).is_exec_sponsor = True
        if count >= 4:
            person(rng.choice(_BILLING_TITLES), "billing", (0.01, 0.05))
        while len(contacts) < count:
            title = rng.choice(_USER_TITLES)
            person(title, "admin" if title == "Systems Administrator" else "end user", (0.3, 0.85))

        # Champions leave: rarely from healthy accounts, often from those heading out.
        leave_chance = {HEALTHY: 0.03, AT_RISK: 0.1, CHURN_BOUND: 0.6, CHURNED: 0.5}[c.fate]
        if "champion_left" in c.signals:
            leave_chance = 1.0
        first_day = max(0, self.day_index(c.contract_start) + 45)
        end_day = self.day_index(c.churn_date) if c.churn_date else self.days
        if rng.random() < leave_chance and end_day - 20 > first_day:
            self._leave(champion, rng.randint(max(first_day, end_day - 150), end_day - 20))
            users = [p for p in contacts if p.role in ("end user", "admin") and p is not champion]
            if users and (c.fate == HEALTHY or rng.random() < 0.25):
                successor = rng.choice(users)
                successor.is_champion = True
                successor.activity = max(successor.activity, 0.8)
        for contact in contacts:
            turnover = contact.left_day is None and not contact.is_champion and rng.random() < 0.04
            if turnover and end_day - 10 > first_day:
                self._leave(contact, rng.randint(first_day, end_day - 10))
        return contacts

    def _leave(self, contact: _ContactPlan, day: int) -> None:
        contact.left_day = day
        contact.left_at = self.midnights[day] + dt.timedelta(hours=17)

    def _assign_csms(self) -> None:
        """Teams own ARR bands (Enterprise the largest accounts); books within a team are balanced."""
        rng = self.rng
        teams = _TEAMS[2 if self.n < 100 else 3]
        shares = _TEAM_SHARES[len(teams)]
        ranked = sorted(self.customers, key=lambda c: (-c.arr, c.index))
        start = 0
        for k, team in enumerate(teams):
            end = len(ranked) if k == len(teams) - 1 else start + round(len(ranked) * shares[k])
            csms = sorted(
                (p for p in self.people if p.team == team and p.role == Role.CSM), key=lambda p: p.login
            )
            order: list[_Person] = []
            for customer in ranked[start:end]:
                if not order:
                    order = list(csms)
                    rng.shuffle(order)
                csm = order.pop()
                customer.csm_login = csm.login
                customer.manager_login = csm.manager_login
            start = end


def _draw_arr(rng: random.Random) -> Decimal:
    """Long-tailed ARR, 10k..2M, median about 55k: a few accounts carry much of the book."""
    while True:
        value = rng.lognormvariate(math.log(50_000), 1.2)
        if 10_000 <= value <= 2_000_000:
            break
    step = 100 if value < 100_000 else 1_000
    return Decimal(int(round(value / step) * step))


# --- writing the plan -------------------------------------------------------------------------------


def _write_people(session: Session, writer: _Writer, book: _Book) -> dict[str, int]:
    """Teams (reusing any of the same name) and users; returns login -> user id."""
    teams = Team.__table__
    names = sorted({p.team for p in book.people})
    existing = set(session.scalars(sa.select(teams.c.name).where(teams.c.name.in_(names))))
    created = _midnight(_add_years(book.as_of, -3))
    writer.write(teams, [{"name": n, "created_at": created} for n in names if n not in existing])
    team_ids = dict(session.execute(sa.select(teams.c.name, teams.c.id).where(teams.c.name.in_(names))).all())

    users = User.__table__

    def rows(role: Role) -> list[dict[str, Any]]:
        return [
            {
                "email": p.email,
                "login": p.login,
                "name": p.name,
                "role": p.role,
                "team_id": team_ids[p.team],
                "manager_id": user_ids[p.manager_login] if p.manager_login else None,
                "is_active": True,
                "timezone": p.timezone,
                "created_at": created,
            }
            for p in book.people
            if p.role == role
        ]

    user_ids: dict[str, int] = {}
    for role in (Role.MANAGER, Role.CSM):  # managers first: CSMs point at them
        writer.write(users, rows(role))
        logins = [p.login for p in book.people if p.role == role]
        user_ids.update(
            session.execute(sa.select(users.c.login, users.c.id).where(users.c.login.in_(logins))).all()
        )
    return user_ids


def _write_accounts(
    session: Session, writer: _Writer, book: _Book, user_ids: dict[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """Customers and contacts; returns external id -> id for each."""
    customers, contacts = Customer.__table__, Contact.__table__
    writer.write(
        customers,
        [
            {
                "external_id": c.external_id,
                "name": c.name,
                "arr": c.arr,
                "plan": c.plan,
                "seats": c.seats,
                "industry": c.industry,
                "region": c.region,
                "timezone": c.timezone,
                "contract_start": c.contract_start,
                "renewal_date": c.renewal_date,
                "status": CustomerStatus.CHURNED if c.churned_at else CustomerStatus.ACTIVE,
                "churned_at": c.churned_at,
                "csm_id": user_ids[c.csm_login],
                "attributes": c.attributes,
                "created_at": _midnight(c.contract_start) + dt.timedelta(hours=9),
                "updated_at": c.churned_at,
            }
            for c in book.customers
        ],
    )
    # The database had no customers (we refuse otherwise), so every row is ours.
    customer_ids = dict(session.execute(sa.select(customers.c.external_id, customers.c.id)).all())
    writer.write(
        contacts,
        [
            {
                "external_id": p.external_id,
                "customer_id": customer_ids[c.external_id],
                "name": p.name,
                "email": p.email,
                "title": p.title,
                "role": p.role,
                "is_champion": p.is_champion,
                "is_exec_sponsor": p.is_exec_sponsor,
                "left_at": p.left_at,
                "timezone": c.timezone,
                "created_at": _midnight(c.contract_start) + dt.timedelta(days=1, hours=9),
                "updated_at": p.left_at,
            }
            for c in book.customers
            for p in c.contacts
        ],
    )
    contact_ids = dict(session.execute(sa.select(contacts.c.external_id, contacts.c.id)).all())
    return customer_ids, contact_ids


# --- activity ---------------------------------------------------------------------------------------


class _Activity:
    """One customer's history over the window, from its own random stream."""

    def __init__(
        self,
        book: _Book,
        c: _CustomerPlan,
        writer: _Writer,
        user_ids: dict[str, int],
        customer_id: int,
        contact_ids: dict[str, int],
    ) -> None:
        self.book, self.c, self.writer = book, c, writer
        self.rng = random.Random(c.activity_seed)
        self.customer_id = customer_id
        self.csm_id = user_ids[c.csm_login]
        self.manager_id = user_ids.get(c.manager_login or "")
        self.contact_id = {p.external_id: contact_ids[p.external_id] for p in c.contacts}
        # The days the account was live in the window: [first, end).
        self.first = max(0, book.day_index(c.contract_start))
        self.end = book.day_index(c.churn_date) if c.churn_date else book.days
        self.end_at = c.churned_at or book.now
        self.new = book.day_index(c.contract_start) > 0
        self._shape_curves()
        self.escalations: list[tuple[str, dt.datetime]] = []
        self.open_ticket_subjects: list[str] = []
        self.tickets_written = 0

    # curves: intensity (0..1, how much the people use it) and breadth (features in use, 1..12)

    def _shape_curves(self) -> None:
        rng, c = self.rng, self.c
        self.decline_start = self.end
        if c.fate == HEALTHY:
            self.i0 = rng.uniform(0.4, 0.7)
            self.i1 = min(1.0, self.i0 + rng.uniform(0.15, 0.4))
            self.b0 = 2.0 if self.new else float(rng.randint(3, 7))
            self.b1 = min(12.0, self.b0 + rng.randint(2, 5))
        elif c.fate == AT_RISK:
            self.i0 = rng.uniform(0.35, 0.6)
            declining = "usage_decline" in c.signals
            self.i1 = self.i0 * (1 - (rng.uniform(0.35, 0.6) if declining else rng.uniform(-0.05, 0.1)))
            self.b0 = 2.0 if self.new else float(rng.randint(3, 6))
            self.b1 = max(2.0, self.b0 - (rng.randint(1, 2) if declining else 0))
        else:
            self.i0 = self.i1 = rng.uniform(0.35, 0.55)
            self.b0 = self.b1 = 2.0 if self.new else float(rng.randint(3, 5))
            # The slide starts one to four months before the end (churn, or today for churn-bound).
            slide = rng.randint(30, 90) if self.c.fate == CHURN_BOUND else rng.randint(30, 120)
            self.decline_start = max(self.first, self.end - slide)

    def curve(self, day: int) -> tuple[float, float]:
        span = max(1, self.end - self.first)
        frac = (day - self.first) / span
        intensity = self.i0 + (self.i1 - self.i0) * frac
        breadth = self.b0 + (self.b1 - self.b0) * frac
        if day >= self.decline_start:
            x = (day - self.decline_start) / max(1, self.end - self.decline_start)
            intensity = self.i0 * math.exp(-2.6 * x)
            breadth = max(1.0, self.b0 - (self.b0 - 1.5) * x)
        age = day - self.book.day_index(self.c.contract_start)
        if age < 90:  # onboarding: a ramp, and only the basics at first
            intensity *= 0.3 + 0.7 * age / 90
            breadth = min(breadth, 2 + age / 12)
        return intensity, breadth

    def decline(self, day: int) -> float:
        """0 before the decline, rising to 1 at the end (churn-bound and churned accounts)."""
        if day < self.decline_start:
            return 0.0
        return min(1.0, (day - self.decline_start) / max(1, self.end - self.decline_start))

    def run(self) -> None:
        self.usage()
        self.tickets()
        self.invoices()
        self.nps()
        self.touchpoints()
        self.tasks()

    # helpers

    def at(self, day: int) -> dt.datetime:
        """A moment in the customer's working hours on a day of the window."""
        return self.book.midnights[day] + dt.timedelta(hours=self.c.utc_hour, minutes=self.rng.randrange(600))

    def present(self, day: int, roles: tuple[str, ...] | None = None) -> list[_ContactPlan]:
        people = [p for p in self.c.contacts if p.left_day is None or p.left_day > day]
        if roles:
            chosen = [p for p in people if p.role in roles]
            people = chosen or people
        return people

    def contact_for(self, day: int, roles: tuple[str, ...] | None = ("admin", "end user")) -> _ContactPlan:
        people = self.present(day, roles)
        champions = [p for p in people if p.is_champion]
        if champions and self.rng.random() < 0.5:
            return self.rng.choice(champions)
        return self.rng.choice(people or self.c.contacts)

    def random_day(self, lo: int, hi: int) -> int:
        """A day in [lo, hi), clipped to the live window."""
        lo, hi = max(lo, self.first), min(hi, self.end)
        return self.rng.randrange(lo, hi) if hi > lo else max(self.first, min(lo, self.end - 1))

    def lively(self) -> bool:
        return self.end > self.first

    # usage events: one row per contact, feature and day, with the day's count as quantity

    def usage(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        rand = rng.random
        emit = self.writer.event
        cid = self.customer_id
        # How much each person likes each feature, drawn here so the plan stays small for big books.
        contacts = [
            (p, self.contact_id[p.external_id], [rng.uniform(0.4, 1.4) for _ in FEATURES]) for p in c.contacts
        ]
        hour = dt.timedelta(hours=c.utc_hour)
        minute = dt.timedelta(minutes=1)
        night = dt.timedelta(hours=2)
        machines = max(1, c.seats // 20)  # integrations and scripts grow with the account
        for day in range(self.first, self.end):
            intensity, breadth = self.curve(day)
            chance = intensity * book.day_factor[day]
            if chance <= 0:
                continue
            full = int(breadth)
            partial = breadth - full
            top = min(full + 1, len(FEATURES))
            base = book.midnights[day] + hour
            for person, contact_id, affinity in contacts:
                if person.left_day is not None and day >= person.left_day:
                    continue
                if rand() >= person.activity * chance:
                    continue
                moment = base + int(rand() * 600) * minute
                for k in range(top):
                    if k:
                        p = _FEATURE_P[k] * affinity[k]
                        if k == full:
                            p *= partial
                        if rand() >= p:
                            continue
                    quantity = float(1 + int(rand() * _FEATURE_Q[k] * (0.4 + intensity)))
                    emit((cid, contact_id, FEATURES[k], moment, quantity))
            # Integrations and API scripts run without a person, every day, once the account uses them.
            for k, per_day in ((_INTEGRATION, 24), (_API, 200)):
                if breadth > k and rand() < intensity + 0.3:
                    quantity = float(machines * (per_day // 2 + int(rand() * per_day * intensity)))
                    emit((cid, None, FEATURES[k], book.midnights[day] + night, quantity))

    # support tickets

    def tickets(self) -> None:
        if not self.lively():
            return
        rng, c = self.rng, self.c
        trouble = "support_trouble" in c.signals
        monthly = (0.2 + 0.35 * math.log10(c.seats)) * (2.5 if trouble else 1.0)
        day = float(self.first)
        while True:
            rate = monthly / 30 * (1 + 1.5 * self.decline(int(day)))
            day += rng.expovariate(rate)
            if day >= self.end:
                break
            self._ticket(int(day), trouble, still_open=False)
        if self.c.fate in (AT_RISK, CHURN_BOUND) and (trouble or self.c.fate == CHURN_BOUND):
            for _ in range(rng.randint(1, 3)):
                self._ticket(self.random_day(self.end - 20, self.end), trouble, still_open=True)

    def _ticket(self, day: int, trouble: bool, *, still_open: bool) -> None:
        rng, c, book = self.rng, self.c, self.book
        if trouble or still_open:
            subject, usual = rng.choice([t for t in _TICKETS if t[1] != TicketPriority.LOW])
        else:
            subject, usual = rng.choice(_TICKETS)
        level = _TICKET_LEVELS.index(usual)
        shift = rng.random()
        if shift < 0.15:
            level = max(0, level - 1)
        elif shift > (0.75 if trouble else 0.92):
            level = min(3, level + 1)
        priority = _TICKET_LEVELS[level]
        opened = self.at(day)
        median_hours = (48, 24, 12, 5)[level] * (2.0 if trouble else 1.0)
        closed = opened + dt.timedelta(hours=rng.lognormvariate(math.log(median_hours), 0.9))
        if still_open or closed >= book.now:
            status = TicketStatus.OPEN if rng.random() < 0.6 else TicketStatus.PENDING
            closed = None
        else:
            closed = min(closed, self.end_at)
            status = TicketStatus.CLOSED if rng.random() < 0.7 else TicketStatus.SOLVED
        escalate = (0.01, 0.02, 0.08, 0.3)[level] * (2.0 if trouble else 1.0)
        escalated_at = None
        if rng.random() < escalate:
            escalated_at = opened + dt.timedelta(hours=rng.uniform(1, 36))
            escalated_at = min(escalated_at, closed or book.now - dt.timedelta(minutes=1))
            self.escalations.append((subject, escalated_at))
        satisfaction = None
        if closed is not None and rng.random() < 0.7:
            weights = (2, 3, 10, 35, 50)
            if trouble or c.fate != HEALTHY:
                weights = (15, 20, 30, 25, 10) if c.fate == AT_RISK else (30, 30, 25, 10, 5)
            satisfaction = rng.choices((1, 2, 3, 4, 5), weights)[0]
        if closed is None:
            self.open_ticket_subjects.append(subject)
        contact = self.contact_for(day)
        self.tickets_written += 1
        self.writer.add(
            SupportTicket.__table__,
            {
                "external_id": f"T-{c.index + 1:05d}-{self.tickets_written:03d}",
                "customer_id": self.customer_id,
                "contact_id": self.contact_id[contact.external_id],
                "subject": subject,
                "priority": priority,
                "status": status,
                "opened_at": opened,
                "closed_at": closed,
                "escalated": escalated_at is not None,
                "escalated_at": escalated_at,
                "satisfaction": satisfaction,
                "created_at": opened,
                "updated_at": closed or escalated_at,
            },
        )

    # invoices

    def invoices(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        until = c.churn_date or book.as_of
        step = 1 if c.billing == "monthly" else 12
        issued: list[dt.date] = []
        k = 0
        while True:
            day = _add_months(c.contract_start, k * step)
            if day >= until:
                break
            if day >= book.start or (step == 12 and _add_months(day, 12) > book.start):
                issued.append(day)
            k += 1
        late = "late_payment" in c.signals
        late_chance = (
            0.55 if late else {HEALTHY: 0.08, AT_RISK: 0.18, CHURN_BOUND: 0.45, CHURNED: 0.4}[c.fate]
        )
        max_delay = 60 if late or c.fate != HEALTHY else 15
        # Accounts in trouble leave their latest bills unpaid; older debt would be with collections.
        recent = book.as_of - dt.timedelta(days=90)
        past_due = [d for d in issued if recent <= d + dt.timedelta(days=c.net_days) < book.as_of]
        unpaid = set()
        if past_due and (late or c.fate == CHURN_BOUND) and rng.random() < 0.8:
            unpaid.update(past_due[-rng.randint(1, 2) :])
        if issued and c.fate == CHURNED and rng.random() < 0.5:
            unpaid.add(issued[-1])  # written off at churn
        amount = (c.arr / (12 if step == 1 else 1)).quantize(Decimal("0.01"))
        for n, day in enumerate(issued, start=1):
            due = day + dt.timedelta(days=c.net_days)
            if rng.random() < late_chance:
                paid: dt.date | None = due + dt.timedelta(days=rng.randint(1, max_delay))
            else:
                paid = max(day, due - dt.timedelta(days=rng.randint(0, min(25, c.net_days - 1))))
            if day in unpaid or (paid is not None and paid >= book.as_of):
                paid = None
            self.writer.add(
                Invoice.__table__,
                {
                    "external_id": f"INV-{c.index + 1:05d}-{n:03d}",
                    "customer_id": self.customer_id,
                    "amount": amount,
                    "currency": "USD",
                    "issued_on": day,
                    "due_on": due,
                    "paid_on": paid,
                    "created_at": _midnight(day),
                    "updated_at": _midnight(paid) if paid else None,
                },
            )

    # NPS: a survey wave every quarter; some contacts answer

    def nps(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        base = {HEALTHY: 8.6, AT_RISK: 4.8 if "low_nps" in c.signals else 7.0, CHURN_BOUND: 5.5, CHURNED: 5.5}
        wave = book.days - 10
        n = 0
        while wave >= 0:
            if self.first + 30 <= wave < self.end:
                for person in self.present(wave):
                    if person.role == "billing" or rng.random() >= (0.2 if person.is_exec_sponsor else 0.35):
                        continue
                    day = wave + rng.randint(0, 9)
                    if day >= self.end or (person.left_day is not None and day >= person.left_day):
                        continue
                    mean = base[c.fate] - 3.5 * self.decline(day)
                    score = max(0, min(10, round(rng.gauss(mean, 1.6))))
                    kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                    n += 1
                    moment = self.at(day)
                    self.writer.add(
                        NpsResponse.__table__,
                        {
                            "external_id": f"NPS-{c.index + 1:05d}-{n:03d}",
                            "customer_id": self.customer_id,
                            "contact_id": self.contact_id[person.external_id],
                            "score": score,
                            "comment": rng.choice(_NPS_COMMENTS[kind]) if rng.random() < 0.65 else None,
                            "responded_at": moment,
                            "created_at": moment,
                        },
                    )
            wave -= 91

    # touchpoints

    def sentiment(self, day: int) -> tuple[float, Sentiment]:
        mean = {HEALTHY: 0.45, AT_RISK: 0.05, CHURN_BOUND: 0.0, CHURNED: 0.0}[self.c.fate]
        mean -= 0.7 * self.decline(day)
        score = round(max(-1.0, min(1.0, self.rng.gauss(mean, 0.3))), 2)
        label = (
            Sentiment.POSITIVE if score > 0.25 else Sentiment.NEGATIVE if score < -0.25 else Sentiment.NEUTRAL
        )
        return score, label

    def touch(
        self,
        kind: TouchpointType,
        day: int,
        *,
        subject: str,
        direction: Direction,
        channel: Channel,
        contact: _ContactPlan | None,
        description: str | None = None,
        sentiment: tuple[float, Sentiment] | None = None,
        topics: list[str] | None = None,
        duration: int | None = None,
        moment: dt.datetime | None = None,
        user_id: int | None = None,
    ) -> dt.datetime:
        moment = moment or self.at(day)
        recording = None
        if kind in (TouchpointType.MEETING, TouchpointType.QBR) and self.rng.random() < 0.4:
            recording = f"https://recordings.{DEMO_DOMAIN}/{self.rng.getrandbits(64):016x}"
        self.writer.add(
            Touchpoint.__table__,
            {
                "external_id": None,
                "customer_id": self.customer_id,
                "touchpoint_type": kind,
                "subject": subject[:255],
                "description": description,
                "direction": direction,
                "channel": channel,
                "contact_id": self.contact_id[contact.external_id] if contact else None,
                "user_id": user_id or self.csm_id,
                "sentiment_score": sentiment[0] if sentiment else None,
                "sentiment_label": sentiment[1] if sentiment else None,
                "key_topics": topics,
                "task_id": None,
                "duration_minutes": duration,
                "recording_url": recording,
                "occurred_at": moment,
                "created_at": moment,
            },
        )
        return moment

    def words(self, contact: _ContactPlan | None, day: int) -> dict[str, str]:
        _, breadth = self.curve(day)
        feature = _FEATURE_WORDS[self.rng.randrange(1, max(2, min(len(FEATURES), int(breadth) + 1)))]
        return {
            "contact": contact.first if contact else "the team",
            "feature": feature,
            "concern": self.rng.choice(_CONCERNS),
            "company": self.c.name,
        }

    def topics(self, *extra: str) -> list[str]:
        return sorted({*extra, *self.rng.sample(_TOPICS, self.rng.randint(1, 2))})

    def touchpoints(self) -> None:
        if not self.lively():
            return
        rng, c = self.rng, self.c
        monthly = {"Starter": 1.5, "Growth": 3.0, "Enterprise": 5.0}[c.plan]
        types, weights = _TOUCH_MIX[c.plan]
        engaged = {HEALTHY: 0.6, AT_RISK: 0.35, CHURN_BOUND: 0.25, CHURNED: 0.25}[c.fate]
        day = float(self.first)
        while True:
            # CSMs lean in when an account is slipping.
            boost = 1.6 if c.fate != HEALTHY and day > self.end - 60 else 1.0
            day += rng.expovariate(monthly * boost / 30)
            if day >= self.end:
                break
            d = int(day)
            kind = rng.choices(types, weights)[0]
            contact = self.contact_for(d, ("admin", "end user", "executive"))
            w = self.words(contact, d)
            if kind == TouchpointType.EMAIL_SENT:
                subject = rng.choice(_EMAIL_SUBJECTS).format(**w)
                sent = self.touch(
                    kind,
                    d,
                    subject=subject,
                    direction=Direction.OUTBOUND,
                    channel=Channel.EMAIL,
                    contact=contact,
                    description=f"Sent to {contact.name}.",
                )
                engagement = engaged * (1 - 0.7 * self.decline(d))
                if rng.random() < engagement:
                    opened = sent + dt.timedelta(hours=rng.uniform(0.2, 40))
                    if opened < self.end_at:
                        self.touch(
                            TouchpointType.EMAIL_OPENED,
                            d,
                            subject=f"Opened: {subject}",
                            direction=Direction.INBOUND,
                            channel=Channel.EMAIL,
                            contact=contact,
                            moment=opened,
                        )
                        clicked = opened + dt.timedelta(minutes=rng.uniform(1, 30))
                        if rng.random() < 0.35 and clicked < self.end_at:
                            self.touch(
                                TouchpointType.EMAIL_CLICKED,
                                d,
                                subject=f"Clicked: {subject}",
                                direction=Direction.INBOUND,
                                channel=Channel.EMAIL,
                                contact=contact,
                                moment=clicked,
                            )
            elif kind in (TouchpointType.CALL, TouchpointType.MEETING):
                feel = self.sentiment(d)
                pool = _CALL_SUBJECTS if kind == TouchpointType.CALL else _MEETING_SUBJECTS
                self.touch(
                    kind,
                    d,
                    subject=rng.choice(pool).format(**w),
                    direction=Direction.OUTBOUND if rng.random() < 0.8 else Direction.INBOUND,
                    channel=Channel.PHONE
                    if kind == TouchpointType.CALL
                    else (Channel.IN_PERSON if rng.random() < 0.2 else Channel.VIDEO),
                    contact=contact,
                    description=rng.choice(_TALK[feel[1]]).format(**w),
                    sentiment=feel,
                    topics=self.topics(),
                    duration=rng.randint(15, 45) if kind == TouchpointType.CALL else rng.randint(30, 60),
                )
            elif kind == TouchpointType.WEBINAR:
                self.touch(
                    kind,
                    d,
                    subject=rng.choice(_WEBINAR_SUBJECTS).format(**w),
                    direction=Direction.INBOUND,
                    channel=Channel.VIDEO,
                    contact=contact,
                    description=f"{contact.name} attended.",
                    topics=["training"],
                    duration=rng.randint(45, 60),
                )
            else:
                self.touch(
                    kind,
                    d,
                    subject=rng.choice(_IN_APP_SUBJECTS).format(**w),
                    direction=Direction.OUTBOUND,
                    channel=Channel.IN_APP,
                    contact=None,
                )
        self._qbrs()
        self._renewal_talks()
        for subject, moment in self.escalations:
            day = min(self.end - 1, max(self.first, self.book.day_index(moment.date())))
            contact = self.contact_for(day)
            self.touch(
                TouchpointType.ESCALATION,
                day,
                subject=f"Escalation: {subject}",
                direction=Direction.OUTBOUND,
                channel=Channel.PHONE,
                contact=contact,
                sentiment=(-0.6, Sentiment.NEGATIVE),
                description=f"Support escalated '{subject}'. Called {contact.first} to agree next steps.",
                topics=["support"],
                duration=rng.randint(15, 40),
                moment=min(moment + dt.timedelta(hours=1), self.end_at - dt.timedelta(minutes=1)),
                user_id=self.manager_id if self.c.plan == "Enterprise" and rng.random() < 0.3 else None,
            )

    def _qbrs(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        if c.plan == "Starter" or (c.plan == "Growth" and c.arr < 100_000):
            return
        k = 1
        while True:
            day = book.day_index(_add_months(c.contract_start, 3 * k)) + rng.randint(-7, 7)
            k += 1
            if day >= self.end:
                break
            if day < max(0, self.first):
                continue
            quarter = (book.dates[day].month - 1) // 3 + 1
            contact = self.contact_for(day, ("executive", "admin"))
            feel = self.sentiment(day)
            w = self.words(contact, day)
            text = _QBR_NOTES[feel[1]].format(**w)
            self.touch(
                TouchpointType.QBR,
                day,
                subject=f"Q{quarter} {book.dates[day].year} business review",
                direction=Direction.OUTBOUND,
                channel=Channel.IN_PERSON if rng.random() < 0.3 else Channel.VIDEO,
                contact=contact,
                description=text,
                sentiment=feel,
                topics=self.topics("roadmap"),
                duration=rng.randint(60, 90),
            )

    def _renewal_talks(self) -> None:
        c, book = self.c, self.book
        days_left = (c.renewal_date - book.as_of).days
        if c.churn_date is None and days_left > 100:
            return
        renewal_day = book.day_index(c.renewal_date) if c.churn_date else book.days
        for _ in range(self.rng.randint(1, 2)):
            day = self.random_day(renewal_day - 60, renewal_day)
            contact = self.contact_for(day, ("executive", "admin", "billing"))
            feel = self.sentiment(day)
            self.touch(
                TouchpointType.RENEWAL_DISCUSSION,
                day,
                subject=f"Renewal discussion ({c.renewal_date})",
                direction=Direction.OUTBOUND,
                channel=Channel.VIDEO,
                contact=contact,
                description=_TALK[feel[1]][0].format(**self.words(contact, day)),
                sentiment=feel,
                topics=self.topics("renewal", "pricing"),
                duration=self.rng.randint(30, 45),
            )

    # tasks: the CSM's finished work over the window, and what is on their plate now

    def tasks(self) -> None:
        if not self.lively():
            return
        rng, c, book = self.rng, self.c, self.book
        monthly = {"Starter": 0.6, "Growth": 1.5, "Enterprise": 2.5}[c.plan] * (
            1.3 if c.fate != HEALTHY else 1
        )
        day = float(self.first)
        while True:
            day += rng.expovariate(monthly / 30)
            if day >= self.end - 1:
                break
            self._done_task(int(day), rng.choice(_ROUTINE_TASKS))
        if c.fate == CHURNED:
            champion = next((p for p in c.contacts if p.is_champion), c.contacts[0])
            self._done_task(
                self.end - 1,
                (
                    TaskType.CALL,
                    f"Exit interview with {champion.first}",
                    "Learn why they left; log it for product.",
                ),
            )
            return
        # Open work: routine for everyone, risk work for accounts in trouble, renewal prep when close.
        todo = [rng.choice(_ROUTINE_TASKS) for _ in range(rng.choices((0, 1, 2), (30, 45, 25))[0])]
        todo += [_RISK_TASKS[s] for s in sorted(c.signals)]
        if (c.renewal_date - book.as_of).days <= 90:
            todo.append(
                (
                    TaskType.CALL,
                    f"Renewal prep: {{company}} renews {c.renewal_date}",
                    "Confirm stakeholders, pricing and timeline for the renewal.",
                )
            )
        for template in todo:
            self._open_task(template)

    def _fill(self, day: int) -> dict[str, str]:
        """The names a task's title and description may use."""
        c = self.c
        contact = self.contact_for(day)
        by_role = {p.role: p for p in reversed(c.contacts)}
        champions = sorted((p for p in c.contacts if p.is_champion), key=lambda p: p.left_at is None)
        subjects = (
            [s for s, _ in self.escalations] or self.open_ticket_subjects or [t[0] for t in _TICKETS[:4]]
        )
        return {
            "contact": contact.first,
            "company": c.name,
            "feature": self.words(contact, day)["feature"],
            "ticket": self.rng.choice(subjects),
            "champion": (champions[0] if champions else contact).name,
            "billing": (by_role.get("billing") or contact).name,
            "executive": (by_role.get("executive") or contact).name,
        }

    def _task_row(self, template: tuple[TaskType, str, str], day: int) -> dict[str, Any]:
        kind, title, description = template
        escalation = kind == TaskType.ESCALATION
        assignee = (
            (self.manager_id or self.csm_id) if escalation and self.c.plan == "Enterprise" else self.csm_id
        )
        names = self._fill(day)
        return {
            "customer_id": self.customer_id,
            "title": title.format(**names)[:200],
            "description": description.format(**names),
            "task_type": kind,
            "assigned_to_user_id": assignee,
            "assigned_to_role": "manager" if assignee == self.manager_id else "csm",
            "playbook_id": None,
            "playbook_step_id": None,
            "playbook_run_id": None,
            "journey_enrollment_id": None,
        }

    def _done_task(self, day: int, template: tuple[TaskType, str, str]) -> None:
        rng, c = self.rng, self.c
        row = self._task_row(template, day)
        completed = min(self.at(day), self.end_at - dt.timedelta(minutes=1))
        created = completed - dt.timedelta(days=rng.randint(2, 21), hours=rng.randint(0, 8))
        if rng.random() < 0.12:
            status, outcome, notes, spent = TaskStatus.CANCELLED, None, "No longer needed.", None
        else:
            weights = {HEALTHY: (70, 10, 10, 10), AT_RISK: (45, 20, 15, 20)}.get(c.fate, (30, 30, 10, 30))
            outcome = rng.choices(list(_OUTCOME_NOTES), weights)[0]
            notes = rng.choice(_OUTCOME_NOTES[outcome]).format(contact=self.contact_for(day).first)
            status = TaskStatus.COMPLETED
            spent = rng.randint(*_TIME_SPENT[template[0]])
        row.update(
            priority=rng.choices(list(Priority), (25, 50, 20, 5))[0],
            status=status,
            blocked_reason=None,
            due_date=(completed + dt.timedelta(days=rng.randint(-3, 3))).date(),
            completed_at=completed,
            outcome=outcome,
            outcome_notes=notes,
            time_spent_minutes=spent,
            created_at=created,
            updated_at=completed,
        )
        self.writer.add(CSTask.__table__, row)

    def _open_task(self, template: tuple[TaskType, str, str]) -> None:
        rng, c, book = self.rng, self.c, self.book
        row = self._task_row(template, book.days - 1)
        due_in = rng.choices(
            (rng.randint(-14, -1), 0, rng.randint(1, 6), rng.randint(7, 30)), (25, 15, 30, 30)
        )[0]
        due = book.as_of + dt.timedelta(days=due_in)
        created_day = book.days + min(0, due_in) - rng.randint(1, 14)
        created = self.at(min(max(created_day, self.first), book.days - 1))
        statuses = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)
        status = rng.choices(statuses, (55, 35, 10))[0]
        risky = template in _RISK_TASKS.values() or c.fate == CHURN_BOUND
        priority_weights = (5, 25, 45, 25) if risky else (25, 50, 20, 5)
        row.update(
            priority=rng.choices(list(Priority), priority_weights)[0],
            status=status,
            blocked_reason=rng.choice(_BLOCKED_REASONS) if status == TaskStatus.BLOCKED else None,
            due_date=due,
            completed_at=None,
            outcome=None,
            outcome_notes=None,
            time_spent_minutes=rng.randint(5, 30) if status == TaskStatus.IN_PROGRESS else None,
            created_at=created,
            updated_at=None,
        )
        self.writer.add(CSTask.__table__, row)
