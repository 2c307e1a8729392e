"""The whole chain over 120 simulated days, as cron and an admin would drive it.

A small demo book, then `cs run due --as-of DAY` at noon of each simulated
day (every scheduled job in its documented order: recalc, segments,
playbooks, automation, alerts, journeys, reminders, delivery to a real SMTP
server, retention), and on chosen days the imports a user would make from
CSV files, stamped with `cs import --as-of DAY` (the evening of that day, so
the next noon's run acts on them):

- day 3 and day 60: brand-new customers -> the onboarding journey enrolls
  each once and emails its welcome once;
- day 20: a champion leaves (contacts with left_at) -> Champion Change, once;
- day 30: a ticket imported as escalated -> the escalation task, the email to
  the CSM and the escalation alert, once each;
- one healthy customer's product usage, imported daily, stops on day 35 ->
  its usage-decline alert on the day the alert's formula first holds, and
  health-drop alert once, never again while open;
- renewals coming within 90 days (the book's own, and one moved by an
  import on day 50) -> Renewal Prep once per customer and renewal date, on
  the first run once the renewal is 90 days away.

The jobs run every fifth day, and every day around an import or an expected
effect, so the 120 days fit the test's time (cron would run them every few
minutes; each run here stands for a whole day's). Each expectation is the
first day that ran on or after the day the plan says. Then every job runs again for the last
day with --force, and nothing new appears.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.models import (
    Alert,
    Contact,
    CSTask,
    Customer,
    DomainEvent,
    Journey,
    JourneyEnrollment,
    JourneyStepRun,
    OutboxMessage,
    Playbook,
    PlaybookRun,
    UsageEvent,
    User,
)

pytestmark = pytest.mark.slow

START = dt.date(2026, 3, 2)  # the demo book ends on this day (a Monday)
DAYS = 120
NEW_CUSTOMERS = {3: ("N-001", "N-002"), 60: ("N-003",)}
CHAMPION_DAY = 20
ESCALATION_DAY = 30
USAGE_STOPS = 35  # the usage customer's last day with usage is the day before
RENEWAL_MOVE_DAY = 50
RENEWAL_MOVE_TO = 60  # days after RENEWAL_MOVE_DAY


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def noon(n: int) -> str:
    return f"{day(n).isoformat()}T12:00"


def run_days() -> list[int]:
    """Every fifth day, and the days where something is expected: the first
    days, the day after each import, the days the usage alert may come."""
    expected = {1, 2, 3, 5, 6, DAYS} | {n + 1 for n in (CHAMPION_DAY, ESCALATION_DAY, RENEWAL_MOVE_DAY)}
    expected |= {n + 1 for n in NEW_CUSTOMERS} | set(range(USAGE_STOPS + 4, USAGE_STOPS + 9))
    return sorted(expected | set(range(1, DAYS + 1, 5)))


def first_run_on_or_after(n: int, days: list[int]) -> int:
    return next(d for d in days if d >= n)


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


class Sim:
    """The CLI against the test database, with the day's files in a folder."""

    def __init__(self, run_cli, engine, folder: Path, env: dict[str, str]) -> None:
        self.run_cli = run_cli
        self.engine = engine
        self.folder = folder
        self.env = env

    def cs(self, *args: str):
        result = self.run_cli(*args, env=self.env)
        assert result.exit_code == 0, (args, result)
        return result

    def load(self, entity: str, n: int, rows: list[dict], tag: str = "") -> None:
        """Import rows as a user would: a CSV file, stamped at the end of day n."""
        path = write_csv(self.folder / f"day{n:03d}-{entity}{tag}.csv", rows)
        result = self.cs("import", entity, str(path), "--as-of", day(n).isoformat())
        assert f"{len(rows)} rows read" in result.stderr, result

    def scalar(self, stmt):
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def rows(self, stmt):
        with self.engine.connect() as conn:
            return conn.execute(stmt).all()

    def customer_id(self, external_id: str) -> int:
        return self.scalar(sa.select(Customer.id).where(Customer.external_id == external_id))


def test_120_days_of_cron_fire_each_trigger_once_on_its_day(run_cli, engine, admin, tmp_path, smtp_server):
    env = {
        "CS_SMTP_HOST": "127.0.0.1",
        "CS_SMTP_PORT": str(smtp_server.port),
        "CS_SMTP_FROM": "cs@example.com",
        # The checks below read every message of the 120 days.
        "CS_RETENTION_OUTBOX": "off",
    }
    folder = tmp_path / "files"
    folder.mkdir()
    sim = Sim(run_cli, engine, folder, env)
    days, cast = simulate(sim)

    check_everything(sim, days, cast, smtp_server)

    # Every job again for the last day, forced: nothing new anywhere.
    before = snapshot(sim)
    sim.cs("run", *JOB_NAMES, "--force", "--as-of", noon(days[-1]))
    sim.cs("run", "due", "--as-of", noon(days[-1]))
    assert snapshot(sim) == before


