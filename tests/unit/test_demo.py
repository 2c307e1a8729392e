"""`cs demo` and the demo book it loads, on SQLite and Postgres."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Contact,
    CSTask,
    Customer,
    Invoice,
    NpsResponse,
    Playbook,
    Segment,
    SupportTicket,
    Team,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import CustomerStatus, Role, TaskStatus
from cs_cli.errors import BadInput
from cs_cli.services.demo import FEATURES, load_demo

AS_OF = dt.date(2025, 3, 14)
MIDNIGHT = dt.datetime(2025, 3, 14, tzinfo=dt.UTC)
WINDOW_START = dt.date(2024, 9, 14)  # six months before AS_OF
SMALL = ["--customers", "30", "--months", "6", "--as-of", AS_OF.isoformat()]
OPEN = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)


def _load(engine, actor, *, seed: int = 7, reset: bool = False, progress=None):
    with transaction(engine) as session:
        return load_demo(
            session, actor, customers=30, months=6, seed=seed, as_of=AS_OF, reset=reset, progress=progress
        )


def _count(session, model, *where) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _snapshot(session) -> dict:
    """The book in terms that do not depend on generated ids."""
    csm = aliased(User)
    customers = [
        {k: v for k, v in row._mapping.items() if k not in ("id", "csm_id")}
        for row in session.execute(
            sa.select(Customer.__table__, csm.login.label("csm"))
            .join(csm, csm.id == Customer.csm_id)
            .order_by(Customer.external_id)
        )
    ]
    contacts = session.execute(
        sa.select(
            Contact.external_id, Contact.name, Contact.email, Contact.is_champion, Contact.left_at
        ).order_by(Contact.external_id)
    ).all()
    events = session.execute(
        sa.select(
            Customer.external_id,
            UsageEvent.event_name,
            sa.func.count(),
            sa.func.sum(UsageEvent.quantity),
            sa.func.max(UsageEvent.occurred_at),
        )
        .join(Customer, Customer.id == UsageEvent.customer_id)
        .group_by(Customer.external_id, UsageEvent.event_name)
        .order_by(Customer.external_id, UsageEvent.event_name)
    ).all()
    tickets = session.execute(
        sa.select(SupportTicket.external_id, SupportTicket.subject, SupportTicket.opened_at).order_by(
            SupportTicket.external_id
        )
    ).all()
    tasks = sorted(session.execute(sa.select(CSTask.title, CSTask.due_date, CSTask.status)).all())
    counts = {
        model.__tablename__: _count(session, model)
        for model in (User, Team, Invoice, NpsResponse, Touchpoint, CSTask, UsageEvent)
    }
    return {
        "customers": customers,
        "contacts": contacts,
        "events": events,
        "tickets": tickets,
        "tasks": tasks,
        "counts": counts,
    }


def test_loads_a_book_of_the_requested_shape(engine, admin, session):
    calls = []
    summary = _load(engine, admin, progress=lambda *args: calls.append(args))

    assert _count(session, Customer) == summary.customers == 30
    assert _count(session, Team) == 2
    users = session.execute(sa.select(User.login, User.email, User.role, User.team_id)).all()
    demo_users = [u for u in users if u.login != "admin"]
    assert Counter(u.role for u in demo_users) == {Role.MANAGER: 2, Role.CSM: 6}
    assert all(u.email == f"{u.login}@demo.example" and u.team_id is not None for u in demo_users)
    assert summary.counts["api_users"] == 8  # the admin was there before
    for table, written in summary.counts.items():
        existing = 1 if table == "api_users" else 0
        assert written + existing == session.scalar(
            sa.select(sa.func.count()).select_from(sa.table(table))
        ), table
    assert 10_000 <= summary.counts["usage_events"] <= 25_000
    assert calls[-1] == ("activity", 30, 30)

    customers = session.scalars(sa.select(Customer)).all()
    assert len({c.name for c in customers}) == 30
    assert all(c.external_id.startswith("C-000") for c in customers)
    assert all(10_000 <= c.arr <= 2_000_000 for c in customers)
    csm_ids = {i for (i,) in session.execute(sa.select(User.id).where(User.role == Role.CSM))}
    assert {c.csm_id for c in customers} <= csm_ids
    # Plans follow ARR, seats follow plans.
    by_plan = {plan: [c for c in customers if c.plan == plan] for plan in ("Starter", "Growth", "Enterprise")}
    assert set(by_plan) == {c.plan for c in customers}
    avg = {plan: sum(c.arr for c in rows) / len(rows) for plan, rows in by_plan.items() if rows}
    assert avg["Starter"] < avg["Growth"]
    assert max(c.seats for c in by_plan["Starter"]) < max(c.seats for c in customers)
    for c in customers:
        assert c.contract_start < AS_OF
        # Tenure is computed from the contract start; an attribute would be a
        # snapshot that history cannot keep true day by day.
        assert set(c.attributes) >= {
            "contract_type",
            "lifecycle_stage",
            "employee_count",
            "billing_frequency",
        }
        assert "tenure_months" not in c.attributes
        if c.status == CustomerStatus.ACTIVE and c.attributes["contract_type"] == "annual":
            assert AS_OF < c.renewal_date <= AS_OF + dt.timedelta(days=366)
    renewing = [
        c
        for c in customers
        if c.status == CustomerStatus.ACTIVE and c.renewal_date <= AS_OF + dt.timedelta(days=90)
    ]
    assert len(renewing) == summary.renewing_within_90 > 0

    per_customer = Counter(session.scalars(sa.select(Contact.customer_id)))
    assert set(per_customer) == {c.id for c in customers}
    assert min(per_customer.values()) >= 3 and max(per_customer.values()) <= 8
    assert _count(session, Contact, Contact.is_champion) >= 30
    assert _count(session, Contact, Contact.is_exec_sponsor) >= 10


def test_churned_customers_go_quiet_after_churn(engine, admin, session):
    summary = _load(engine, admin)

    churned = session.scalars(sa.select(Customer).where(Customer.status == CustomerStatus.CHURNED)).all()
    assert len(churned) == summary.churned >= 1
    assert _count(session, Customer, Customer.churned_at.is_not(None)) == len(churned)
    before, last_month = 0, 0
    for c in churned:
        assert dt.datetime.combine(WINDOW_START, dt.time(), dt.UTC) < c.churned_at < MIDNIGHT
        assert _count(session, UsageEvent, UsageEvent.customer_id == c.id) > 0
        for model, column in (
            (UsageEvent, UsageEvent.occurred_at),
            (SupportTicket, SupportTicket.opened_at),
            (Touchpoint, Touchpoint.occurred_at),
            (NpsResponse, NpsResponse.responded_at),
        ):
            assert _count(session, model, model.customer_id == c.id, column >= c.churned_at) == 0, model
        assert _count(session, CSTask, CSTask.customer_id == c.id, CSTask.status.in_(OPEN)) == 0
        assert (
            _count(
                session, SupportTicket, SupportTicket.customer_id == c.id, SupportTicket.closed_at.is_(None)
            )
            == 0
        )

        def events(days_before: int, days_after: int, c=c) -> int:
            return _count(
                session,
                UsageEvent,
                UsageEvent.customer_id == c.id,
                UsageEvent.occurred_at >= c.churned_at - dt.timedelta(days=days_before),
                UsageEvent.occurred_at < c.churned_at - dt.timedelta(days=days_after),
            )

        last_month += events(30, 0)
        before += events(60, 30)
    # Usage decays in the weeks before an account churns.
    assert last_month < before / 2


def test_healthy_accounts_grow_their_usage(engine, admin, session):
    _load(engine, admin)

    active = sa.select(Customer.id).where(Customer.status == CustomerStatus.ACTIVE)
    first = _count(
        session,
        UsageEvent,
        UsageEvent.customer_id.in_(active),
        UsageEvent.occurred_at < dt.datetime.combine(WINDOW_START + dt.timedelta(days=30), dt.time(), dt.UTC),
    )
    last = _count(
        session,
        UsageEvent,
        UsageEvent.customer_id.in_(active),
        UsageEvent.occurred_at >= MIDNIGHT - dt.timedelta(days=30),
    )
    assert last > 1.3 * first
    # Breadth grows too: more distinct features in use at the end than at the start.
    features_late = set(
        session.scalars(
            sa.select(UsageEvent.event_name).where(UsageEvent.occurred_at >= MIDNIGHT - dt.timedelta(days=30))
        )
    )
    assert len(features_late) >= 8


def test_usage_events_are_daily_aggregates(engine, admin, session):
    _load(engine, admin)

    rows = session.execute(
        sa.select(
            UsageEvent.customer_id, UsageEvent.contact_id, UsageEvent.event_name, UsageEvent.occurred_at
        )
    ).all()
    keys = Counter((r.customer_id, r.contact_id, r.event_name, r.occurred_at.date()) for r in rows)
    assert max(keys.values()) == 1
    assert {r.event_name for r in rows} <= set(FEATURES)
    assert all(r.occurred_at < MIDNIGHT for r in rows)
    assert session.scalar(sa.select(sa.func.min(UsageEvent.quantity))) >= 1
    contact_ids = set(session.scalars(sa.select(Contact.id)))
    assert {r.contact_id for r in rows} - {None} <= contact_ids
    # Contacts who left stop using the product.
    for contact_id, left_at in session.execute(
        sa.select(Contact.id, Contact.left_at).where(Contact.left_at.is_not(None))
    ):
        assert (
            _count(
                session, UsageEvent, UsageEvent.contact_id == contact_id, UsageEvent.occurred_at >= left_at
            )
            == 0
        )


def test_the_book_carries_risk_signals(engine, admin, session):
    _load(engine, admin)

    assert _count(session, Contact, Contact.is_champion, Contact.left_at.is_not(None)) >= 1
    assert _count(session, Invoice, Invoice.paid_on > Invoice.due_on) >= 3
    assert _count(session, Invoice, Invoice.paid_on.is_(None), Invoice.due_on < AS_OF) >= 1
    assert _count(session, Invoice, Invoice.paid_on <= Invoice.due_on) > _count(
        session, Invoice, Invoice.paid_on > Invoice.due_on
    )

    tickets = session.scalars(sa.select(SupportTicket)).all()
    escalated = [t for t in tickets if t.escalated]
    assert escalated and all(t.escalated_at is not None and t.escalated_at >= t.opened_at for t in escalated)
    assert all(t.escalated_at is None for t in tickets if not t.escalated)
    still_open = [t for t in tickets if t.closed_at is None]
    assert still_open and all(t.status in ("open", "pending") and t.satisfaction is None for t in still_open)
    rated = [t.satisfaction for t in tickets if t.satisfaction is not None]
    assert rated and set(rated) <= {1, 2, 3, 4, 5} and len(set(rated)) >= 3

    scores = list(session.scalars(sa.select(NpsResponse.score)))
    assert scores and min(scores) >= 0 and max(scores) <= 10
    assert any(s >= 9 for s in scores) and any(s <= 6 for s in scores)
    assert _count(session, NpsResponse, NpsResponse.comment.is_not(None)) > 0

    kinds = set(session.scalars(sa.select(Touchpoint.touchpoint_type)))
    assert {"call", "meeting", "email_sent", "email_opened"} <= kinds
    staff = set(session.scalars(sa.select(User.id).where(User.role.in_([Role.CSM, Role.MANAGER]))))
    assert set(session.scalars(sa.select(Touchpoint.user_id))) <= staff
    owned = session.execute(
        sa.select(sa.func.count())
        .select_from(Touchpoint)
        .join(Customer, Customer.id == Touchpoint.customer_id)
        .where(Touchpoint.user_id == Customer.csm_id)
    ).scalar()
    assert owned >= 0.9 * _count(session, Touchpoint)
    assert _count(session, Touchpoint, Touchpoint.sentiment_label == "negative") > 0

    open_tasks = session.scalars(sa.select(CSTask).where(CSTask.status.in_(OPEN))).all()
    due = Counter(
        "overdue" if t.due_date < AS_OF else "today" if t.due_date == AS_OF else "week"
        for t in open_tasks
        if t.due_date <= AS_OF + dt.timedelta(days=6)
    )
    assert due["overdue"] >= 1 and due["today"] >= 1 and due["week"] >= 1
    assert all(t.assigned_to_user_id in staff for t in open_tasks)
    done = session.scalars(sa.select(CSTask).where(CSTask.status == TaskStatus.COMPLETED)).all()
    assert done
    assert all(t.outcome is not None and t.outcome_notes and t.time_spent_minutes > 0 for t in done)
    assert all(t.completed_at < MIDNIGHT for t in done)


def test_same_seed_same_book_and_another_seed_another(engine, admin, session):
    _load(engine, admin, seed=7)
    first = _snapshot(session)
    session.rollback()

    _load(engine, admin, seed=7, reset=True)
    again = _snapshot(session)
    session.rollback()
    assert again == first

    _load(engine, admin, seed=8, reset=True)
    other = _snapshot(session)
    assert other["customers"] != first["customers"]
    assert other["events"] != first["events"]


def test_refuses_to_load_over_customers(engine, admin, session):
    _load(engine, admin)
    with pytest.raises(BadInput, match="already has 30 customers; pass --reset"):
        _load(engine, admin)
    assert _count(session, Customer) == 30


def test_cli_loads_the_demo_and_suggests_next_steps(run_cli, engine, session):
    result = run_cli("demo", *SMALL)

    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert "Loaded the demo book (seed 42, 6 months to 2025-03-14)" in result.stderr
    assert "2 teams, 8 users, 30 customers (2 churned, 7 at risk" in result.stderr
    assert "cs customers list --renewal-within 90 --sort -arr --as-of 2025-03-14" in result.stderr
    assert "cs users list" in result.stderr
    assert "cs export customers --format csv" in result.stderr
    assert "6 segments, 7 playbooks" in result.stderr
    assert _count(session, Playbook, Playbook.is_active) == 7
    advisory = session.scalar(sa.select(Segment).where(Segment.name == "Customer advisory board"))
    assert advisory.customer_count == 5
    spotlight = result.stderr.split("cs customers show ", 1)[1].split()[0]
    customer = session.scalar(sa.select(Customer).where(Customer.external_id == spotlight))
    assert customer is not None and customer.status == CustomerStatus.ACTIVE
    csm = result.stderr.split("cs --user ", 1)[1].split()[0]
    assert session.scalar(sa.select(User.id).where(User.login == csm)) == customer.csm_id

    shown = run_cli("customers", "show", spotlight)
    assert shown.exit_code == 0, shown
    assert customer.name in shown.stdout
    # Scored, with history for trends: the board explains risk from the first look.
    from cs_cli.db.models import HealthScore, HealthScoreHistory

    assert "Scored health as of 2025-03-14 (and 5 earlier days, for trends)" in result.stderr
    assert _count(session, HealthScore) == 30
    days = set(session.scalars(sa.select(HealthScoreHistory.as_of).distinct()))
    assert len(days) == 6 and max(days) == dt.date(2025, 3, 14)
    # The acting user (first in an empty database) is an admin and every demo user can log in.
    assert session.scalar(sa.select(User.role).where(User.login == "admin")) == Role.ADMIN
    assert _count(session, User, User.login.is_(None)) == 0


def test_cli_refuses_when_customers_exist_and_reset_replaces_them(run_cli, session):
    assert run_cli("demo", *SMALL).exit_code == 0
    names = set(session.scalars(sa.select(Customer.name)))
    session.rollback()

    refused = run_cli("demo", *SMALL, "--seed", "8")
    assert refused.exit_code == 2, refused
    assert "error: the database already has 30 customers; pass --reset" in refused.stderr
    assert set(session.scalars(sa.select(Customer.name))) == names
    session.rollback()

    replaced = run_cli("demo", *SMALL, "--seed", "8", "--reset", "--yes")
    assert replaced.exit_code == 0, replaced
    assert "--reset: deleted" in replaced.stderr
    assert _count(session, Customer) == 30
    assert set(session.scalars(sa.select(Customer.name))) != names
    assert _count(session, User) == 9
    assert session.scalar(sa.select(User.role).where(User.login == "admin")) == Role.ADMIN


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--customers", "0"], "--customers must be between 1 and 200,000, not 0"),
        (["--customers", "200001"], "--customers must be between 1 and 200,000, not 200001"),
        (["--months", "0"], "--months must be between 1 and 60, not 0"),
        (["--months", "61"], "--months must be between 1 and 60, not 61"),
    ],
)
def test_cli_rejects_bad_sizes(run_cli, session, args, expected):
    result = run_cli("demo", *args)
    assert result.exit_code == 2, result
    assert f"error: {expected}" in result.stderr
    assert _count(session, Customer) == 0


def test_cli_only_admins_load_the_demo(run_cli, session):
    assert run_cli("demo", *SMALL).exit_code == 0
    csm = session.scalar(sa.select(User.login).where(User.role == Role.CSM).order_by(User.login).limit(1))
    session.rollback()

    result = run_cli("demo", *SMALL, "--reset", "--yes", user=csm)
    assert result.exit_code == 3, result
    assert "loading the demo needs the admin role" in result.stderr
    assert _count(session, Customer) == 30


def test_cli_demo_help(run_cli):
    result = run_cli("demo", "--help")
    assert result.exit_code == 0
    for option in ("--customers", "--months", "--seed", "--reset", "--as-of"):
        assert option in result.stdout


def test_loads_next_to_existing_users_and_teams(engine, admin, session):
    with transaction(engine) as arrange:
        arrange.add(Team(name="Enterprise"))
        arrange.flush()
        team_id = arrange.scalar(sa.select(Team.id))
        arrange.add(User(login="ana", email="ana@example.com", name="Ana", role=Role.CSM, team_id=team_id))

    _load(engine, admin)

    assert sorted(session.scalars(sa.select(Team.name))) == ["Commercial", "Enterprise"]
    ana = session.scalar(sa.select(User).where(User.login == "ana"))
    assert (ana.role, ana.team_id) == (Role.CSM, team_id)
    assert _count(session, User) == 10  # admin, Ana and the demo's 8
    assert _count(session, User, User.team_id == team_id) == 5


def test_reset_asks_for_yes_when_not_at_a_terminal(run_cli, session, admin):
    assert run_cli("demo", *SMALL).exit_code == 0
    before = _count(session, Customer)
    session.rollback()
    result = run_cli("demo", *SMALL, "--seed", "9", "--reset")
    assert result.exit_code == 2
    assert "--reset deletes every row in the database but the audit trail; pass --yes" in result.stderr
    assert _count(session, Customer) == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_sets_up_an_empty_database(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_cli("demo", *SMALL, env={"CS_DATABASE_URL": url})
    assert result.exit_code == 0, result
    listed = run_cli("customers", "list", "--all", "--format", "csv", env={"CS_DATABASE_URL": url})
    assert len(listed.stdout.strip().splitlines()) == 1 + 30


def test_renewal_prep_is_due_before_the_renewal(engine, admin, session):
    # Seed 1 has an account renewing within the weeks its prep task used to be due in.
    _load(engine, admin, seed=1)
    rows = session.execute(
        sa.select(CSTask.title, CSTask.due_date, Customer.renewal_date)
        .join(Customer, Customer.id == CSTask.customer_id)
        .where(CSTask.title.like("Renewal prep:%"), CSTask.status.in_(OPEN))
    ).all()
    assert rows
    assert all(r.due_date < r.renewal_date for r in rows), [r for r in rows if r.due_date >= r.renewal_date]


def test_the_checker_raises_no_second_alert_for_what_the_demo_raised(run_cli, session):
    """The demo's alerts carry the checker's own types: after `cs alerts
    check` no customer has two unresolved alerts saying the same thing."""
    from cs_cli.db.models import Alert
    from cs_cli.domain import AlertStatus

    assert run_cli("demo", *SMALL).exit_code == 0
    demo_types = set(session.scalars(sa.select(Alert.alert_type)))
    # What the checker watches is named as the checker names it.
    assert {"renewal_risk", "support_escalation"}.isdisjoint(demo_types)
    checked = run_cli("alerts", "check", "--as-of", AS_OF.isoformat())
    assert checked.exit_code == 0, checked
    session.expire_all()
    alerts = session.execute(
        sa.select(Alert.customer_id, Alert.alert_type, Alert.title).where(
            Alert.status != AlertStatus.RESOLVED
        )
    ).all()
    words = {"renewal": "renewal", "escalat": "escalation", "usage": "usage", "health": "health"}
    kinds = Counter(
        (a.customer_id, next((kind for word, kind in words.items() if word in a.title.lower()), a.alert_type))
        for a in alerts
    )
    assert [k for k, n in kinds.items() if n > 1] == []
