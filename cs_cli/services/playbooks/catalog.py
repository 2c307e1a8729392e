"""The playbook catalog: YAML files synced into the database.

`plan` compares the files with the database (added, changed with a diff,
deactivated); `sync` makes the database match. Syncing is idempotent and keeps
ids: a playbook is matched by its key, a step by its name within its playbook,
so runs and tasks keep pointing at the same rows. A playbook or step that
disappears from the files is deactivated, never deleted: its history stays.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import DomainEvent, Playbook, PlaybookStep, Segment
from cs_cli.domain import Actor, PlaybookChange, Role
from cs_cli.errors import BadInput, FileError
from cs_cli.services.access import require_role
from cs_cli.services.audit import audit
from cs_cli.specs.playbook import PlaybookFile, PlaybookSpec, Step, load_folder


def read(path: Path) -> list[PlaybookFile]:
    """The playbooks of a folder or one file; the first error found stops it."""
    files, errors = load_folder(path)
    if errors:
        raise errors[0]
    return files


def plan(session: Session, files: list[PlaybookFile], *, full: bool) -> list[PlaybookChange]:
    """What `sync` would do, playbook by playbook, with a diff for each change.
    `full`: the files are the whole catalog, so playbooks not among them are
    deactivated (a folder); otherwise only the files' own playbooks change."""
    return [change for change, _ in _compare(session, files, full=full)]


def sync(
    session: Session, actor: Actor, files: list[PlaybookFile], *, full: bool, now: dt.datetime
) -> list[PlaybookChange]:
    """Make the database match the files: add, update and deactivate
    playbooks and their steps; returns what changed (as `plan` says)."""
    require_role(actor, Role.ADMIN, doing="loading playbooks")
    changes = _compare(session, files, full=full)
    cursor = None
    for change, target in changes:
        if change.kind == "unchanged":
            continue
        if change.kind == "deactivated":
            target.is_active = False
            session.execute(
                sa.update(PlaybookStep).where(PlaybookStep.playbook_id == target.id).values(is_active=False)
            )
        else:
            file, row, segment_id = target
            if cursor is None:
                cursor = session.scalar(sa.select(sa.func.max(DomainEvent.id))) or 0
            row = _write(session, file, row, segment_id, cursor=cursor, now=now)
        audit(
            session,
            actor,
            f"playbook.{change.kind}",
            "playbook",
            change.key,
            at=now,
            details={"path": change.path} if change.path else None,
        )
    session.flush()
    return [change for change, _ in changes]


def _compare(session: Session, files: list[PlaybookFile], *, full: bool) -> list[tuple[PlaybookChange, Any]]:
    segments = _segment_ids(session, files)
    existing = {p.key: p for p in session.scalars(sa.select(Playbook))}
    steps = _steps_by_playbook(session, [p.id for p in existing.values()])
    names = dict(session.execute(sa.select(Segment.id, Segment.name)).all())
    out: list[tuple[PlaybookChange, Any]] = []
    for file in files:
        row = existing.get(file.key)
        segment_id = segments.get(file.key)
        new_text = _yaml(file.spec.canonical())
        path = str(file.path)
        if row is None:
            diff = _diff("", new_text, file.key, path)
            out.append(
                (PlaybookChange("added", file.key, file.spec.title, path, diff), (file, None, segment_id))
            )
            continue
        same = (
            row.is_active
            and row.content_hash == file.spec.content_hash()
            and row.trigger_segment_id == segment_id
        )
        if same:
            out.append((PlaybookChange("unchanged", file.key, file.spec.title, path), None))
            continue
        old_text = _yaml(_canonical_of(row, steps.get(row.id, []), names))
        diff = _diff(old_text, new_text, file.key, path)
        if not row.is_active:
            diff = f"(reactivated)\n{diff}"
        out.append(
            (PlaybookChange("changed", file.key, file.spec.title, path, diff), (file, row, segment_id))
        )
    if full:
        keys = {f.key for f in files}
        for key, row in sorted(existing.items()):
            if key not in keys and row.is_active:
                old_text = _yaml(_canonical_of(row, steps.get(row.id, []), names))
                change = PlaybookChange(
                    "deactivated", key, row.name, None, _diff(old_text, "", key, "(removed)")
                )
                out.append((change, row))
    return out


def _segment_ids(session: Session, files: list[PlaybookFile]) -> dict[str, int]:
    """The segment each file's trigger names; a missing one is an error at its line."""
    wanted = {f.key: f.spec.triggers.segment for f in files if f.spec.triggers and f.spec.triggers.segment}
    if not wanted:
        return {}
    found = dict(
        session.execute(
            sa.select(Segment.name, Segment.id).where(Segment.name.in_(set(wanted.values())))
        ).all()
    )
    ids = {}
    for file in files:
        name = wanted.get(file.key)
        if name is None:
            continue
        if name not in found:
            line, column = file.position("triggers", "segment")
            raise FileError(
                str(file.path),
                line,
                column,
                f"triggers.segment: there is no segment named '{name}'",
                hint="create it first with `cs segments create`, or fix the name (`cs segments list`)",
            )
        ids[file.key] = found[name]
    return ids


def _steps_by_playbook(session: Session, ids: list[int]) -> dict[int, list[PlaybookStep]]:
    out: dict[int, list[PlaybookStep]] = {}
    if not ids:
        return out
    rows = session.scalars(
        sa.select(PlaybookStep).where(PlaybookStep.playbook_id.in_(ids)).order_by(PlaybookStep.step_order)
    )
    for step in rows:
        out.setdefault(step.playbook_id, []).append(step)
    return out