def simulate(sim: Sim) -> tuple[list[int], dict[str, str]]:
    """The demo book, then the 120 days; returns the days that ran and the cast."""
    sim.cs("demo", "--customers", "50", "--months", "3", "--seed", "7", "--as-of", START.isoformat())
    days = run_days()
    # The first run scores the book; the cast is chosen from it.
    sim.cs("run", "due", "--as-of", noon(days[0]))
    cast = choose_cast(sim)
    usage_rows = usage_pattern(sim, cast["usage"])
    fed_until = 0
    for n in range(days[0], DAYS + 1):
        if n in days and n != days[0]:
            # The usage customer's product usage, exported before each run.
            upto = min(n, USAGE_STOPS - 1)
            if upto > fed_until:
                feed_usage(sim, cast["usage"], usage_rows, fed_until + 1, upto, n)
                fed_until = upto
            sim.cs("run", "due", "--as-of", noon(n))
        evening_imports(sim, n, cast)
    return days, cast


JOB_NAMES = (
    "health-refresh",
    "segment-refresh",
    "playbook-evaluate",
    "automation",
    "alert-check",
    "journey-tick",
    "task-reminders",
    "outbox-deliver",
)


def choose_cast(sim: Sim) -> dict[str, str]:
    """Four healthy active customers whose renewals stay beyond the 120 days'
    90-day window and who have a champion: one stops using the product, one
    loses its champion, one has a ticket escalated, one gets a renewal date
    moved within 90 days."""
    from cs_cli.db.models import HealthScore

    far = day(DAYS) + dt.timedelta(days=91)
    champion = (
        sa.select(Contact.id)
        .where(Contact.customer_id == Customer.id, Contact.is_champion, Contact.left_at.is_(None))
        .exists()
    )
    found = sim.rows(
        sa.select(Customer.external_id)
        .join(HealthScore, HealthScore.customer_id == Customer.id)
        .where(
            Customer.status == "active",
            Customer.renewal_date > far,
            HealthScore.health_status == "healthy",
            Customer.csm_id.is_not(None),
            champion,
        )
        .order_by(HealthScore.overall_score.desc(), Customer.external_id)
    )
    assert len(found) >= 4, f"the demo book has too few healthy customers renewing late: {found}"
    names = [r[0] for r in found]
    return {"usage": names[0], "champion": names[1], "escalation": names[2], "renewal": names[3]}


def usage_pattern(sim: Sim, customer: str) -> list[tuple[str | None, str]]:
    """(contact, feature) pairs the customer used in the demo's last four weeks."""
    cid = sim.customer_id(customer)
    rows = sim.rows(
        sa.select(Contact.external_id, UsageEvent.event_name)
        .outerjoin(Contact, Contact.id == UsageEvent.contact_id)
        .where(
            UsageEvent.customer_id == cid,
            UsageEvent.occurred_at >= dt.datetime.combine(day(-28), dt.time(), tzinfo=dt.UTC),
        )
        .distinct()
        .order_by(Contact.external_id, UsageEvent.event_name)
    )
    assert rows, f"{customer} has no usage in the demo's last weeks"
    return [(r[0], r[1]) for r in rows]


def feed_usage(sim: Sim, customer: str, pattern, first: int, last: int, n: int) -> None:
    """Every pair of the pattern on every day from `first` to `last`, and a
    call each Monday, so the customer stays as healthy as it was."""
    events, calls = [], []
    for d in range(first, last + 1):
        at = dt.datetime.combine(day(d), dt.time(9), tzinfo=dt.UTC).isoformat()
        events += [
            {"customer_id": customer, "contact_id": contact or "", "event_name": name, "occurred_at": at}
            for contact, name in pattern
        ]
        if day(d).weekday() == 0:
            calls.append(
                {
                    "external_id": f"TP-{customer}-{d}",
                    "customer_id": customer,
                    "touchpoint_type": "call",
                    "occurred_at": at,
                    "subject": "Weekly check-in",
                }
            )
    sim.load("events", n, events, tag="-usage")
    if calls:
        sim.load("touchpoints", n, calls)


