"""The journey catalog: YAML files synced into the database, as versions.

`plan` compares the files with the database (added, changed with a diff,
deactivated); `sync` makes the database match. Syncing is idempotent: a
journey is matched by its key and compared by a hash of its canonical form
(with the source of every email template it uses), so loading the same files
again changes nothing.

A changed journey gets a new version: `version` goes up by one and the steps
are written again as new rows under that version. The rows of older versions
stay, so an enrollment keeps running the version it started on, step ids and
all; only new enrollments start on the new version. (Moving running
enrollments onto the new version by step key is what a later `load --migrate`
could do: the keys are stable, the ids are not.) The journey's own settings
(trigger, goal, exit criteria, re-enrollment, capacity) are not versioned:
they apply to every enrollment from the load on.

A journey missing from the files is deactivated, never deleted: it enrolls
no one new, its running enrollments go on, its history stays.

How the rows hold a journey (what the tick engine reads):

- `Journey.trigger_config`: the trigger's keys but `type` (which is
  `trigger_type`), plus `segment_id` for a segment_entry trigger.
- `Journey.goal`: `{"goal": {...}, "exit_when": {...}}` as the file spells
  them (either may be absent), or null when there is neither.
- `JourneyStep.config`: the step as the file spells it (`type` included, the
  step's own name and key left to their columns), defaults filled in, plus
  `resolved`: what loading looked up (an email's template `text` and `html`,
  a segment_update's segment ids by name). `next`, `then` and `else` are also
  in `next_step_id`, `true_next_step_id` and `false_next_step_id`; the other
  branches (task outcomes and timeouts, wait and touchpoint timeouts, split
  branches) are step keys, unique within (journey, version).
- `JourneyStep.step_type`: the plan's type. The four actions (start_journey,
  trigger_playbook, ab_split, exit) are not among the plan's nine, which the
  column's CHECK allows; until it allows them they are stored under the
  nearest plan type (`ACTION_TYPES`) and `config["type"]` says what the step is.
- `wait_days` / `wait_until_event`: a wait step's; `condition_rules`: a
  condition's or a health check's rule document.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Journey, JourneyStep, Playbook, Segment
from cs_cli.domain import Actor, JourneyChange, JourneyStepType, JourneyTriggerType, Role, SegmentType
from cs_cli.services.access import require_role
from cs_cli.services.audit import audit
from cs_cli.services.journeys.cursors import start_cursor
from cs_cli.services.journeys.program import RESOLVED
from cs_cli.specs.journey import (
    ConditionStep,
    EmailStep,
    HealthCheckStep,
    JourneySpec,
    SegmentUpdateStep,
    StartJourneyStep,
    StepType,
    TriggerPlaybookStep,
    WaitStep,
)
from cs_cli.specs.journey_file import JourneyFile, load_folder

# Where the four actions are stored until the step_type column takes them.
ACTION_TYPES = {
    StepType.START_JOURNEY: JourneyStepType.SEGMENT_UPDATE,  # moves the customer on
    StepType.TRIGGER_PLAYBOOK: JourneyStepType.TASK,  # a playbook makes tasks
    StepType.AB_SPLIT: JourneyStepType.CONDITION,  # a branch
    StepType.EXIT: JourneyStepType.HEALTH_CHECK,  # "evaluate and potentially exit"
}


def read(path: Path) -> list[JourneyFile]:
    """The journeys of a folder or one file; the first error found stops it."""
    files, errors = load_folder(path)
    if errors:
        raise errors[0]
    return files


def plan(session: Session, files: list[JourneyFile], *, full: bool) -> list[JourneyChange]:
    """What `sync` would do, journey by journey, with a diff for each change.
    `full`: the files are the whole catalog (a folder), so journeys not among
    them are deactivated; otherwise only the files' own journeys change."""
    return [change for change, _ in _compare(session, files, full=full)]


def sync(
    session: Session, actor: Actor, files: list[JourneyFile], *, full: bool, now: dt.datetime
) -> list[JourneyChange]:
    """Make the database match the files: add journeys, write a new version
    of each changed one (older versions' steps stay for their enrollments),
    deactivate those gone; returns what changed (as `plan` says)."""
    require_role(actor, Role.ADMIN, doing="loading journeys")
    changes = _compare(session, files, full=full)
    for change, target in changes:
        if change.kind == "unchanged":
            continue
        if change.kind == "deactivated":
            target.is_active = False
            target.updated_at = now
        else:
            file, row, resolved = target
            _write(session, file, row, resolved, now=now)
        audit(
            session,
            actor,
            f"journey.{change.kind}",
            "journey",
            change.key,
            at=now,
            details={"path": change.path, "version": change.version} if change.path else None,
        )
    session.flush()
    return [change for change, _ in changes]