def _write(
    session: Session,
    file: PlaybookFile,
    row: Playbook | None,
    segment_id: int | None,
    *,
    cursor: int,
    now: dt.datetime,
) -> Playbook:
    spec = file.spec
    triggers = spec.triggers
    values = {
        "name": spec.title,
        "description": spec.description,
        "category": spec.category,
        "priority": spec.priority,
        "auto_assign": spec.auto_assign,
        "estimated_hours": spec.estimated_hours,
        "cooldown_days": spec.cooldown_days,
        "success_criteria": spec.success_criteria.model_dump(exclude_none=True)
        if spec.success_criteria
        else None,
        "trigger_health_threshold": triggers.health_below if triggers else None,
        "trigger_days_to_renewal": triggers.days_to_renewal if triggers else None,
        "trigger_event": triggers.event if triggers else None,
        "trigger_segment_id": segment_id,
        "content_hash": spec.content_hash(),
        "is_active": True,
    }
    if row is None:
        # Events from before a playbook existed never start it.
        row = Playbook(key=spec.key, event_cursor=cursor, created_at=now, **values)
        session.add(row)
        session.flush()
    else:
        if (row.trigger_event, row.trigger_segment_id) != (values["trigger_event"], segment_id):
            row.event_cursor = cursor
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
    existing = {
        s.name: s for s in session.scalars(sa.select(PlaybookStep).where(PlaybookStep.playbook_id == row.id))
    }
    kept = set()
    for step in spec.steps:
        step_values = _step_values(step)
        current = existing.get(step.name)
        if current is None:
            session.add(PlaybookStep(playbook_id=row.id, created_at=now, **step_values))
        else:
            kept.add(current.id)
            for name, value in step_values.items():
                if getattr(current, name) != value:
                    setattr(current, name, value)
    for step in existing.values():
        if step.id not in kept and step.is_active:
            step.is_active = False
    return row


def _step_values(step: Step) -> dict[str, Any]:
    return {
        "step_order": step.order,
        "name": step.name,
        "description": step.description,
        "step_type": step.type,
        "default_assignee_role": step.assignee_role.value,
        "days_from_start": step.days_from_start,
        "due_days": step.due_days,
        "email_template": step.template,
        "meeting_agenda_template": step.meeting_agenda,
        "talk_track": step.talk_track,
        "required_artifacts": list(step.artifacts) or None,
        "recurring": step.recurring.value if step.recurring else None,
        "duration_weeks": step.duration_weeks,
        "success_criteria": step.success_criteria.model_dump(exclude_none=True)
        if step.success_criteria
        else None,
        "is_active": True,
    }


def _canonical_of(row: Playbook, steps: list[PlaybookStep], segment_names: dict[int, str]) -> dict[str, Any]:
    """A playbook in the database, spelled as its file would spell it."""
    triggers = {
        "health_below": row.trigger_health_threshold,
        "days_to_renewal": row.trigger_days_to_renewal,
        "segment": segment_names.get(row.trigger_segment_id) if row.trigger_segment_id else None,
        "event": row.trigger_event,
    }
    data = {
        "playbook": row.key,
        "name": row.name,
        "description": row.description,
        "category": row.category.value,
        "priority": row.priority.value,
        "auto_assign": row.auto_assign,
        "estimated_hours": row.estimated_hours,
        "cooldown_days": row.cooldown_days,
        "success_criteria": row.success_criteria,
        "triggers": {k: v for k, v in triggers.items() if v is not None} or None,
        "steps": [
            {
                "order": s.step_order,
                "name": s.name,
                "type": s.step_type.value,
                "description": s.description,
                "assignee_role": s.default_assignee_role,
                "days_from_start": s.days_from_start,
                "due_days": s.due_days,
                "template": s.email_template,
                "meeting_agenda": s.meeting_agenda_template,
                "talk_track": s.talk_track,
                "artifacts": list(s.required_artifacts or []),
                "recurring": s.recurring,
                "duration_weeks": s.duration_weeks,
                "success_criteria": s.success_criteria,
            }
            for s in sorted(steps, key=lambda s: s.step_order)
            if s.is_active
        ],
    }
    return _ordered(data)


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    """Fields in the order the schema declares them, empty ones left out."""
    out = {k: data[k] for k in PlaybookSpec.model_fields if data.get(k) is not None}
    out["steps"] = [{k: s[k] for k in Step.model_fields if s.get(k) is not None} for s in data["steps"]]
    return out


class _Dumper:
    """YAML for diffs: keys in schema order, multi-line text as blocks."""

    @staticmethod
    def dump(data: dict[str, Any]) -> str:
        import yaml

        class Dumper(yaml.SafeDumper):
            pass

        def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, text)
        return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


def _yaml(data: dict[str, Any]) -> str:
    return _Dumper.dump(_ordered(data))


def _diff(old: str, new: str, key: str, path: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"database: {key}",
        tofile=path,
        n=2,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def default_folder(configured: str | None) -> Path:
    """The folder `validate` and `load` read when none is named: the
    configured one (CS_PLAYBOOKS), else the shipped playbooks/."""
    from cs_cli import paths

    if configured:
        folder = Path(configured).expanduser()
        if not folder.exists():
            raise BadInput(f"{folder}: no such folder (named by the playbooks setting, CS_PLAYBOOKS)")
        return folder
    return paths.playbooks_dir()
