"""The automation rules file: which domain events `cs automation run` acts
on and how (alert, playbook, task, notify), the daily renewal scan's window,
and the thresholds of `cs alerts check`. Unknown keys are errors; every error
names the file, line and key path. docs/automation.md describes each field."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cs_cli.domain import AlertSeverity, Priority, TaskType
from cs_cli.errors import FileError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "automation" / "rules.yaml"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
EVENT_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
# What a text can name besides the event's data fields.
TEXT_NAMES = frozenset({"customer", "customer_name", "event_type", "occurred_on"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_text(text: str) -> str:
    """A text with {placeholders} naming the event's data fields (or
    customer, customer_name, event_type, occurred_on); {{ and }} are braces."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"bad placeholder: {exc} (write {{{{ and }}}} for braces)") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or spec or conversion:
            raise ValueError(f"'{{{name}}}' is not a placeholder: use {{field}} with a data field's name")
    return text


class Condition(_Strict):
    """A test of one field of the event's data; all given tests must hold."""

    below: float | None = None
    at_least: float | None = None
    equals: str | float | None = None
    one_of: list[str] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _something(self) -> Condition:
        if self.below is None and self.at_least is None and self.equals is None and self.one_of is None:
            raise ValueError("give at least one of below, at_least, equals, in")
        return self


class AlertAction(_Strict):
    type: str = Field(pattern=NAME_PATTERN, max_length=50)
    severity: AlertSeverity = AlertSeverity.WARNING
    title: str = Field(min_length=1, max_length=200)
    reason: str | None = None

    @field_validator("title", "reason")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return None if value is None else _check_text(value)


class PlaybookAction(_Strict):
    key: str = Field(pattern=NAME_PATTERN, max_length=100)
    # Not a second run for the same renewal date (a run started on or after
    # renewal_date - renewal_within_days counts, even one that ended).
    once_per_renewal: bool = False


class TaskAction(_Strict):
    title: str = Field(min_length=1, max_length=200)
    type: TaskType = TaskType.FOLLOW_UP
    priority: Priority = Priority.MEDIUM
    due_days: int = Field(default=1, ge=0, le=365)
    description: str | None = None

    @field_validator("title", "description")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return None if value is None else _check_text(value)


class NotifyAction(_Strict):
    to: Literal["csm"] = "csm"
    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1)

    @field_validator("subject", "text")
    @classmethod
    def _texts(cls, value: str) -> str:
        return _check_text(value)


class Action(_Strict):
    """One action: exactly one of its keys."""

    alert: AlertAction | None = None
    playbook: PlaybookAction | None = None
    task: TaskAction | None = None
    notify: NotifyAction | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `playbook: risk_response` is short for `playbook: {key: risk_response}`.
        if isinstance(data, dict) and isinstance(data.get("playbook"), str):
            return {**data, "playbook": {"key": data["playbook"]}}
        return data

    @model_validator(mode="after")
    def _one(self) -> Action:
        given = [k for k in ("alert", "playbook", "task", "notify") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "an action is exactly one of alert, playbook, task, notify"
                + (f" (this one has {', '.join(given)})" if given else "")
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("alert", "playbook", "task", "notify") if getattr(self, k) is not None)


class Rule(_Strict):
    name: str = Field(pattern=NAME_PATTERN, max_length=100)
    description: str | None = None
    events: list[str] = Field(min_length=1)
    when: dict[str, Condition] = Field(default_factory=dict)
    actions: list[Action] = Field(min_length=1)
    enabled: bool = True
    # Events that happened longer ago than this when the rule reads them are
    # passed over: a new rule does not act on old history.
    max_event_age_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("events", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("events")
    @classmethod
    def _event_types(cls, value: list[str]) -> list[str]:
        for event_type in value:
            if not re.fullmatch(EVENT_PATTERN, event_type) or len(event_type) > 100:
                raise ValueError(f"'{event_type}' is not an event type: lower-case words joined by dots")
        return value

    @field_validator("when")
    @classmethod
    def _fields(cls, value: dict[str, Condition]) -> dict[str, Condition]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"'{name}' is not a data field name")
        return value


class HealthDrop(_Strict):
    points: int = Field(default=15, ge=1, le=100)
    days: int = Field(default=7, ge=1, le=90)


class ChurnJump(_Strict):
    points: float = Field(default=0.15, gt=0, le=1)
    days: int = Field(default=7, ge=1, le=90)
    critical_at: float = Field(default=0.5, gt=0, le=1)


class UsageDecline(_Strict):
    days: int = Field(default=14, ge=1, le=90)
    min_active_days: int = Field(default=4, ge=1)
    drop_percent: int = Field(default=50, ge=1, le=100)


class RenewalAtRisk(_Strict):
    days: int = Field(default=60, ge=1, le=730)
    critical_within_days: int = Field(default=30, ge=0, le=730)


class Escalation(_Strict):
    enabled: bool = True


class AlertThresholds(_Strict):
    """What `cs alerts check` looks for (docs/alerts.md)."""

    health_drop: HealthDrop | None = HealthDrop()
    churn_jump: ChurnJump | None = ChurnJump()
    usage_decline: UsageDecline | None = UsageDecline()
    escalation: Escalation | None = Escalation()
    renewal_at_risk: RenewalAtRisk | None = RenewalAtRisk()


class RulesFile(_Strict):
    version: Literal[1] = 1
    max_event_age_days: int = Field(default=30, ge=1, le=3650)
    # The daily scan records customer.renewal_within this many days before
    # each renewal date (once per date); 0 turns it off.
    renewal_within_days: int = Field(default=90, ge=0, le=730)
    rules: list[Rule] = Field(default_factory=list)
    alerts: AlertThresholds = AlertThresholds()

    @model_validator(mode="after")
    def _unique(self) -> RulesFile:
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.name in seen:
                raise ValueError(f"rules.{i}.name: a second rule named '{rule.name}'")
            seen.add(rule.name)
        return self


@dataclass(frozen=True)
class LoadedRules:
    """A checked rules file, with where it came from (for errors that need
    the database, such as a playbook that does not exist)."""

    path: Path
    spec: RulesFile
    root: Any  # the YAML node tree, for line numbers

    def error(self, keys: tuple[Any, ...], reason: str) -> FileError:
        from cs_cli.specs.loader import position_of

        line, column = position_of(self.root, keys)
        return FileError(str(self.path), line, column, f"{'.'.join(map(str, keys))}: {reason}")


def load_rules(path: Path | None = None) -> LoadedRules:
    """Read and check a rules file (default: the one shipped)."""
    from cs_cli.specs.loader import load_yaml, validate

    path = path or DEFAULT_PATH
    data, root = load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FileError(str(path), 1, 1, "the file must be a mapping with a `rules:` list")
    return LoadedRules(path, validate(path, data, root, RulesFile), root)