def _compare(session: Session, files: list[JourneyFile], *, full: bool) -> list[tuple[JourneyChange, Any]]:
    existing = {j.key: j for j in session.scalars(sa.select(Journey))}
    resolved = _resolve(session, files, existing)
    steps = _current_steps(session, list(existing.values()))
    out: list[tuple[JourneyChange, Any]] = []
    for file in files:
        row = existing.get(file.key)
        new_text = _yaml(file.canonical())
        path = str(file.path)
        title = file.spec.title
        if row is None:
            diff = _diff("", new_text, file.key, path)
            out.append(
                (JourneyChange("added", file.key, title, path, 1, diff), (file, None, resolved[file.key]))
            )
            continue
        current = steps.get(row.id, [])
        same_content = (
            row.content_hash == file.content_hash() and _resolved_of(row, current) == resolved[file.key]
        )
        if same_content and row.is_active:
            out.append((JourneyChange("unchanged", file.key, title, path, row.version), None))
            continue
        old_text = _yaml(_canonical_of(row, current))
        diff = _diff(old_text, new_text, file.key, path)
        version = row.version if same_content else row.version + 1
        if not row.is_active:
            diff = f"(reactivated)\n{diff}"
        out.append(
            (JourneyChange("changed", file.key, title, path, version, diff), (file, row, resolved[file.key]))
        )
    if full:
        keys = {f.key for f in files}
        for key, row in sorted(existing.items()):
            if key not in keys and row.is_active:
                old_text = _yaml(_canonical_of(row, steps.get(row.id, [])))
                change = JourneyChange(
                    "deactivated", key, row.name, None, row.version, _diff(old_text, "", key, "(removed)")
                )
                out.append((change, row))
    return out


def _resolve(session: Session, files: list[JourneyFile], existing: dict[str, Journey]) -> dict[str, dict]:
    """What each file names in the database, looked up: segments (a missing
    one, or a segment_update of a segment that is not static, is an error at
    its line), playbooks and journeys (they must exist). Returns per journey
    key: {"trigger_segment_id": id, "steps": {step key: resolved config}}."""
    from cs_cli.rules import parse, segments_named

    wanted: set[str] = set()
    for file in files:
        for _, name in _segment_refs(file):
            wanted.add(name)
        for _, document in _rule_documents(file):
            wanted.update(segments_named(parse(document)))
    segments = (
        {s.name: s for s in session.scalars(sa.select(Segment).where(Segment.name.in_(wanted)))}
        if wanted
        else {}
    )
    playbooks = dict(session.execute(sa.select(Playbook.key, Playbook.is_active)).all())
    journeys = {f.key for f in files} | {k for k, j in existing.items() if j.is_active}
    hint = "create it first with `cs segments create`, or fix the name (`cs segments list`)"
    out: dict[str, dict] = {}
    for file in files:
        found: dict[str, Any] = {"trigger_segment_id": None, "steps": {}}
        for keys, name in _segment_refs(file):
            segment = segments.get(name)
            if segment is None:
                raise file.error(keys, f"there is no segment named '{name}'", hint=hint)
            if keys[0] == "steps" and segment.segment_type != SegmentType.STATIC:
                raise file.error(
                    keys,
                    f"segment '{name}' is {segment.segment_type.value}: a journey can add to or remove "
                    "from a static segment only",
                )
            if keys[0] == "trigger":
                found["trigger_segment_id"] = segment.id
            else:
                step = file.spec.steps[keys[1]]
                entry = found["steps"].setdefault(step.key, {"add": {}, "remove": {}})
                entry[keys[2]][name] = segment.id
        for keys, document in _rule_documents(file):
            for where, name in _in_segments(parse(document)):
                if name not in segments:
                    raise file.error((*keys, *where), f"there is no segment named '{name}'", hint=hint)
        for index, step in enumerate(file.spec.steps):
            if isinstance(step, TriggerPlaybookStep) and not playbooks.get(step.playbook):
                what = "is deactivated" if step.playbook in playbooks else "does not exist"
                raise file.error(
                    ("steps", index, "playbook"),
                    f"playbook '{step.playbook}' {what}",
                    hint="load the playbooks first (`cs playbooks load`), "
                    "or fix the key (`cs playbooks list`)",
                )
            if isinstance(step, StartJourneyStep) and step.journey not in journeys:
                raise file.error(
                    ("steps", index, "journey"),
                    f"there is no active journey '{step.journey}' (neither loaded nor among the files)",
                )
            if isinstance(step, EmailStep):
                template = file.templates[step.template]
                entry = {"text": template.text}
                if template.html is not None:
                    entry["html"] = template.html
                found["steps"][step.key] = entry
        out[file.key] = found
    return out


