"""A journey file: an automated, branching program for one customer, as YAML.

The fields are the plan's Journey and JourneyStep (section 2). Steps have a
stable `key`; `next`, `then`, `else` and every other branch name keys, never
positions, so a step can move in the file without changing what runs. Each
step type takes its own keys (a discriminated union on `type`); unknown keys
are errors. docs/journeys.md describes every field and what the tick engine
does with it.

This module is the schema; journey_file.py reads a file into it and checks
what the schema cannot (the graph, the templates), and the catalog checks
what needs the database (segments, playbooks, other journeys).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cs_cli.domain import JourneyTriggerType, JourneyType, Priority, TaskOutcome, TaskStatus, TaskType

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
EVENT_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
MAX_DAYS = 3650

StepKey = Annotated[str, Field(pattern=KEY_PATTERN, max_length=100)]
EventName = Annotated[str, Field(pattern=EVENT_PATTERN, max_length=100)]
Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]


class StepType(StrEnum):
    """What a step does: the plan's nine, then the four actions."""

    EMAIL = "email"
    IN_APP_MESSAGE = "in_app_message"
    TASK = "task"
    WAIT = "wait"
    CONDITION = "condition"
    WEBHOOK = "webhook"
    SEGMENT_UPDATE = "segment_update"
    HEALTH_CHECK = "health_check"
    HUMAN_TOUCHPOINT = "human_touchpoint"
    START_JOURNEY = "start_journey"
    TRIGGER_PLAYBOOK = "trigger_playbook"
    AB_SPLIT = "ab_split"
    EXIT = "exit"


class Recipient(StrEnum):
    """Whom an email or in-app message goes to."""

    CONTACT = "contact"  # the enrollment's contact, else the champion, else the sponsor
    CHAMPION = "champion"
    SPONSOR = "sponsor"
    CSM = "csm"


class AssigneeRole(StrEnum):
    CSM = "csm"
    MANAGER = "manager"
    EXECUTIVE = "executive"


class Every(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class HumanTouchpoint(StrEnum):
    """The touchpoints a person logs (a human_touchpoint step waits for one)."""

    CALL = "call"
    MEETING = "meeting"
    QBR = "qbr"
    RENEWAL_DISCUSSION = "renewal_discussion"
    ESCALATION = "escalation"
    WEBINAR = "webinar"
    CUSTOM = "custom"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _text(value: str | None) -> str | None:
    if value is not None and value != value.strip():
        raise ValueError("must not start or end with spaces")
    return value


def _check_rules(document: Any) -> Any:
    """A rule document in the rule language; its errors keep the rule path."""
    from cs_cli.rules import RuleError, parse

    try:
        parse(document)
    except RuleError as exc:
        raise ValueError(_RulePathError(exc)) from None
    return document


class _RulePathError(str):
    """A rule error as a ValueError message that still carries its path."""

    def __new__(cls, exc: Any) -> _RulePathError:
        keys = ".".join(str(p) for p in exc.path)
        text = f"{keys}: {exc.reason}" if keys else exc.reason
        return super().__new__(cls, text)


RuleDocument = Annotated[dict[str, Any], Field(min_length=1)]


class Fact(_Strict):
    """Something the journey itself knows about an enrollment: how a task of
    this journey ended, or whether an event happened since enrolling."""

    task: StepKey | None = None
    outcome: list[TaskOutcome] | None = None
    status: list[TaskStatus] | None = None
    event: EventName | None = None
    # For an event: true (the default) if it must have happened, false if it must not.
    seen: bool | None = None

    @field_validator("outcome", "status", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_kind(self) -> Fact:
        if (self.task is None) == (self.event is None):
            raise ValueError("a fact names either a task step (`task: KEY`) or an event (`event: NAME`)")
        if self.task is not None:
            if not self.outcome and not self.status:
                raise ValueError("task: give the outcome (or status) the task must have ended with")
            if self.seen is not None:
                raise ValueError("seen: only with an event")
        elif self.outcome is not None or self.status is not None:
            raise ValueError("outcome: only with a task")
        return self


_CRITERIA_KEYS = {"description", "rules", "facts", "event", "within_days"}


class Criteria(_Strict):
    """When an enrollment ends by itself: every part given must hold."""

    description: str | None = Field(default=None, max_length=500)
    rules: RuleDocument | None = None
    facts: list[Fact] | None = Field(default=None, min_length=1)
    event: EventName | None = None
    within_days: Days | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `goal: {health_score: {gt: 70}}` is a rule document.
        if isinstance(data, dict) and data and not (set(data) & _CRITERIA_KEYS):
            return {"rules": data}
        return data

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: Any) -> Any:
        return None if value is None else _check_rules(value)

    @model_validator(mode="after")
    def _something(self) -> Criteria:
        if self.rules is None and self.facts is None and self.event is None:
            raise ValueError("give rules, facts or an event")
        return self


class ExitCriteria(Criteria):
    @model_validator(mode="after")
    def _no_deadline(self) -> ExitCriteria:
        if self.within_days is not None:
            raise ValueError("within_days: only for a goal")
        return self


class Trigger(_Strict):
    """How customers enter the journey besides `cs enroll`."""

    type: JourneyTriggerType = JourneyTriggerType.MANUAL
    segment: str | None = Field(default=None, min_length=1, max_length=100)
    event: EventName | None = None
    days_before_renewal: int | None = Field(default=None, ge=0, le=730)
    days_after_churn: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    every: Every | None = None
    rules: RuleDocument | None = None

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: Any) -> Any:
        return None if value is None else _check_rules(value)

    @model_validator(mode="after")
    def _fits_type(self) -> Trigger:
        given = {
            k
            for k in ("segment", "event", "days_before_renewal", "days_after_churn", "every")
            if getattr(self, k) is not None
        }
        allowed = {
            JourneyTriggerType.MANUAL: set(),
            JourneyTriggerType.SEGMENT_ENTRY: {"segment"},
            JourneyTriggerType.EVENT: {"event"},
            JourneyTriggerType.SCHEDULED: {"days_before_renewal", "days_after_churn", "every"},
        }[self.type]
        extra = sorted(given - allowed)
        if extra:
            raise ValueError(f"{extra[0]}: not for a {self.type.value} trigger")
        if self.type == JourneyTriggerType.MANUAL and self.rules is not None:
            raise ValueError("rules: a manual trigger enrolls whom you name")
        if self.type == JourneyTriggerType.SEGMENT_ENTRY and self.segment is None:
            raise ValueError("segment: a segment_entry trigger names the segment")
        if self.type == JourneyTriggerType.EVENT and self.event is None:
            raise ValueError("event: an event trigger names the event")
        if self.type == JourneyTriggerType.SCHEDULED:
            if len(given) != 1:
                raise ValueError("give one of days_before_renewal, days_after_churn or every")
            if self.every is not None and self.rules is None:
                raise ValueError("rules: `every` needs rules saying whom to enroll")
        return self


