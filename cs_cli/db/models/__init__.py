"""Every model, imported so that `Base.metadata` knows every table."""

from cs_cli.db.models.activity import Invoice, NpsResponse, SupportTicket, UsageEvent
from cs_cli.db.models.alerts import Alert
from cs_cli.db.models.customers import Contact, Customer, CustomerHistory
from cs_cli.db.models.health import HealthOverride, HealthScore, HealthScoreHistory, ScorecardVersion
from cs_cli.db.models.journeys import Journey, JourneyEnrollment, JourneyStep, JourneyStepRun
from cs_cli.db.models.ops import AuditEntry, AuditHead, DomainEvent, EventCursor, ImportRun, JobLease, JobRun
from cs_cli.db.models.outbox import OutboxMessage
from cs_cli.db.models.people import BoardView, Team, User
from cs_cli.db.models.playbooks import Playbook, PlaybookRun, PlaybookStep
from cs_cli.db.models.predictions import PredictionModel
from cs_cli.db.models.segments import CustomerSegment, Segment
from cs_cli.db.models.tasks import CSTask
from cs_cli.db.models.touchpoints import Touchpoint, TouchpointAttendee

__all__ = [
    "Alert",
    "AuditEntry",
    "AuditHead",
    "BoardView",
    "CSTask",
    "Contact",
    "Customer",
    "CustomerHistory",
    "CustomerSegment",
    "DomainEvent",
    "EventCursor",
    "HealthOverride",
    "HealthScore",
    "HealthScoreHistory",
    "ImportRun",
    "Invoice",
    "JobLease",
    "JobRun",
    "Journey",
    "JourneyEnrollment",
    "JourneyStep",
    "JourneyStepRun",
    "NpsResponse",
    "OutboxMessage",
    "Playbook",
    "PlaybookRun",
    "PlaybookStep",
    "PredictionModel",
    "ScorecardVersion",
    "Segment",
    "SupportTicket",
    "Team",
    "Touchpoint",
    "TouchpointAttendee",
    "UsageEvent",
    "User",
]