def _segment_refs(file: JourneyFile) -> list[tuple[tuple[Any, ...], str]]:
    refs: list[tuple[tuple[Any, ...], str]] = []
    trigger = file.spec.trigger
    if trigger.segment:
        refs.append((("trigger", "segment"), trigger.segment))
    for index, step in enumerate(file.spec.steps):
        if isinstance(step, SegmentUpdateStep):
            refs += [(("steps", index, "add"), name) for name in step.add]
            refs += [(("steps", index, "remove"), name) for name in step.remove]
    return refs


def _rule_documents(file: JourneyFile) -> list[tuple[tuple[Any, ...], dict]]:
    spec = file.spec
    docs: list[tuple[tuple[Any, ...], dict]] = []
    if spec.trigger.rules:
        docs.append((("trigger", "rules"), spec.trigger.rules))
    for name in ("goal", "exit_when"):
        criteria = getattr(spec, name)
        if criteria is not None and criteria.rules:
            # `goal: {health_score: ...}` is short for `goal: {rules: {health_score: ...}}`.
            docs.append(((name, "rules") if file.has(name, "rules") else (name,), criteria.rules))
    for index, step in enumerate(spec.steps):
        if isinstance(step, ConditionStep | HealthCheckStep) and step.rules:
            docs.append((("steps", index, "rules"), step.rules))
    return docs


