"""CS tasks: the work a CSM does for a customer."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, Timestamps, enum_column
from cs_cli.enums import Priority, TaskOutcome, TaskStatus, TaskType


class CSTask(Timestamps, Base):
    __tablename__ = "cs_tasks"
    __table_args__ = (
        sa.Index(None, "assigned_to_user_id", "status", "due_date"),
        sa.Index(None, "customer_id", "status"),
        sa.Index(None, "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))

    playbook_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cs_playbooks.id", ondelete="SET NULL"))
    playbook_step_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cs_playbook_steps.id", ondelete="SET NULL")
    )
    playbook_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cs_playbook_runs.id", ondelete="SET NULL"), index=True
    )
    journey_enrollment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cs_journey_enrollments.id", ondelete="SET NULL"), index=True
    )

    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    task_type: Mapped[TaskType] = mapped_column(enum_column(TaskType, "task_type"), default=TaskType.CUSTOM)

    assigned_to_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_users.id", ondelete="SET NULL")
    )
    assigned_to_role: Mapped[str | None] = mapped_column(sa.String(50))

    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"), default=Priority.MEDIUM)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus, "status"), default=TaskStatus.PENDING)
    blocked_reason: Mapped[str | None] = mapped_column(sa.Text)

    due_date: Mapped[dt.date | None]
    # Hidden from the to-do lists until this day (`cs tasks snooze`).
    snoozed_until: Mapped[dt.date | None]
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]

    outcome: Mapped[TaskOutcome | None] = mapped_column(enum_column(TaskOutcome, "outcome"))
    outcome_notes: Mapped[str | None] = mapped_column(sa.Text)
    time_spent_minutes: Mapped[int | None]
