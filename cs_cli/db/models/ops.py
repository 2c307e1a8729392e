"""The platform's own bookkeeping: domain events, audit log, job runs, imports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, BigIntPK, CreatedAt, enum_column
from cs_cli.enums import JobStatus


class DomainEvent(CreatedAt, Base):
    """Something that happened to a customer; automation consumes these in id order."""

    __tablename__ = "cs_domain_events"
    __table_args__ = (sa.Index(None, "event_type", "id"), sa.Index(None, "customer_id", "occurred_at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(100))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    occurred_at: Mapped[dt.datetime]
    data: Mapped[dict[str, Any] | None]
    actor_name: Mapped[str | None] = mapped_column(sa.String(200))


class AuditEntry(Base):
    """One change or read of customer data, by whom and when (plan 9.2).

    Append-only and hash-chained: `seq` numbers the entries without gaps,
    `hash` is the SHA-256 of the entry's content and the previous entry's
    hash (services/audit.py), so `cs audit verify` finds an entry edited,
    inserted or deleted behind cs's back. No foreign keys: an entry outlives
    the user and the customer it names (a cascade would rewrite it)."""

    __tablename__ = "cs_audit_log"
    # No RETURNING on insert: on PostgreSQL a runtime role may add entries
    # but not read them back (row-level security, 0013), and an INSERT that
    # returns the new id must pass the read policy too.
    __table_args__ = (sa.Index(None, "entity_type", "entity_id"), {"implicit_returning": False})

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    seq: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_user_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(100))
    entity_type: Mapped[str] = mapped_column(sa.String(50))
    entity_id: Mapped[str | None] = mapped_column(sa.String(100))
    customer_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[dict[str, Any] | None]
    # The command line that made it (`cs tasks complete 12`), where known.
    command: Mapped[str | None] = mapped_column(sa.String(500))
    # Who really acted, when they acted as the actor (--user, CS_USER).
    impersonated_by: Mapped[str | None] = mapped_column(sa.String(200))
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))


class AuditHead(Base):
    """The end of the audit chain: the last entry's number and hash. Its one
    row is locked by each transaction that writes entries, so writers of
    the chain take turns and no two entries follow the same one."""

    __tablename__ = "cs_audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


class JobRun(Base):
    """One run of a scheduled job; (job, slot) makes a schedule slot run once."""

    __tablename__ = "cs_job_runs"
    __table_args__ = (sa.UniqueConstraint("job", "slot"), sa.Index(None, "job", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(50))
    slot: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus, "status"), default=JobStatus.RUNNING)
    # A failed slot is tried again by the next `cs run due`, up to a limit.
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    host: Mapped[str | None] = mapped_column(sa.String(200))
    pid: Mapped[int | None]
    counts: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(sa.Text)


class JobLease(Base):
    """Who runs a job right now. Claimed with one atomic upsert that only
    takes a row whose lease has expired, and renewed while the job runs: a
    killed run's lease runs out and the next run takes it over. A row, not a
    session advisory lock, so that it holds behind a transaction pooler."""

    __tablename__ = "cs_job_leases"

    job: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]


class ImportRun(CreatedAt, Base):
    """One `cs import` of one file: what was read, written and rejected."""

    __tablename__ = "cs_imports"
    __table_args__ = (sa.Index(None, "entity", "file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(30))
    file_name: Mapped[str] = mapped_column(sa.String(500))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    rows_read: Mapped[int]
    rows_written: Mapped[int]
    rows_rejected: Mapped[int]
    actor_name: Mapped[str] = mapped_column(sa.String(200))


class EventCursor(Base):
    """How far one consumer of the domain event log has read (a journey's
    trigger, the engine's wake-ups, an automation rule): each event is acted
    on once per consumer, and a replay acts on nothing twice."""

    __tablename__ = "cs_event_cursors"

    consumer: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    position: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[dt.datetime]
    # When the consumer last did something (enrolled, fired, alerted), not just read.
    last_acted_at: Mapped[dt.datetime | None]
    acted_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