def _in_segments(node: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Each segment an in_segment condition names, with its rule path."""
    from cs_cli.rules.parse import Group, InSegment, Not

    if isinstance(node, InSegment):
        return [(node.path, name) for name in node.names]
    if isinstance(node, Group):
        return [found for item in node.items for found in _in_segments(item)]
    if isinstance(node, Not):
        return _in_segments(node.item)
    return []


def _current_steps(session: Session, journeys: list[Journey]) -> dict[int, list[JourneyStep]]:
    """The steps of each journey's current version, in file order."""
    out: dict[int, list[JourneyStep]] = {}
    if not journeys:
        return out
    pairs = [sa.and_(JourneyStep.journey_id == j.id, JourneyStep.version == j.version) for j in journeys]
    rows = session.scalars(sa.select(JourneyStep).where(sa.or_(*pairs)).order_by(JourneyStep.step_order))
    for step in rows:
        out.setdefault(step.journey_id, []).append(step)
    return out


def _resolved_of(row: Journey, steps: list[JourneyStep]) -> dict[str, Any]:
    """What the database's version resolved, in the form `_resolve` returns."""
    return {
        "trigger_segment_id": (row.trigger_config or {}).get("segment_id"),
        "steps": {s.key: (s.config or {})[RESOLVED] for s in steps if RESOLVED in (s.config or {})},
    }


def _write(
    session: Session, file: JourneyFile, row: Journey | None, resolved: dict[str, Any], *, now: dt.datetime
) -> Journey:
    spec = file.spec
    trigger = spec.trigger.model_dump(mode="json", exclude_none=True)
    trigger.pop("type")
    if resolved["trigger_segment_id"] is not None:
        trigger["segment_id"] = resolved["trigger_segment_id"]
    criteria = {
        name: getattr(spec, name).model_dump(mode="json", exclude_none=True)
        for name in ("goal", "exit_when")
        if getattr(spec, name) is not None
    }
    content_hash = file.content_hash()
    values = {
        "name": spec.title,
        "description": spec.description,
        "journey_type": spec.type,
        "trigger_type": spec.trigger.type,
        "trigger_config": trigger or None,
        "is_active": True,
        "allow_re_enrollment": spec.allow_re_enrollment,
        "max_concurrent_enrollments": spec.max_concurrent_enrollments,
        "duration_days": spec.duration_days,
        "goal": criteria or None,
    }
    # A new trigger (or one coming back) reads the event log from now on.
    restart = (
        row is None
        or not row.is_active
        or row.trigger_type != spec.trigger.type
        or (row.trigger_config or None) != values["trigger_config"]
    )
    if row is None:
        row = Journey(key=spec.key, version=1, content_hash=content_hash, created_at=now, **values)
        session.add(row)
        session.flush()
        new_version = True
    else:
        new_version = (
            row.content_hash != content_hash
            or _resolved_of(row, _current_steps(session, [row]).get(row.id, [])) != resolved
        )
        for name, value in values.items():
            setattr(row, name, value)
        if new_version:
            row.version += 1
            row.content_hash = content_hash
        row.updated_at = now
    if new_version:
        _write_steps(session, row, file, resolved["steps"], now=now)
    if restart:
        start_cursor(session, row.key, scheduled=spec.trigger.type == JourneyTriggerType.SCHEDULED, now=now)
    return row


def _write_steps(
    session: Session, row: Journey, file: JourneyFile, resolved: dict[str, Any], *, now: dt.datetime
) -> None:
    from cs_cli.specs.journey import step_fields

    rows: dict[str, JourneyStep] = {}
    for order, step in enumerate(file.spec.steps, start=1):
        config = step_fields(step)
        config.pop("key")
        config.pop("name")
        if step.key in resolved:
            config[RESOLVED] = resolved[step.key]
        kind = StepType(step.type)
        rules = step.rules if isinstance(step, ConditionStep | HealthCheckStep) else None
        rows[step.key] = JourneyStep(
            journey_id=row.id,
            version=row.version,
            key=step.key,
            step_order=order,
            name=step.display_name,
            step_type=ACTION_TYPES.get(kind) or JourneyStepType(kind.value),
            config=config,
            wait_days=step.days if isinstance(step, WaitStep) else None,
            wait_until_event=step.until_event if isinstance(step, WaitStep) else None,
            condition_rules=rules,
            created_at=now,
        )
    session.add_all(rows.values())
    session.flush()
    for step in file.spec.steps:
        target = rows[step.key]
        target.next_step_id = rows[step.next].id if step.next else None
        then = getattr(step, "then", None)
        otherwise = getattr(step, "else_", None)
        target.true_next_step_id = rows[then].id if then else None
        target.false_next_step_id = rows[otherwise].id if otherwise else None


def _canonical_of(row: Journey, steps: list[JourneyStep]) -> dict[str, Any]:
    """A journey in the database, spelled as its file would spell it."""
    trigger = {"type": row.trigger_type.value, **(row.trigger_config or {})}
    trigger.pop("segment_id", None)
    criteria = row.goal or {}
    data: dict[str, Any] = {
        "key": row.key,
        "name": row.name,
        "description": row.description,
        "type": row.journey_type.value,
        "trigger": trigger,
        "allow_re_enrollment": row.allow_re_enrollment,
        "max_concurrent_enrollments": row.max_concurrent_enrollments,
        "duration_days": row.duration_days,
        "goal": criteria.get("goal"),
        "exit_when": criteria.get("exit_when"),
        "steps": [],
    }
    templates: dict[str, Any] = {}
    for step in steps:
        config = dict(step.config or {})
        resolved = config.pop(RESOLVED, None)
        fields = {"key": step.key, "name": step.name, **config}
        data["steps"].append(fields)
        if config.get("type") == StepType.EMAIL and resolved:
            templates[config["template"]] = {k: resolved[k] for k in ("text", "html") if k in resolved}
    out = {k: data[k] for k in JourneySpec.model_fields if data.get(k) is not None}
    if templates:
        out["templates"] = dict(sorted(templates.items()))
    return out


def _normalized(data: dict[str, Any]) -> dict[str, Any]:
    """The canonical form in one key order, whichever side it comes from (a
    JSONB column gives keys back in its own order): the schema's order at the
    top, who-what-where in a step, alphabetical below."""
    from cs_cli.specs.journey import step_key_order

    out: dict[str, Any] = {}
    for key in [*JourneySpec.model_fields, "templates"]:
        if key not in data:
            continue
        value = data[key]
        if key == "steps":
            value = [{k: _sorted(step[k]) for k in step_key_order(step)} for step in value]
        elif key == "trigger":
            value = {"type": value["type"], **_sorted({k: v for k, v in value.items() if k != "type"})}
        else:
            value = _sorted(value)
        out[key] = value
    return out


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _yaml(data: dict[str, Any]) -> str:
    """YAML for diffs: keys in the canonical order, multi-line text as blocks."""
    import yaml

    data = _normalized(data)

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


def _diff(old: str, new: str, key: str, path: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"database: {key}",
        tofile=path,
        n=2,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def default_folder() -> Path:
    """The folder `validate` and `load` read when none is named: the shipped journeys/."""
    from cs_cli import paths

    return paths.journeys_dir()
