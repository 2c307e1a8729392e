"""What the journey engine tests share: small journeys written as YAML into a
tmp folder and loaded with the catalog, the tick, and readers of the rows a
user would check (enrollments, step runs, outbox messages, tasks)."""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    CSTask,
    Customer,
    Journey,
    JourneyEnrollment,
    JourneyStep,
    JourneyStepRun,
    OutboxMessage,
)
from cs_cli.domain import Actor, TaskOutcome
from cs_cli.services.journeys import catalog
from cs_cli.services.journeys.engine import TickResult, tick

# A Monday morning; the small book's renewals fall in the weeks after it.
T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


@dataclass
class Enrollment:
    id: int
    customer: str
    status: str
    success: bool | None
    exit_reason: str | None
    step: str | None
    version: int
    facts: dict[str, Any]
    next_run_at: dt.datetime | None
    enrolled_at: dt.datetime
    completed_at: dt.datetime | None


class Kit:
    """Load journeys from YAML text, enroll, tick, and read what happened."""

    T0 = T0

    @staticmethod
    def day(n: float) -> dt.datetime:
        return day(n)

    def __init__(self, engine: sa.Engine, admin: Actor, folder: Path) -> None:
        self.engine = engine
        self.admin = admin
        self.folder = folder
        (folder / "templates" / "emails").mkdir(parents=True, exist_ok=True)

    # --- arranging ---

    def template(self, name: str, text: str, html: str | None = None) -> None:
        emails = self.folder / "templates" / "emails"
        (emails / f"{name}.txt.j2").write_text(text)
        if html is not None:
            (emails / f"{name}.html.j2").write_text(html)

    def load(self, text: str, *, at: dt.datetime = T0) -> str:
        """Write one journey file and load it (that file only); returns its key."""
        text = textwrap.dedent(text)
        key = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("key:"))
        path = self.folder / f"{key}.yaml"
        path.write_text(text)
        with transaction(self.engine) as s:
            catalog.sync(s, self.admin, catalog.read(path), full=False, now=at)
        return key

    def enroll(self, key: str, *customers: str, at: dt.datetime = T0):
        from cs_cli.services.journeys.enroll import enroll

        with transaction(self.engine) as s:
            return enroll(s, self.admin, key, customers=list(customers), now=at)

    def tick(self, at: dt.datetime, **kw: Any) -> TickResult:
        return tick(self.engine, self.admin, now=at, **kw)

    def customer_id(self, external_id: str) -> int:
        with transaction(self.engine) as s:
            return s.scalar(sa.select(Customer.id).where(Customer.external_id == external_id))

    def complete(self, task_id: int, outcome: str, at: dt.datetime) -> None:
        """Complete a task as a CSM would (the task services)."""
        from cs_cli.services.tasks.bulk import Target
        from cs_cli.services.tasks.lifecycle import complete

        with transaction(self.engine) as s:
            complete(
                s, self.admin, Target(ids=(task_id,)), outcome=TaskOutcome(outcome), today=at.date(), now=at
            )

    def cancel(self, task_id: int, at: dt.datetime) -> None:
        from cs_cli.services.tasks.bulk import Target
        from cs_cli.services.tasks.lifecycle import cancel

        with transaction(self.engine) as s:
            cancel(s, self.admin, Target(ids=(task_id,)), reason="not needed", today=at.date(), now=at)

    # --- reading ---

    def enrollments(self, key: str) -> dict[str, Enrollment]:
        """The journey's enrollments by customer (the latest one of each)."""
        e = JourneyEnrollment
        with transaction(self.engine) as s:
            rows = s.execute(
                sa.select(e, Customer.external_id, JourneyStep.key)
                .join(Journey, Journey.id == e.journey_id)
                .join(Customer, Customer.id == e.customer_id)
                .outerjoin(JourneyStep, JourneyStep.id == e.current_step_id)
                .where(Journey.key == key)
                .order_by(e.id)
            ).all()
            return {
                ext: Enrollment(
                    id=row.id,
                    customer=ext,
                    status=row.status.value,
                    success=row.success,
                    exit_reason=row.exit_reason,
                    step=step,
                    version=row.journey_version,
                    facts=dict(row.facts or {}),
                    next_run_at=row.next_run_at,
                    enrolled_at=row.enrolled_at,
                    completed_at=row.completed_at,
                )
                for row, ext, step in rows
            }

    def count(self, model: Any, *where: Any) -> int:
        with transaction(self.engine) as s:
            return s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0

    def runs(self, key: str) -> list[tuple[str, str, int, str]]:
        """(customer, step key, visit, outcome) of every step run of the journey, in order."""
        r = JourneyStepRun
        with transaction(self.engine) as s:
            return [
                tuple(row)
                for row in s.execute(
                    sa.select(Customer.external_id, r.step_key, r.visit, r.outcome)
                    .join(JourneyEnrollment, JourneyEnrollment.id == r.enrollment_id)
                    .join(Journey, Journey.id == JourneyEnrollment.journey_id)
                    .join(Customer, Customer.id == JourneyEnrollment.customer_id)
                    .where(Journey.key == key)
                    .order_by(r.id)
                )
            ]

    def path(self, key: str, customer: str) -> list[str]:
        return [step for ext, step, _, _ in self.runs(key) if ext == customer]

    def outbox(self) -> dict[str, OutboxMessage]:
        with transaction(self.engine) as s:
            rows = s.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
            s.expunge_all()
            return {m.idempotency_key: m for m in rows}

    def tasks(self, customer: str | None = None) -> list[CSTask]:
        with transaction(self.engine) as s:
            stmt = sa.select(CSTask).join(Customer, Customer.id == CSTask.customer_id).order_by(CSTask.id)
            if customer is not None:
                stmt = stmt.where(Customer.external_id == customer)
            rows = s.scalars(stmt).all()
            s.expunge_all()
            return list(rows)

    def steps(self, key: str) -> dict[str, JourneyStep]:
        with transaction(self.engine) as s:
            rows = s.scalars(
                sa.select(JourneyStep)
                .join(Journey, Journey.id == JourneyStep.journey_id)
                .where(Journey.key == key, JourneyStep.version == Journey.version)
            ).all()
            s.expunge_all()
            return {row.key: row for row in rows}

    def journey(self, key: str) -> Journey:
        with transaction(self.engine) as s:
            row = s.scalars(sa.select(Journey).where(Journey.key == key)).one()
            s.expunge(row)
            return row


@pytest.fixture
def kit(engine: sa.Engine, admin: Actor, tmp_path: Path) -> Kit:
    return Kit(engine, admin, tmp_path / "journeys")
