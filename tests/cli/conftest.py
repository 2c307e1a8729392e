"""Fixtures the command tests share."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from cs_cli.db.models import Customer, HealthScoreHistory, NpsResponse
from cs_cli.domain import HealthStatus

HEADER = "external_id,name,arr,plan,contract_start,renewal_date,status,churned_at,csm_email\n"
# January's snapshot: A, B, C, E customers since 2025; D's contract starts
# 2026-02-10. A and B are ana's.
JANUARY = HEADER + (
    "A,Alpha,1000,Growth,2025-01-01,2026-03-15,active,,ana@example.com\n"
    "B,Beta,2000,Growth,2025-06-01,2026-06-01,active,,ana@example.com\n"
    "C,Gamma,3000,Growth,2025-03-01,2026-04-20,active,,\n"
    "D,Delta,500,Growth,2026-02-10,2027-02-10,active,,\n"
    "E,Epsilon,4000,Enterprise,2025-01-01,2026-07-01,active,,\n"
)
# Mid-February: A expands to 1500, C contracts to 2000, B churns on the 20th.
FEBRUARY = (
    JANUARY.replace("A,Alpha,1000", "A,Alpha,1500")
    .replace("C,Gamma,3000", "C,Gamma,2000")
    .replace("2026-06-01,active,,", "2026-06-01,churned,2026-02-20T10:00:00Z,")
)


@pytest.fixture
def dated_book(run_cli, tmp_path, engine, admin):
    """Five customers over two monthly snapshots, NPS and scores: the
    analytics tests work every figure out by hand from it."""
    assert run_cli("users", "add", "ana@example.com").exit_code == 0
    for day, text in (("2026-01-01", JANUARY), ("2026-02-15", FEBRUARY)):
        path = tmp_path / f"customers-{day}.csv"
        path.write_text(text)
        result = run_cli("import", "customers", path, "--as-of", day)
        assert result.exit_code == 0, result.stderr
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.select(Customer.external_id, Customer.id)).all())
        noon = dt.time(12, tzinfo=dt.UTC)
        for n, (ext, score, day) in enumerate(
            [
                # February: two promoters, a passive, two detractors: NPS 0.
                ("A", 10, "2026-02-03"),
                ("C", 9, "2026-02-11"),
                ("E", 7, "2026-02-12"),
                ("E", 3, "2026-02-20"),
                ("B", 0, "2026-02-19"),
                # March: one promoter, NPS 100 of one response: thin.
                ("A", 9, "2026-03-02"),
            ]
        ):
            when = dt.datetime.combine(dt.date.fromisoformat(day), noon)
            conn.execute(
                sa.insert(NpsResponse).values(
                    external_id=f"N{n}", customer_id=ids[ext], score=score, responded_at=when
                )
            )
        for ext, day, status, p in [
            ("A", "2026-02-20", HealthStatus.AT_RISK, 0.4),
            ("C", "2026-02-25", HealthStatus.HEALTHY, 0.1),
            # After the as-of day of the tests: must not count.
            ("C", "2026-03-05", HealthStatus.CRITICAL, 0.9),
        ]:
            conn.execute(
                sa.insert(HealthScoreHistory).values(
                    customer_id=ids[ext],
                    as_of=dt.date.fromisoformat(day),
                    overall_score=50,
                    health_status=status,
                    churn_probability=p,
                    measures={},
                    calculated_at=dt.datetime(2026, 3, 6, tzinfo=dt.UTC),
                )
            )
    return ids


@pytest.fixture
def login_role(db_url: str, engine, run_cli) -> Iterator[callable]:
    """Make PostgreSQL login roles with the runtime's privileges on the test
    database; returns the URL that connects as one. Dropped afterwards."""
    made: list[str] = []
    assert run_cli("users", "add", "nobody@example.com").exit_code == 0

    def make() -> tuple[str, str]:
        name = f"cs_test_{uuid.uuid4().hex[:10]}"
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {name}")
            conn.exec_driver_sql(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"
            )
            conn.exec_driver_sql(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}")
        made.append(name)
        url = sa.engine.make_url(db_url).set(username=name, password=None)
        return name, url.render_as_string(hide_password=False)

    yield make
    with engine.begin() as conn:
        for name in made:
            conn.exec_driver_sql(f"REASSIGN OWNED BY {name} TO CURRENT_USER")
            conn.exec_driver_sql(f"DROP OWNED BY {name}")
            conn.exec_driver_sql(f"DROP ROLE {name}")