def evening_imports(sim: Sim, n: int, cast: dict[str, str]) -> None:
    csm = sim.scalar(
        sa.select(User.email).join(Customer, Customer.csm_id == User.id).order_by(User.email).limit(1)
    )
    if n in NEW_CUSTOMERS:
        new = NEW_CUSTOMERS[n]
        sim.load(
            "customers",
            n,
            [
                {
                    "external_id": ext,
                    "name": f"Newco {ext}",
                    "arr": "24000",
                    "plan": "pro",
                    "seats": "20",
                    "contract_start": day(n).isoformat(),
                    "renewal_date": (day(n) + dt.timedelta(days=365)).isoformat(),
                    "csm_email": csm,
                }
                for ext in new
            ],
        )
        sim.load(
            "contacts",
            n,
            [
                {
                    "external_id": f"{ext}-C1",
                    "customer_id": ext,
                    "name": f"Nora {ext}",
                    "email": f"nora.{ext.lower()}@newco.example",
                    "is_champion": "true",
                    "left_at": "",
                }
                for ext in new
            ],
        )
    if n == CHAMPION_DAY:
        cid = sim.customer_id(cast["champion"])
        ext, name, email = sim.rows(
            sa.select(Contact.external_id, Contact.name, Contact.email)
            .where(Contact.customer_id == cid, Contact.is_champion, Contact.left_at.is_(None))
            .order_by(Contact.id)
            .limit(1)
        )[0]
        left = dt.datetime.combine(day(n), dt.time(10), tzinfo=dt.UTC).isoformat()
        sim.load(
            "contacts",
            n,
            [
                {
                    "external_id": ext,
                    "customer_id": cast["champion"],
                    "name": name,
                    "email": email,
                    "is_champion": "true",
                    "left_at": left,
                }
            ],
        )
    if n == ESCALATION_DAY:
        at = dt.datetime.combine(day(n), dt.time(9), tzinfo=dt.UTC)
        sim.load(
            "tickets",
            n,
            [
                {
                    "external_id": "T-E2E-1",
                    "customer_id": cast["escalation"],
                    "opened_at": (at - dt.timedelta(days=2)).isoformat(),
                    "subject": "Exports fail for every user",
                    "priority": "high",
                    "status": "open",
                    "escalated": "true",
                    "escalated_at": at.isoformat(),
                }
            ],
        )
    if n == RENEWAL_MOVE_DAY:
        moved = day(n) + dt.timedelta(days=RENEWAL_MOVE_TO)
        sim.load("customers", n, [{"external_id": cast["renewal"], "renewal_date": moved.isoformat()}])


# --- the checks ---------------------------------------------------------------------------------------


def on_day(moment: dt.datetime) -> int:
    return (moment.astimezone(dt.UTC).date() - START).days


def check_everything(sim: Sim, days: list[int], cast: dict[str, str], smtp) -> None:
    check_onboarding(sim, days, smtp)
    check_champion_change(sim, days, cast)
    check_escalation(sim, days, cast)
    check_usage_drop(sim, days, cast)
    check_renewals(sim, days, cast)
    check_nothing_doubled(sim)


def check_onboarding(sim: Sim, days: list[int], smtp) -> None:
    e = JourneyEnrollment
    enrolled = sim.rows(
        sa.select(Customer.external_id, e.id, e.enrolled_at)
        .join(Customer, Customer.id == e.customer_id)
        .join(Journey, Journey.id == e.journey_id)
        .where(Journey.key == "onboarding")
        .order_by(Customer.external_id)
    )
    # Exactly the new customers, once each, at the first run after their import.
    expected = {ext: first_run_on_or_after(n + 1, days) for n, new in NEW_CUSTOMERS.items() for ext in new}
    assert {ext: on_day(at) for ext, _, at in enrolled} == expected
    # The import recorded customer.created at the end of its --as-of day.
    created = sim.rows(
        sa.select(Customer.external_id, DomainEvent.occurred_at)
        .join(DomainEvent, DomainEvent.customer_id == Customer.id)
        .where(DomainEvent.event_type == "customer.created")
        .order_by(Customer.external_id)
    )
    assert [(ext, on_day(at)) for ext, at in created] == [
        (ext, n) for n, new in NEW_CUSTOMERS.items() for ext in new
    ]

    # One welcome email per new customer: one step run, one outbox message, one delivery.
    for ext, enrollment_id, _ in enrolled:
        welcome = sim.rows(
            sa.select(JourneyStepRun.executed_at).where(
                JourneyStepRun.enrollment_id == enrollment_id, JourneyStepRun.step_key == "welcome_email"
            )
        )
        assert [on_day(at) for (at,) in welcome] == [expected[ext]], ext
        messages = sim.rows(
            sa.select(OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.sent_at).where(
                OutboxMessage.idempotency_key.like(f"journey-{enrollment_id}-welcome_email-%")
            )
        )
        assert [(r, s.value, on_day(at)) for r, s, at in messages] == [
            (f"nora.{ext.lower()}@newco.example", "sent", expected[ext])
        ], ext
    received = Counter(m["To"] for m in smtp.messages if m["Subject"].startswith("Welcome aboard"))
    assert received == Counter(f"nora.{ext.lower()}@newco.example" for ext in expected)
    ids = smtp.message_ids()
    assert len(ids) == len(set(ids)), "a message was delivered twice"


