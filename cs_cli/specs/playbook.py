"""A playbook file: a reviewed, repeatable procedure as YAML, one file each.

The spelling is the plan's (section 5.2): `playbook:` names it, each step has
an `order`, a `type`, optional `template`, `meeting_agenda`, `talk_track` and
`artifacts`. Unknown keys are errors. Every field is described in
docs/playbooks.md.

Descriptions, agendas and talk tracks are Jinja2 templates rendered for each
customer when a run starts; `TEMPLATE_FIELDS` is everything they can read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cs_cli.domain import PlaybookCategory, PlaybookStepType, Priority
from cs_cli.errors import BadInput, FileError, TemplateError
from cs_cli.templates import CUSTOMER_FIELDS

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
EVENT_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"


class AssigneeRole(StrEnum):
    CSM = "csm"
    MANAGER = "manager"
    EXECUTIVE = "executive"


class Recurrence(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


# Weeks between two occurrences. "monthly" is every four weeks, so that a
# recurrence always lands on the same weekday.
PERIOD_WEEKS = {Recurrence.WEEKLY: 1, Recurrence.BIWEEKLY: 2, Recurrence.MONTHLY: 4}

# The step fields that are Jinja2 templates, rendered per customer.
TEMPLATE_KEYS = ("description", "meeting_agenda", "talk_track")

# What a template can read: each top-level name and its fields.
TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": CUSTOMER_FIELDS,
    "health": ("overall_score", "health_status", "score_trend", "score_change_30d"),
    "csm": ("name", "email"),
    "champion": ("name", "email", "title"),
    "sponsor": ("name", "email", "title"),
    "playbook": ("key", "name"),
    "run": ("reason", "started_on", "baseline_health_score"),
    "step": ("order", "name"),
    "today": (),
}
# Names whose values are the same for every customer: a template that reads
# only these is rendered once per step, not once per customer.
SHARED_NAMES = frozenset({"playbook", "step", "today"})


def sample_context() -> dict[str, Any]:
    """A context with every field filled, for checking templates before use."""
    return {
        "customer": {
            "external_id": "C-0001",
            "name": "Acme Corp",
            "arr": 120000,
            "plan": "enterprise",
            "seats": 250,
            "industry": "Software",
            "region": "EMEA",
            "renewal_date": dt.date(2027, 2, 1),
            "contract_start": dt.date(2024, 2, 1),
            "days_to_renewal": 90,
            "attributes": {},
        },
        "health": {"overall_score": 42, "health_status": "critical", "score_trend": "declining"}
        | {"score_change_30d": -12},
        "csm": {"name": "Ana Ruiz", "email": "ana@example.com"},
        "champion": {"name": "Dana Lee", "email": "dana@acme.example", "title": "Ops lead"},
        "sponsor": {"name": "Ed Stone", "email": "ed@acme.example", "title": "CTO"},
        "playbook": {"key": "risk_response", "name": "Risk Response"},
        "run": {"reason": "health below 50", "started_on": dt.date(2026, 11, 1), "baseline_health_score": 42},
        "step": {"order": 1, "name": "Internal Risk Assessment"},
        "today": dt.date(2026, 11, 1),
    }


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SuccessCriteria(_Strict):
    """What makes a run a success, judged from health history after it ends."""

    health_score_increase: int | None = Field(default=None, ge=1, le=100)
    health_score_at_least: int | None = Field(default=None, ge=0, le=100)
    within_days: int | None = Field(default=None, ge=1, le=730)

    @model_validator(mode="after")
    def _something(self) -> SuccessCriteria:
        if self.health_score_increase is None and self.health_score_at_least is None:
            raise ValueError("give health_score_increase or health_score_at_least")
        return self


class Triggers(_Strict):
    """When `cs playbooks evaluate` starts a run; any one of them is enough."""

    health_below: int | None = Field(default=None, ge=1, le=100)
    days_to_renewal: int | None = Field(default=None, ge=0, le=730)
    segment: str | None = Field(default=None, min_length=1, max_length=100)
    event: str | None = Field(default=None, pattern=EVENT_PATTERN, max_length=100)


class Step(_Strict):
    order: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=180)
    type: PlaybookStepType
    description: str | None = None
    assignee_role: AssigneeRole = AssigneeRole.CSM
    days_from_start: int = Field(default=0, ge=0, le=730)
    due_days: int = Field(default=0, ge=0, le=730)
    template: str | None = Field(default=None, min_length=1, max_length=100)
    meeting_agenda: str | None = None
    talk_track: str | None = None
    artifacts: list[str] = Field(default_factory=list)
    recurring: Recurrence | None = None
    duration_weeks: int | None = Field(default=None, ge=1, le=104)
    success_criteria: SuccessCriteria | None = None

    @field_validator("name")
    @classmethod
    def _stripped(cls, name: str) -> str:
        if name != name.strip():
            raise ValueError("must not start or end with spaces")
        return name

    @model_validator(mode="after")
    def _recurrence(self) -> Step:
        if self.recurring is None and self.duration_weeks is not None:
            raise ValueError("duration_weeks: only with recurring")
        if self.recurring is not None:
            if self.duration_weeks is None:
                raise ValueError("recurring: needs duration_weeks")
            period = PERIOD_WEEKS[self.recurring]
            if self.duration_weeks % period:
                raise ValueError(f"duration_weeks: must be a multiple of {period} for {self.recurring.value}")
        return self

    @property
    def occurrences(self) -> int:
        if self.recurring is None or self.duration_weeks is None:
            return 1
        return self.duration_weeks // PERIOD_WEEKS[self.recurring]

    def due_offsets(self) -> list[int]:
        """Days from the run's start to each occurrence's due date."""
        first = self.days_from_start + self.due_days
        period = 7 * PERIOD_WEEKS[self.recurring] if self.recurring else 0
        return [first + k * period for k in range(self.occurrences)]


class PlaybookSpec(_Strict):
    playbook: str | None = Field(default=None, pattern=KEY_PATTERN, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = None
    category: PlaybookCategory = PlaybookCategory.CUSTOM
    priority: Priority = Priority.MEDIUM
    auto_assign: bool = True
    estimated_hours: float | None = Field(default=None, ge=0, le=1000)
    cooldown_days: int | None = Field(default=None, ge=0, le=3650)
    success_criteria: SuccessCriteria | None = None
    triggers: Triggers | None = None
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_steps(self) -> PlaybookSpec:
        for attribute in ("order", "name"):
            seen: dict[Any, int] = {}
            for index, step in enumerate(self.steps):
                value = getattr(step, attribute)
                if value in seen:
                    other = self.steps[seen[value]]
                    also = f"'{other.name}'" if attribute == "order" else f"the step of order {other.order}"
                    raise ValueError(
                        f"steps.{index}.{attribute}: {attribute} {value!r} is used twice (also by {also})"
                    )
                seen[value] = index
        return self

    @property
    def key(self) -> str:
        assert self.playbook is not None  # set from the file name by load_playbook
        return self.playbook

    @property
    def title(self) -> str:
        return self.name or self.key.replace("_", " ").title()

    def ordered_steps(self) -> list[Step]:
        return sorted(self.steps, key=lambda s: s.order)

    def judged_by(self) -> dict[str, int] | None:
        """The success criteria a run of this playbook is judged by."""
        return judged_by(
            self.success_criteria.model_dump(exclude_none=True) if self.success_criteria else None,
            [
                (s.order, s.success_criteria.model_dump(exclude_none=True), max(s.due_offsets()))
                for s in self.steps
                if s.success_criteria is not None
            ],
        )

    def canonical(self) -> dict[str, Any]:
        """The fields as the file spells them, defaults filled in, for hashing and diffs."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["playbook"] = self.key
        data["name"] = self.title
        data["steps"] = [s.model_dump(mode="json", exclude_none=True) for s in self.ordered_steps()]
        return data

    def content_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def judged_by(
    playbook: dict[str, Any] | None, steps: list[tuple[int, dict[str, Any], int]]
) -> dict[str, Any] | None:
    """The success criteria a run is judged by: the playbook's, else those of
    its last step (by order) that has some, within that step's last due day.
    `steps`: (order, criteria, days from the start to its last due date)."""
    if playbook:
        return dict(playbook)
    if not steps:
        return None
    _, criteria, last_due = max(steps, key=lambda s: s[0])
    return {"within_days": max(last_due, 1), **criteria}


