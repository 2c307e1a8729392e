"""Customer facts keep the day they took effect: imports as of a day write a
version, an older snapshot goes into history without touching today's row,
and facts as of a day read the version in force then. Both dialects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, CustomerHistory
from cs_cli.domain import CustomerStatus
from cs_cli.services.facts import fact_versions, facts_as_of
from cs_cli.services.importers import import_file

HEADER = "external_id,name,arr,seats,status,contract_start,Contract\n"


def end_of(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), tzinfo=dt.UTC)


def snapshot(engine, admin, tmp_path: Path, day: str, rows: str):
    path = tmp_path / f"customers-{day}.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    with transaction(engine) as session:
        return import_file(session, admin, "customers", path, now=end_of(day))


def facts(engine, day: str) -> dict[str, dict]:
    """The facts as of `day`, read both ways: ranking the history for the
    day, and from the versions' validity ranges (fact_versions); the same."""

    def read(session) -> dict[str, dict]:
        f = facts_as_of(session, dt.date.fromisoformat(day))
        rows = session.execute(
            sa.select(Customer.external_id, f).join(f, f.c.customer_id == Customer.id)
        ).all()
        return {r.external_id: dict(r._mapping) for r in rows}

    with transaction(engine) as session:
        ranked = read(session)
        with fact_versions(session):
            from_ranges = read(session)
    assert from_ranges == ranked
    return ranked


def versions(engine, external_id: str) -> list[tuple]:
    with transaction(engine) as session:
        return session.execute(
            sa.select(CustomerHistory.effective_at, CustomerHistory.arr, CustomerHistory.status)
            .join(Customer, Customer.id == CustomerHistory.customer_id)
            .where(Customer.external_id == external_id)
            .order_by(CustomerHistory.effective_at)
        ).all()


def test_monthly_snapshots_give_facts_their_days(engine, admin, tmp_path):
    snapshot(
        engine,
        admin,
        tmp_path,
        "2026-01-31",
        "A,Alpha,1000,10,active,,Month-to-month\nB,Beta,500,5,active,2026-03-01,\n",
    )
    snapshot(
        engine,
        admin,
        tmp_path,
        "2026-02-28",
        "A,Alpha,2000,10,active,,One year\nB,Beta,500,5,active,2026-03-01,\n",
    )
    again = snapshot(engine, admin, tmp_path, "2026-02-28", "A,Alpha,2000,10,active,,One year\n")
    # The same snapshot again records nothing new.
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert [(v.arr, v.status) for v in versions(engine, "A")] == [
        (Decimal("1000.00"), CustomerStatus.ACTIVE),
        (Decimal("2000.00"), CustomerStatus.ACTIVE),
    ]
    assert len(versions(engine, "B")) == 1

    mid_feb, march = facts(engine, "2026-02-15"), facts(engine, "2026-03-01")
    assert mid_feb["A"]["arr"] == Decimal("1000.00") and mid_feb["A"]["attributes"] == {
        "Contract": "Month-to-month"
    }
    assert march["A"]["arr"] == Decimal("2000.00") and march["A"]["attributes"] == {"Contract": "One year"}
    # A exists from its first snapshot; B from its contract start.
    assert (mid_feb["A"]["is_customer"], mid_feb["B"]["is_customer"]) == (True, False)
    assert march["B"]["is_customer"] and march["B"]["tenure_days"] == 1
    assert facts(engine, "2026-01-30")["A"]["is_customer"] is False
    # Before its first snapshot a customer with a contract start has its first facts.
    assert mid_feb["A"]["tenure_days"] == 16