# --- steps ---


class _Step(_Strict):
    key: StepKey
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = None
    next: StepKey | None = None

    @field_validator("name")
    @classmethod
    def _stripped(cls, name: str | None) -> str | None:
        return _text(name)

    @property
    def display_name(self) -> str:
        """The name, or one made from the key."""
        return self.name or self.key.replace("_", " ").capitalize()

    def branches(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        """(label, step key, where in the step) of every way out of this step."""
        return [("next", self.next, ("next",))] if self.next else []

    def waits(self) -> bool:
        """Whether the step holds the enrollment until time passes or someone acts."""
        return False

    def _no_next(self, reason: str) -> None:
        if self.next is not None:
            raise ValueError(f"next: {reason}")


class EmailStep(_Step):
    type: Literal[StepType.EMAIL]
    template: str = Field(pattern=KEY_PATTERN, max_length=100)
    subject: str = Field(min_length=1, max_length=300)
    to: Recipient = Recipient.CONTACT


class InAppMessageStep(_Step):
    type: Literal[StepType.IN_APP_MESSAGE]
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    url: str | None = Field(default=None, max_length=2000)
    to: Recipient = Recipient.CONTACT


class TaskCompletion(_Strict):
    timeout_days: Days
    outcomes: dict[TaskOutcome, StepKey] = Field(default_factory=dict)
    on_timeout: StepKey | None = None


class TaskStep(_Step):
    type: Literal[StepType.TASK]
    title: str = Field(min_length=1, max_length=200)
    task_type: TaskType = TaskType.CUSTOM
    priority: Priority = Priority.MEDIUM
    assignee_role: AssigneeRole = AssigneeRole.CSM
    due_days: int = Field(default=0, ge=0, le=MAX_DAYS)
    wait_for_completion: TaskCompletion | None = None

    def branches(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        out = super().branches()
        if self.wait_for_completion:
            w = self.wait_for_completion
            out += [(o.value, k, ("wait_for_completion", "outcomes", o.value)) for o, k in w.outcomes.items()]
            if w.on_timeout:
                out.append(("timeout", w.on_timeout, ("wait_for_completion", "on_timeout")))
        return out

    def waits(self) -> bool:
        return self.wait_for_completion is not None


class WaitStep(_Step):
    type: Literal[StepType.WAIT]
    days: Days | None = None
    until_event: EventName | None = None
    timeout_days: Days | None = None
    on_timeout: StepKey | None = None

    @model_validator(mode="after")
    def _one_way(self) -> WaitStep:
        if (self.days is None) == (self.until_event is None):
            raise ValueError("give days, or until_event with timeout_days")
        if self.until_event is not None and self.timeout_days is None:
            raise ValueError("until_event: needs timeout_days (the longest it waits)")
        if self.days is not None and (self.timeout_days is not None or self.on_timeout is not None):
            key = "timeout_days" if self.timeout_days is not None else "on_timeout"
            raise ValueError(f"{key}: only with until_event")
        return self

    def branches(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        out = super().branches()
        if self.on_timeout:
            out.append(("timeout", self.on_timeout, ("on_timeout",)))
        return out

    def waits(self) -> bool:
        return True


class _Branching(_Step):
    then: StepKey | None = None
    else_: StepKey | None = Field(default=None, alias="else")

    def branches(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        out = super().branches()
        if self.then:
            out.append(("yes", self.then, ("then",)))
        if self.else_:
            out.append(("no", self.else_, ("else",)))
        return out


class ConditionStep(_Branching):
    type: Literal[StepType.CONDITION]
    rules: RuleDocument | None = None
    facts: list[Fact] | None = Field(default=None, min_length=1)
    then: StepKey
    else_: StepKey = Field(alias="else")

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: Any) -> Any:
        return None if value is None else _check_rules(value)

    @model_validator(mode="after")
    def _something(self) -> ConditionStep:
        if self.rules is None and self.facts is None:
            raise ValueError("give rules, facts or both (all must hold)")
        self._no_next("a condition goes on to `then` or `else`")
        return self


class WebhookStep(_Step):
    type: Literal[StepType.WEBHOOK]
    url: str = Field(max_length=2000)
    timeout_seconds: float = Field(default=10, gt=0, le=60)
    payload: dict[str, Any] | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        from cs_cli.domain.outbound import url_problem

        # The allow-list is checked at delivery, after resolving the host;
        # what no allow-list can admit is refused here, with file:line.
        problem = url_problem(url)
        if problem:
            raise ValueError(f"an http:// or https:// address: {problem}")
        return url


class SegmentUpdateStep(_Step):
    type: Literal[StepType.SEGMENT_UPDATE]
    add: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    remove: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)

    @field_validator("add", "remove", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _something(self) -> SegmentUpdateStep:
        if not self.add and not self.remove:
            raise ValueError("name a static segment to add the customer to or remove it from")
        both = sorted(set(self.add) & set(self.remove))
        if both:
            raise ValueError(f"remove: '{both[0]}' is also in add")
        return self


class HealthCheckStep(_Branching):
    type: Literal[StepType.HEALTH_CHECK]
    rules: RuleDocument | None = None

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: Any) -> Any:
        return None if value is None else _check_rules(value)

    @model_validator(mode="after")
    def _branches(self) -> HealthCheckStep:
        if self.rules is None:
            if self.then is not None or self.else_ is not None:
                raise ValueError("then: only with rules (the criteria to branch on)")
        else:
            if self.then is None or self.else_ is None:
                raise ValueError("rules: give `then` and `else` (where each answer goes)")
            self._no_next("with rules, the check goes on to `then` or `else`")
        return self


class HumanTouchpointStep(_Step):
    type: Literal[StepType.HUMAN_TOUCHPOINT]
    touchpoint_types: list[HumanTouchpoint] = Field(
        default_factory=lambda: [HumanTouchpoint.CALL, HumanTouchpoint.MEETING], min_length=1
    )
    prompt: str = Field(min_length=1, max_length=5000)
    assignee_role: AssigneeRole = AssigneeRole.CSM
    due_days: int = Field(default=3, ge=0, le=MAX_DAYS)
    timeout_days: Days
    on_timeout: StepKey | None = None

    @field_validator("touchpoint_types", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def branches(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        out = super().branches()
        if self.on_timeout:
            out.append(("timeout", self.on_timeout, ("on_timeout",)))
        return out

    def waits(self) -> bool:
        return True


class StartJourneyStep(_Step):
    type: Literal[StepType.START_JOURNEY]
    journey: str = Field(pattern=KEY_PATTERN, max_length=100)


class TriggerPlaybookStep(_Step):
    type: Literal[StepType.TRIGGER_PLAYBOOK]
    playbook: str = Field(pattern=KEY_PATTERN, max_length=100)
    reason: str | None = Field(default=None, max_length=500)


class SplitBranch(_Strict):
    name: str = Field(pattern=KEY_PATTERN, max_length=50)
    share: int = Field(ge=1, le=99)
    next: StepKey


class AbSplitStep(_Step):
    type: Literal[StepType.AB_SPLIT]
    branches_: list[SplitBranch] = Field(alias="branches", min_length=2, max_length=10)

    @model_validator(mode="after")
    def _shares(self) -> AbSplitStep:
        self._no_next("a split goes on to one of its branches")
        names = [b.name for b in self.branches_]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice:
            raise ValueError(f"branches: the name '{twice}' is used twice")
        total = sum(b.share for b in self.branches_)
        if total != 100:
            raise ValueError(f"branches: the shares add up to {total}, not 100")
        return self

    def branches(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        return [
            (f"{b.name} {b.share}%", b.next, ("branches", i, "next")) for i, b in enumerate(self.branches_)
        ]


class ExitStep(_Step):
    type: Literal[StepType.EXIT]
    success: bool
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _last(self) -> ExitStep:
        self._no_next("an exit ends the enrollment")
        return self


Step = Annotated[
    EmailStep
    | InAppMessageStep
    | TaskStep
    | WaitStep
    | ConditionStep
    | WebhookStep
    | SegmentUpdateStep
    | HealthCheckStep
    | HumanTouchpointStep
    | StartJourneyStep
    | TriggerPlaybookStep
    | AbSplitStep
    | ExitStep,
    Field(discriminator="type"),
]

# The texts of each step type that are templates, rendered per enrollment.
TEMPLATE_TEXTS: dict[StepType, tuple[str, ...]] = {
    StepType.EMAIL: ("subject",),
    StepType.IN_APP_MESSAGE: ("title", "body"),
    StepType.TASK: ("title", "description"),
    StepType.HUMAN_TOUCHPOINT: ("prompt",),
}


class JourneySpec(_Strict):
    key: str | None = Field(default=None, pattern=KEY_PATTERN, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = None
    type: JourneyType = JourneyType.CUSTOM
    trigger: Trigger = Field(default_factory=Trigger)
    allow_re_enrollment: bool = False
    max_concurrent_enrollments: int | None = Field(default=None, ge=1, le=10_000_000)
    duration_days: Days | None = None
    goal: Criteria | None = None
    exit_when: ExitCriteria | None = None
    steps: list[Step] = Field(min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _stripped(cls, name: str | None) -> str | None:
        return _text(name)

    @model_validator(mode="after")
    def _unique_keys(self) -> JourneySpec:
        seen: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            if step.key in seen:
                raise ValueError(
                    f"steps.{index}.key: '{step.key}' is used twice (also by steps.{seen[step.key]})"
                )
            seen[step.key] = index
        return self

    @property
    def title(self) -> str:
        assert self.key is not None  # set from the file name by load_journey
        return self.name or self.key.replace("_", " ").title()

    def step(self, key: str) -> Any:
        return next(s for s in self.steps if s.key == key)

    def canonical(self) -> dict[str, Any]:
        """The fields as the file spells them, defaults filled in, for hashing and diffs."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"steps"})
        data["key"] = self.key
        data["name"] = self.title
        data["steps"] = [step_fields(s) for s in self.steps]
        return {k: data[k] for k in JourneySpec.model_fields if k in data}


# How a step's keys are ordered in diffs: who it is, what it does, where it goes.
_FIRST = ("key", "name", "type", "description")
_LAST = ("next", "then", "else")


def step_fields(step: Any) -> dict[str, Any]:
    """One step as the file spells it (defaults filled in, empty keys left out)."""
    data = step.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["name"] = step.display_name
    data = _without_empty(data)
    return {k: data[k] for k in step_key_order(data)}


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v != [] and v != {}}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def step_key_order(step: dict[str, Any]) -> list[str]:
    """A step's keys in the order diffs show them: who it is, what it does
    (alphabetical), where it goes."""
    middle = sorted(k for k in step if k not in _FIRST and k not in _LAST)
    return [k for k in (*_FIRST, *middle, *_LAST) if k in step]
