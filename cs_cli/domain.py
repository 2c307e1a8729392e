"""The domain's words: enumerations shared by models, services and faces, and
the frozen dataclasses that services return. Nothing here touches a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    CSM = "csm"
    MANAGER = "manager"
    ADMIN = "admin"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    CHURNED = "churned"


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    AT_RISK = "at_risk"
    CRITICAL = "critical"
    CHURNED = "churned"


class ScoreTrend(StrEnum):
    IMPROVING = "improving"
    STABLE = "stable"
    DECLINING = "declining"


class SegmentType(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"
    AI_GENERATED = "ai_generated"


class JourneyType(StrEnum):
    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    RENEWAL = "renewal"
    EXPANSION = "expansion"
    RISK_MITIGATION = "risk_mitigation"
    ADVOCACY = "advocacy"
    WIN_BACK = "win_back"
    CUSTOM = "custom"


class JourneyTriggerType(StrEnum):
    MANUAL = "manual"
    SEGMENT_ENTRY = "segment_entry"
    EVENT = "event"
    SCHEDULED = "scheduled"


class JourneyStepType(StrEnum):
    EMAIL = "email"
    IN_APP_MESSAGE = "in_app_message"
    TASK = "task"
    WAIT = "wait"
    CONDITION = "condition"
    WEBHOOK = "webhook"
    SEGMENT_UPDATE = "segment_update"
    HEALTH_CHECK = "health_check"
    HUMAN_TOUCHPOINT = "human_touchpoint"


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    EXITED = "exited"
    FAILED = "failed"


class PlaybookCategory(StrEnum):
    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    RENEWAL = "renewal"
    CHURN_RISK = "churn_risk"
    EXPANSION = "expansion"
    ESCALATION = "escalation"
    QBR = "qbr"
    EXECUTIVE_SPONSOR = "executive_sponsor"
    CUSTOM = "custom"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class PlaybookStepType(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    INTERNAL_TASK = "internal_task"
    PRODUCT_DEMO = "product_demo"
    TRAINING = "training"
    REVIEW = "review"
    ESCALATION = "escalation"
    CUSTOM = "custom"


class PlaybookRunStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskType(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    INTERNAL = "internal"
    REVIEW = "review"
    ESCALATION = "escalation"
    FOLLOW_UP = "follow_up"
    CUSTOM = "custom"


class TaskStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


class TaskOutcome(StrEnum):
    SUCCESSFUL = "successful"
    UNSUCCESSFUL = "unsuccessful"
    RESCHEDULED = "rescheduled"
    NO_RESPONSE = "no_response"


class TouchpointType(StrEnum):
    EMAIL_SENT = "email_sent"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    CALL = "call"
    MEETING = "meeting"
    WEBINAR = "webinar"
    SUPPORT_TICKET = "support_ticket"
    PRODUCT_LOGIN = "product_login"
    FEATURE_USAGE = "feature_usage"
    NPS_RESPONSE = "nps_response"
    QBR = "qbr"
    ESCALATION = "escalation"
    RENEWAL_DISCUSSION = "renewal_discussion"
    IN_APP_MESSAGE = "in_app_message"
    CUSTOM = "custom"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    VIDEO = "video"
    IN_APP = "in_app"
    IN_PERSON = "in_person"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class OutboxChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    HELD = "held"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class NotifyPreference(StrEnum):
    IMMEDIATE = "immediate"
    DAILY_DIGEST = "daily_digest"
    NONE = "none"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with a role, or the system (cron)."""

    name: str
    role: Role
    user_id: int | None = None
    team_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @classmethod
    def system(cls) -> Actor:
        return cls(name="system", role=Role.ADMIN)


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    email: str
    role: Role
    team: str | None
    manager_email: str | None
    is_active: bool


@dataclass(frozen=True)
class CustomerRow:
    """One line of a customer listing."""

    id: int
    external_id: str
    name: str
    arr: Decimal | None
    plan: str | None
    seats: int | None
    status: CustomerStatus
    renewal_date: dt.date | None
    csm_email: str | None
    health_score: int | None
    health_status: HealthStatus | None


@dataclass(frozen=True)
class ContactView:
    external_id: str | None
    name: str | None
    email: str | None
    title: str | None
    role: str | None
    is_champion: bool
    is_exec_sponsor: bool
    left_at: dt.datetime | None


@dataclass(frozen=True)
class CustomerDetail:
    """Everything `cs customers show` prints about one customer."""

    customer: CustomerRow
    industry: str | None
    region: str | None
    contract_start: dt.date | None
    churned_at: dt.datetime | None
    attributes: dict[str, Any]
    created_at: dt.datetime
    contacts: list[ContactView] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    last_event_at: dt.datetime | None = None
    open_tasks: int = 0
    latest_nps: int | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing and the total it was cut from."""

    rows: list[Any]
    total: int
    offset: int
    limit: int | None


@dataclass(frozen=True)
class HealthRow:
    """One line of `cs health list`."""

    external_id: str
    name: str
    csm_email: str | None
    overall_score: int
    health_status: HealthStatus | None
    score_trend: ScoreTrend | None
    score_change_30d: int | None
    product_adoption_score: int | None
    engagement_score: int | None
    relationship_score: int | None
    financial_score: int | None
    support_score: int | None
    days_to_renewal: int | None
    as_of: dt.date | None
    # The score and status above are an override's, not the computed ones.
    overridden: bool = False


@dataclass(frozen=True)
class HealthDetail:
    """A score and its explanation, current or as of a past day."""

    external_id: str
    name: str
    as_of: dt.date | None
    overall_score: int
    health_status: HealthStatus | None
    score_trend: ScoreTrend | None
    score_change_30d: int | None
    components: dict[str, int | None]
    explanation: dict[str, Any]
    scorecard_version: str | None
    days_since_last_login: int | None = None
    days_to_renewal: int | None = None
    # In force on that day: score, status, reason, expires_on, set_by.
    override: dict[str, Any] | None = None


@dataclass(frozen=True)
class HistoryPoint:
    as_of: dt.date
    overall_score: int
    health_status: HealthStatus | None
    product_adoption_score: int | None
    engagement_score: int | None
    relationship_score: int | None
    financial_score: int | None
    support_score: int | None
