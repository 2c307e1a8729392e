"""The domain's enumerations: the words of the plan that models, services
and faces share. Kept apart from the dataclasses of cs_cli.domain (which
re-exports them) so that the command line can build its options without
paying for those at start-up."""

from __future__ import annotations

from enum import StrEnum


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
    # Not judged by the thresholds: a customer younger than the scorecard's
    # minimum tenure, and one with too little of the scorecard's weight in data.
    ONBOARDING = "onboarding"
    INSUFFICIENT_DATA = "insufficient_data"


# The statuses the score's thresholds decide, worst first.
JUDGED_STATUSES = (HealthStatus.CRITICAL, HealthStatus.AT_RISK, HealthStatus.HEALTHY)
# The statuses a score carries without being judged by its thresholds.
UNJUDGED_STATUSES = (HealthStatus.ONBOARDING, HealthStatus.INSUFFICIENT_DATA)


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


class SentimentSource(StrEnum):
    """Who set a sentiment: the source system or the person who logged it
    (kept by `cs touchpoints analyze` unless --overwrite), or cs reading
    the text."""

    GIVEN = "given"
    CS = "cs"


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