def runs_of(sim: Sim, playbook: str, customer: str | None = None):
    stmt = (
        sa.select(Customer.external_id, PlaybookRun.started_at, PlaybookRun.status)
        .join(Customer, Customer.id == PlaybookRun.customer_id)
        .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
        .where(Playbook.key == playbook)
        .order_by(PlaybookRun.id)
    )
    if customer is not None:
        stmt = stmt.where(Customer.external_id == customer)
    return sim.rows(stmt)


def events_of(sim: Sim, event_type: str, customer: str):
    return sim.rows(
        sa.select(DomainEvent.id, DomainEvent.occurred_at, DomainEvent.data)
        .where(DomainEvent.event_type == event_type, DomainEvent.customer_id == sim.customer_id(customer))
        .order_by(DomainEvent.id)
    )


def alerts_of(sim: Sim, customer: str, alert_type: str):
    return sim.rows(
        sa.select(Alert.raised_at, Alert.severity, Alert.status).where(
            Alert.customer_id == sim.customer_id(customer), Alert.alert_type == alert_type
        )
    )


def check_champion_change(sim: Sim, days: list[int], cast: dict[str, str]) -> None:
    who = cast["champion"]
    (event,) = events_of(sim, "contact.champion_left", who)
    assert on_day(event.occurred_at) == CHAMPION_DAY
    runs = runs_of(sim, "champion_change", who)
    assert [on_day(r.started_at) for r in runs] == [first_run_on_or_after(CHAMPION_DAY + 1, days)]


def check_escalation(sim: Sim, days: list[int], cast: dict[str, str]) -> None:
    who = cast["escalation"]
    expected = first_run_on_or_after(ESCALATION_DAY + 1, days)
    (event,) = events_of(sim, "ticket.escalated", who)
    assert on_day(event.occurred_at) == ESCALATION_DAY and event.data["ticket"] == "T-E2E-1"
    tasks = sim.rows(
        sa.select(CSTask.created_at, CSTask.due_date).where(
            CSTask.customer_id == sim.customer_id(who),
            CSTask.title == "Escalated ticket T-E2E-1: call the customer",
        )
    )
    assert [d for _, d in tasks] == [day(expected + 1)]
    notices = sim.rows(
        sa.select(OutboxMessage.subject).where(
            OutboxMessage.idempotency_key == f"automation:ticket_escalated:{event.id}"
        )
    )
    assert len(notices) == 1 and notices[0].subject.startswith("Escalated ticket T-E2E-1")
    alerts = alerts_of(sim, who, "escalation")
    assert [on_day(a.raised_at) for a in alerts] == [expected]


def check_usage_drop(sim: Sim, days: list[int], cast: dict[str, str]) -> None:
    who = cast["usage"]
    cid = sim.customer_id(who)
    active = {
        at.astimezone(dt.UTC).date()
        for (at,) in sim.rows(sa.select(UsageEvent.occurred_at).where(UsageEvent.customer_id == cid))
    }

    def declined(n: int) -> bool:
        # docs/alerts.md: active days in the last 14 fell by 50% or more
        # against the 14 before, which had at least 4.
        recent = sum(day(n - k) in active for k in range(14))
        before = sum(day(n - 14 - k) in active for k in range(14))
        return before >= 4 and recent * 2 <= before

    expected = next(n for n in days if declined(n))
    assert expected > USAGE_STOPS
    alerts = alerts_of(sim, who, "usage_decline")
    assert [on_day(a.raised_at) for a in alerts] == [expected]

    # Health fell once the usage stopped: one health-drop alert, raised on a
    # day its status fell, and never a second one while it is open.
    # (The demo's own history of scores, before day 1, is not looked at.)
    drops = [
        d for d in (on_day(e.occurred_at) for e in events_of(sim, "health.status_dropped", who)) if d > 0
    ]
    assert drops and all(d >= USAGE_STOPS for d in drops), drops
    (alert,) = alerts_of(sim, who, "health_drop")
    assert on_day(alert.raised_at) in drops and alert.status.value == "open"


