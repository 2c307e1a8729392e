"""Journeys, their steps, and customers' enrollments in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, BigIntPK, CreatedAt, Timestamps, enum_column
from cs_cli.enums import EnrollmentStatus, JourneyStepType, JourneyTriggerType, JourneyType


class Journey(Timestamps, Base):
    __tablename__ = "cs_journeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The stable name of the YAML file's journey; `load` matches on it.
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)
    journey_type: Mapped[JourneyType] = mapped_column(enum_column(JourneyType, "journey_type"))
    trigger_type: Mapped[JourneyTriggerType] = mapped_column(
        enum_column(JourneyTriggerType, "trigger_type"), default=JourneyTriggerType.MANUAL
    )
    trigger_config: Mapped[dict[str, Any] | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    allow_re_enrollment: Mapped[bool] = mapped_column(default=False)
    max_concurrent_enrollments: Mapped[int | None]
    duration_days: Mapped[int | None]
    goal: Mapped[dict[str, Any] | None]
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))

    total_enrolled: Mapped[int] = mapped_column(default=0)
    total_completed: Mapped[int] = mapped_column(default=0)
    avg_completion_days: Mapped[float | None]
    success_rate: Mapped[float | None]
    # Tick batches that ended enrollments of this journey since its metrics
    # were last counted: a tick killed before its final recount leaves it
    # above zero, and the next tick counts again (services/journeys/metrics.py).
    metrics_pending: Mapped[int] = mapped_column(default=0, server_default="0")


class JourneyStep(CreatedAt, Base):
    __tablename__ = "cs_journey_steps"
    __table_args__ = (sa.UniqueConstraint("journey_id", "version", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(sa.ForeignKey("cs_journeys.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=1)
    key: Mapped[str] = mapped_column(sa.String(100))
    step_order: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(100))
    step_type: Mapped[JourneyStepType] = mapped_column(enum_column(JourneyStepType, "step_type"))
    config: Mapped[dict[str, Any] | None]

    wait_days: Mapped[int | None]
    wait_until_event: Mapped[str | None] = mapped_column(sa.String(100))

    condition_rules: Mapped[dict[str, Any] | None]
    next_step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cs_journey_steps.id"))
    true_next_step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cs_journey_steps.id"))
    false_next_step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cs_journey_steps.id"))

    times_executed: Mapped[int] = mapped_column(default=0)
    success_count: Mapped[int] = mapped_column(default=0)


class JourneyEnrollment(Timestamps, Base):
    __tablename__ = "cs_journey_enrollments"
    __table_args__ = (
        sa.Index(None, "status", "next_run_at"),
        sa.Index(None, "journey_id", "status"),
        sa.Index(None, "customer_id", "status"),
        # A customer is never in the same journey twice at once.
        sa.Index(
            "uq_cs_journey_enrollments_one_active",
            "journey_id",
            "customer_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(sa.ForeignKey("cs_journeys.id", ondelete="CASCADE"))
    journey_version: Mapped[int] = mapped_column(default=1)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    status: Mapped[EnrollmentStatus] = mapped_column(
        enum_column(EnrollmentStatus, "enrollment_status"), default=EnrollmentStatus.ACTIVE
    )
    current_step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cs_journey_steps.id"))
    # When the enrollment reached its current step (waits and progress count from it).
    step_entered_at: Mapped[dt.datetime | None]
    # When the tick should next look at this enrollment; null when it waits on nothing.
    next_run_at: Mapped[dt.datetime | None]
    enrolled_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(sa.Text)
    success: Mapped[bool | None]
    facts: Mapped[dict[str, Any] | None]


class JourneyStepRun(Base):
    """One execution of a step for an enrollment. The unique key (enrollment,
    step key, visit) is written in the same transaction as the step's effect,
    so a rerun or a second tick can never execute the same visit twice."""

    __tablename__ = "cs_journey_step_runs"
    __table_args__ = (
        sa.UniqueConstraint("enrollment_id", "step_key", "visit"),
        sa.Index(None, "step_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("cs_journey_enrollments.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(sa.ForeignKey("cs_journey_steps.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(sa.String(100))
    visit: Mapped[int]
    executed_at: Mapped[dt.datetime]
    # What the step did, in a word: sent, created, waiting, yes, no, branch name, skipped, failed.
    outcome: Mapped[str] = mapped_column(sa.String(50))
    detail: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
