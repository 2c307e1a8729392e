"""Playbooks, their steps, and runs of a playbook for one customer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, CreatedAt, JSONType, Timestamps, enum_column
from cs_cli.enums import PlaybookCategory, PlaybookRunStatus, PlaybookStepType, Priority


class Playbook(Timestamps, Base):
    __tablename__ = "cs_playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The stable name of the YAML file's playbook; `load` matches on it.
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)
    category: Mapped[PlaybookCategory] = mapped_column(enum_column(PlaybookCategory, "category"))

    trigger_health_threshold: Mapped[int | None]
    trigger_days_to_renewal: Mapped[int | None]
    trigger_event: Mapped[str | None] = mapped_column(sa.String(100))
    trigger_segment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cs_segments.id", ondelete="SET NULL")
    )

    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"), default=Priority.MEDIUM)
    is_active: Mapped[bool] = mapped_column(default=True)
    auto_assign: Mapped[bool] = mapped_column(default=True)
    cooldown_days: Mapped[int | None]
    estimated_hours: Mapped[float | None]
    success_criteria: Mapped[dict[str, Any] | None]
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # The last domain event this playbook's event or segment trigger has
    # looked at, so `cs playbooks evaluate` acts on each event once.
    event_cursor: Mapped[int | None] = mapped_column(sa.BigInteger)

    times_triggered: Mapped[int] = mapped_column(default=0)
    times_completed: Mapped[int] = mapped_column(default=0)
    avg_completion_days: Mapped[float | None]
    success_rate: Mapped[float | None]


class PlaybookStep(CreatedAt, Base):
    __tablename__ = "cs_playbook_steps"
    __table_args__ = (sa.Index(None, "playbook_id", "step_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(sa.ForeignKey("cs_playbooks.id", ondelete="CASCADE"))
    step_order: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    step_type: Mapped[PlaybookStepType] = mapped_column(enum_column(PlaybookStepType, "step_type"))
    default_assignee_role: Mapped[str | None] = mapped_column(sa.String(50))
    days_from_start: Mapped[int | None]
    due_days: Mapped[int | None]
    email_template_id: Mapped[int | None]
    email_template: Mapped[str | None] = mapped_column(sa.String(100))
    meeting_agenda_template: Mapped[str | None] = mapped_column(sa.Text)
    talk_track: Mapped[str | None] = mapped_column(sa.Text)
    required_artifacts: Mapped[list[str] | None] = mapped_column(JSONType)
    recurring: Mapped[str | None] = mapped_column(sa.String(20))
    duration_weeks: Mapped[int | None]
    success_criteria: Mapped[dict[str, Any] | None]
    is_active: Mapped[bool] = mapped_column(default=True)


class PlaybookRun(Timestamps, Base):
    __tablename__ = "cs_playbook_runs"
    __table_args__ = (
        sa.Index(None, "playbook_id", "customer_id", "status"),
        sa.Index(None, "customer_id"),
        # Never two active runs of one playbook for one customer, even when
        # two evaluations race.
        sa.Index(
            "uq_cs_playbook_runs_one_active",
            "playbook_id",
            "customer_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(sa.ForeignKey("cs_playbooks.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    status: Mapped[PlaybookRunStatus] = mapped_column(
        enum_column(PlaybookRunStatus, "run_status"), default=PlaybookRunStatus.ACTIVE
    )
    triggered_by: Mapped[str] = mapped_column(sa.String(50), default="manual")
    trigger_reason: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    baseline_health_score: Mapped[int | None]
    success: Mapped[bool | None]