def check_renewals(sim: Sim, days: list[int], cast: dict[str, str]) -> None:
    events = sim.rows(
        sa.select(Customer.external_id, DomainEvent.occurred_at, DomainEvent.data)
        .join(Customer, Customer.id == DomainEvent.customer_id)
        .where(DomainEvent.event_type == "customer.renewal_within")
    )
    recorded = Counter((ext, data["renewal_date"]) for ext, _, data in events)
    assert all(n == 1 for n in recorded.values()), recorded
    # Every active customer whose renewal came within 90 days of a run day,
    # on the first such day; the moved renewal after its import.
    expected: dict[tuple[str, str], int] = {}
    for ext, renewal in sim.rows(
        sa.select(Customer.external_id, Customer.renewal_date).where(
            Customer.status == "active", Customer.renewal_date.is_not(None)
        )
    ):
        if ext == cast["renewal"]:
            expected[(ext, renewal.isoformat())] = first_run_on_or_after(RENEWAL_MOVE_DAY + 1, days)
            continue
        eligible = [n for n in days if 0 <= (renewal - day(n)).days <= 90]
        if eligible:
            expected[(ext, renewal.isoformat())] = eligible[0]
    assert {(ext, data["renewal_date"]): on_day(at) for ext, at, data in events} == expected
    runs = runs_of(sim, "renewal_prep")
    assert Counter(ext for ext, _, _ in runs) == Counter(ext for ext, _ in expected)
    assert {(ext, on_day(at)) for ext, at, _ in runs} == {(ext, n) for (ext, _), n in expected.items()}


def check_nothing_doubled(sim: Sim) -> None:
    keys = sim.rows(
        sa.select(OutboxMessage.idempotency_key, sa.func.count())
        .group_by(OutboxMessage.idempotency_key)
        .having(sa.func.count() > 1)
    )
    assert keys == []
    r = JourneyStepRun
    steps = sim.rows(
        sa.select(r.enrollment_id, r.step_key, r.visit, sa.func.count())
        .group_by(r.enrollment_id, r.step_key, r.visit)
        .having(sa.func.count() > 1)
    )
    assert steps == []
    # Nobody resolved an alert: one alert per customer and type at most.
    alerts = sim.rows(
        sa.select(Alert.customer_id, Alert.alert_type, sa.func.count())
        .group_by(Alert.customer_id, Alert.alert_type)
        .having(sa.func.count() > 1)
    )
    assert alerts == []
    # Nobody finished a playbook's tasks: one run per customer and playbook at most.
    runs = sim.rows(
        sa.select(PlaybookRun.customer_id, PlaybookRun.playbook_id, sa.func.count())
        .group_by(PlaybookRun.customer_id, PlaybookRun.playbook_id)
        .having(sa.func.count() > 1)
    )
    assert runs == []
    # A journey that allows re-enrollment takes a customer again only after
    # its last enrollment ended; the others never twice.
    e = JourneyEnrollment
    spans: dict[tuple[str, int], list] = {}
    for key, again, customer, start, end in sim.rows(
        sa.select(Journey.key, Journey.allow_re_enrollment, e.customer_id, e.enrolled_at, e.completed_at)
        .join(Journey, Journey.id == e.journey_id)
        .order_by(e.enrolled_at, e.id)
    ):
        earlier = spans.setdefault((key, customer), [])
        assert not earlier or again, (key, customer, "enrolled twice")
        overlapping = [(s, ended) for s, ended in earlier if ended is None or ended > start]
        assert overlapping == [], (key, customer, start)
        earlier.append((start, end))


def snapshot(sim: Sim) -> dict[str, int]:
    """How many rows each effect has."""
    models = {
        "alerts": Alert,
        "playbook runs": PlaybookRun,
        "enrollments": JourneyEnrollment,
        "step runs": JourneyStepRun,
        "outbox": OutboxMessage,
        "tasks": CSTask,
    }
    counts = {name: sim.scalar(sa.select(sa.func.count()).select_from(m)) for name, m in models.items()}
    counts["events"] = sim.scalar(sa.select(sa.func.count()).select_from(DomainEvent))
    return counts
