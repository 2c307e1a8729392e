"""The domain's words: the enumerations (from cs_cli.enums) shared by models,
services and faces, and the frozen dataclasses that services return, one
module for each part of the product. Nothing here touches a database.

`from cs_cli.domain import TaskRow` works for every name; a name's module is
imported on first use (PEP 562), so a command that shows tasks does not make
the 60-odd dataclasses of the rest of the domain: a third of a quick
command's start-up was spent making them (benchmarks/RESULTS.md, start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

from cs_cli.enums import (  # noqa: F401  (re-exported: the domain's words)
    AlertSeverity,
    AlertStatus,
    Channel,
    CustomerStatus,
    Direction,
    EnrollmentStatus,
    HealthStatus,
    JobStatus,
    JourneyStepType,
    JourneyTriggerType,
    JourneyType,
    NotifyPreference,
    OutboxChannel,
    OutboxStatus,
    PlaybookCategory,
    PlaybookRunStatus,
    PlaybookStepType,
    Priority,
    Role,
    ScoreTrend,
    SegmentType,
    Sentiment,
    SentimentSource,
    TaskOutcome,
    TaskStatus,
    TaskType,
    TicketPriority,
    TicketStatus,
    TouchpointType,
)

# Which module holds each dataclass.
_WHERE = {
    "Actor": "people",
    "Interval": "metrics",
    "RetentionPeriod": "metrics",
    "NpsPeriod": "metrics",
    "RenewalMonth": "metrics",
    "StatusShare": "metrics",
    "PlaybookPerformance": "metrics",
    "JourneyPerformance": "metrics",
    "FunnelStep": "metrics",
    "CsmPerformance": "metrics",
    "RiskBand": "metrics",
    "RiskyCustomer": "metrics",
    "ChurnRisk": "metrics",
    "ValueCohort": "metrics",
    "RenewalWindow": "metrics",
    "RenewingCustomer": "metrics",
    "RenewalPipeline": "metrics",
    "CsmWorkload": "metrics",
    "UserView": "people",
    "CustomerRow": "customers",
    "ContactView": "customers",
    "CustomerDetail": "customers",
    "Page": "customers",
    "TicketRow": "customers",
    "TicketDetail": "customers",
    "HealthRow": "health",
    "HealthDetail": "health",
    "ChurnRate": "health",
    "SignalRanking": "health",
    "ScorecardBacktest": "health",
    "CalibrationBin": "predictions",
    "ChurnReport": "predictions",
    "PredictionError": "predictions",
    "NpsReport": "predictions",
    "ChurnModelInfo": "predictions",
    "ChurnDriver": "predictions",
    "ChurnExplanation": "predictions",
    "PredictResult": "predictions",
    "Backtest": "health",
    "HistoryPoint": "health",
    "TaskRow": "tasks",
    "TaskPage": "tasks",
    "TaskDetail": "tasks",
    "TaskChangeResult": "tasks",
    "PAST_TENSE": "tasks",
    "TouchpointRow": "tasks",
    "TouchpointDetail": "tasks",
    "ContactChoice": "tasks",
    "FollowUp": "tasks",
    "LoggedTouchpoint": "tasks",
    "SegmentRow": "segments",
    "RefreshResult": "segments",
    "SegmentPreview": "segments",
    "MembershipChange": "segments",
    "SegmentSuggestion": "segments",
    "Suggestions": "segments",
    "PlaybookRow": "playbooks",
    "PlaybookStepView": "playbooks",
    "PlaybookDetail": "playbooks",
    "PlaybookRunRow": "playbooks",
    "PlaybookChange": "playbooks",
    "RunTask": "playbooks",
    "TriggeredRun": "playbooks",
    "PlaybookEvaluation": "playbooks",
    "BoardCard": "board",
    "BoardColumn": "board",
    "TaskHistoryEntry": "tasks",
    "TaskView": "board",
    "Assignee": "board",
    "FilterChoices": "board",
    "BoardView": "board",
    "AlertRow": "board",
    "MeasureView": "board",
    "ComponentView": "board",
    "RiskIndicator": "board",
    "EnrollmentView": "board",
    "RunProgress": "board",
    "Customer360": "board",
    "UsageWeek": "board",
    "BookScorePoint": "board",
    "Theme": "text",
    "Themes": "text",
    "AnalyzeCount": "text",
    "StatusCount": "board",
    "AtRiskCustomer": "board",
    "KeyMetrics": "board",
    "Dashboard": "board",
    "Enqueued": "outbox",
    "OutboxRow": "outbox",
    "OutboxDetail": "outbox",
    "DeliveryReport": "outbox",
    "JourneyChange": "journeys",
    "JourneyRow": "journeys",
    "JourneyStepView": "journeys",
    "JourneyDetail": "journeys",
    "EventRow": "automation",
    "AutomationRuleView": "automation",
    "RuleOutcome": "automation",
    "AutomationRun": "automation",
    "AlertCheck": "automation",
    "AlertEntry": "automation",
    "AlertDetail": "automation",
    "AuditRow": "audit",
    "ReminderRun": "automation",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'cs_cli.domain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"cs_cli.domain.{module}"), name)
    globals()[name] = value  # the next use is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