def test_an_older_snapshot_goes_into_history_only(engine, admin, tmp_path):
    snapshot(engine, admin, tmp_path, "2026-03-31", "A,Alpha,3000,10,active,2025-01-01,\n")
    old = snapshot(engine, admin, tmp_path, "2026-01-31", "A,Alpha,1000,10,active,2025-01-01,\n")
    assert old.backdated == 1 and (old.created, old.updated) == (0, 0)
    with transaction(engine) as session:
        assert session.scalar(sa.select(Customer.arr)) == Decimal("3000.00")  # today's row stays
    assert [v.arr for v in versions(engine, "A")] == [Decimal("1000.00"), Decimal("3000.00")]
    assert facts(engine, "2026-02-10")["A"]["arr"] == Decimal("1000.00")
    assert facts(engine, "2026-04-01")["A"]["arr"] == Decimal("3000.00")
    # Before the first version, the first version's facts (the contract began earlier).
    assert facts(engine, "2025-06-01")["A"]["arr"] == Decimal("1000.00")
    # Imported again, it adds nothing.
    assert (
        snapshot(engine, admin, tmp_path, "2026-01-31", "A,Alpha,1000,10,active,2025-01-01,\n").backdated == 0
    )


def test_churn_counts_from_churned_at(engine, admin, tmp_path):
    snapshot(engine, admin, tmp_path, "2026-01-31", "A,Alpha,1000,10,active,2025-01-01,\n")
    # Churned with no date in the file: it churned at the snapshot.
    snapshot(engine, admin, tmp_path, "2026-03-31", "A,Alpha,1000,10,churned,2025-01-01,\n")
    with transaction(engine) as session:
        assert session.scalar(sa.select(Customer.churned_at)) == end_of("2026-03-31")
    assert facts(engine, "2026-03-30")["A"]["churned"] is False
    assert facts(engine, "2026-03-31")["A"]["churned"] is True
    # A CRM export with a churn date, imported once today: churned from that date only.
    path = tmp_path / "crm.csv"
    path.write_text(
        "external_id,status,churned_at,contract_start\nB,churned,2026-05-10T10:00:00Z,2024-01-01\n"
    )
    with transaction(engine) as session:
        import_file(session, admin, "customers", path, now=end_of("2026-11-30"))
    assert facts(engine, "2026-05-09")["B"]["churned"] is False
    assert facts(engine, "2026-05-10")["B"]["churned"] is True
    assert facts(engine, "2025-05-10")["B"]["is_customer"] is True


def test_a_renewal_learned_later_is_taken_back_to_the_one_then_in_force(engine, admin, tmp_path):
    path = tmp_path / "renewals.csv"
    path.write_text(
        "external_id,name,contract_start,renewal_date\n"
        "A,Alpha,2023-03-01,2027-03-01\n"  # renewed every year; imported once, in 2026
        "B,Beta,2025-01-01,2028-01-01\n",  # a three-year contract
        encoding="utf-8",
    )
    with transaction(engine) as session:
        import_file(session, admin, "customers", path, now=end_of("2026-06-01"))
    # Read as of a day before the import: the next renewal after that day,
    # not today's (that would put every renewing customer a year from it).
    then = facts(engine, "2025-06-01")
    assert then["A"]["renewal_date"] == dt.date(2026, 3, 1)
    assert then["B"]["renewal_date"] == dt.date(2026, 1, 1)
    # Known by the day: as recorded, however far ahead (a multi-year contract).
    now = facts(engine, "2026-06-02")
    assert now["A"]["renewal_date"] == dt.date(2027, 3, 1)
    assert now["B"]["renewal_date"] == dt.date(2028, 1, 1)


def test_of_two_versions_at_one_moment_the_later_recorded_is_in_force(engine, admin, tmp_path):
    snapshot(engine, admin, tmp_path, "2026-01-31", "A,Alpha,1000,10,active,2025-01-01,\n")
    with transaction(engine) as session:
        a = session.scalar(sa.select(Customer.id))
        first = session.scalar(sa.select(CustomerHistory.effective_at))
        # A correction recorded at the same moment (ids tell which came later).
        session.execute(
            sa.insert(CustomerHistory).values(
                customer_id=a,
                effective_at=first,
                recorded_at=first,
                arr=Decimal("1100.00"),
                seats=10,
                status="active",
            )
        )
    assert facts(engine, "2026-02-01")["A"]["arr"] == Decimal("1100.00")
    # Before both: the first recorded of the first moment.
    assert facts(engine, "2025-06-01")["A"]["arr"] == Decimal("1000.00")
    assert facts(engine, "2026-01-31")["A"]["arr"] == Decimal("1100.00")