@dataclass(frozen=True)
class PlaybookFile:
    """A checked playbook and where it came from."""

    spec: PlaybookSpec
    path: Path
    root: Any  # the YAML node tree, for line numbers

    @property
    def key(self) -> str:
        return self.spec.key

    def position(self, *keys: str | int) -> tuple[int | None, int | None]:
        from cs_cli.specs.loader import position_of

        return position_of(self.root, keys)


def load_playbook(path: Path) -> PlaybookFile:
    """Read and check one playbook file: its schema, then each template
    (it must parse, read only known fields, and render in the sandbox)."""
    from cs_cli.specs.loader import load_yaml, position_of, validate

    data, root = load_yaml(path)
    if not isinstance(data, dict):
        raise FileError(str(path), 1, 1, "a playbook file is a mapping with `playbook:` and `steps:`")
    spec = validate(path, data, root, PlaybookSpec)
    if spec.playbook is None:
        import re

        if not re.match(KEY_PATTERN, path.stem):
            raise FileError(
                str(path),
                1,
                1,
                f"the file name '{path.stem}' is not a playbook key (a-z, 0-9, _): add `playbook: KEY`",
            )
        spec = spec.model_copy(update={"playbook": path.stem})
    for index, step in enumerate(spec.steps):
        for key in TEMPLATE_KEYS:
            text = getattr(step, key)
            if text:
                _check_template(path, root, text, ("steps", index, key))
    if spec.triggers is not None and not any(spec.triggers.model_dump(exclude_none=True).values()):
        line, column = position_of(root, ("triggers",))
        raise FileError(str(path), line, column, "triggers: name at least one trigger, or leave it out")
    return PlaybookFile(spec=spec, path=path, root=root)


def load_folder(path: Path) -> tuple[list[PlaybookFile], list[BadInput]]:
    """Every playbook of a folder (`*.yaml`, `*.yml`), or the one file named,
    and the errors found: at most one per file, and keys used twice."""
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    elif path.exists():
        paths = [path]
    else:
        raise BadInput(f"{path}: no such file or folder")
    files: list[PlaybookFile] = []
    errors: list[BadInput] = []
    for p in paths:
        try:
            files.append(load_playbook(p))
        except BadInput as exc:
            errors.append(exc)
    first: dict[str, PlaybookFile] = {}
    for f in files:
        if f.key in first:
            line, column = f.position("playbook")
            errors.append(
                FileError(str(f.path), line, column, f"playbook '{f.key}' is also in {first[f.key].path}")
            )
        else:
            first[f.key] = f
    return files, errors


def _check_template(path: Path, root: Any, text: str, keys: tuple[Any, ...]) -> None:
    from cs_cli import templates
    from cs_cli.specs.loader import _node_at
    from cs_cli.templates.static import check_cost

    where = ".".join(str(k) for k in keys)
    try:
        names = templates.variables(text, where) - set(templates.environment().globals)
        unknown = sorted(names - set(TEMPLATE_FIELDS))
        if unknown:
            known = ", ".join(TEMPLATE_FIELDS)
            import re

            found = re.search(rf"\b{unknown[0]}\b", text)
            line = text.count("\n", 0, found.start()) + 1 if found else None
            raise TemplateError(where, line, f"unknown name '{unknown[0]}' (known: {known})")
        _check_fields(text, where)
        check_cost(templates.environment().parse(text), where)
        templates.render(text, sample_context(), name=where)
    except TemplateError as exc:
        node = _node_at(root, keys)
        line = column = None
        if node is not None:
            block = getattr(node, "style", None) in ("|", ">")
            line = node.start_mark.line + 1 + (1 if block else 0) + ((exc.line or 1) - 1)
            column = node.start_mark.column + 1
            if block:
                source = path.read_text(encoding="utf-8").splitlines()
                if line - 1 < len(source):
                    row = source[line - 1]
                    column = len(row) - len(row.lstrip()) + 1
        raise FileError(str(path), line, column, f"{where}: {exc.reason}") from None


def _check_fields(text: str, where: str) -> None:
    """`customer.nmae` is an error even in a branch the sample does not take."""
    from jinja2 import nodes

    from cs_cli import templates

    for node in templates.environment().parse(text).find_all(nodes.Getattr):
        target = node.node
        if isinstance(target, nodes.Name) and TEMPLATE_FIELDS.get(target.name):
            fields = TEMPLATE_FIELDS[target.name]
            if node.attr not in fields:
                raise TemplateError(
                    where,
                    node.lineno,
                    f"{target.name} has no field '{node.attr}' (fields: {', '.join(fields)})",
                )
