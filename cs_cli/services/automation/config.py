"""The automation rules in force: read from the configured file (or the one
shipped), checked against the database, and described for `cs automation
rules` with when each last fired."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import EventCursor, Playbook
from cs_cli.domain import Actor, AutomationRuleView
from cs_cli.specs.automation import Action, Condition, LoadedRules, Rule, load_rules

CURSOR_PREFIX = "automation:"

# Triggers of the plan's 8.2 that other engines own; listed so that
# `cs automation rules` shows the whole table.
ELSEWHERE = (
    AutomationRuleView(
        name="segment_entered_enroll",
        events=["segment.entered"],
        condition=None,
        actions=["enroll in the journeys whose trigger is that segment"],
        handled_by="journeys",
        enabled=True,
        description="Customer enters segment -> enroll in journey (cs journeys tick).",
    ),
    AutomationRuleView(
        name="task_completed_progress",
        events=["task.completed"],
        condition=None,
        actions=["wake the enrollment waiting on the task"],
        handled_by="journeys",
        enabled=True,
        description="Task completed -> progress journey (cs journeys tick).",
    ),
    AutomationRuleView(
        name="task_completed_health",
        events=["task.completed"],
        condition=None,
        actions=["count it in the engagement measures"],
        handled_by="recalc",
        enabled=True,
        description="Task completed -> update health (cs recalc, daily).",
    ),
)


def cursor_name(rule: str) -> str:
    return CURSOR_PREFIX + rule


def configured_rules(path_setting: str = "") -> LoadedRules:
    """The rules file named by the automation_rules setting, else the shipped one."""
    return load_rules(Path(path_setting).expanduser() if path_setting else None)


def check_rules(session: Session, rules: LoadedRules) -> dict[str, Playbook]:
    """Every playbook the enabled rules name, by key; a playbook that does
    not exist or is deactivated is an error at its line (exit 2)."""
    wanted: dict[str, tuple] = {}
    for i, rule in enumerate(rules.spec.rules):
        if not rule.enabled:
            continue
        for j, action in enumerate(rule.actions):
            if action.playbook is not None:
                wanted.setdefault(action.playbook.key, ("rules", i, "actions", j, "playbook"))
    if not wanted:
        return {}
    found = {p.key: p for p in session.scalars(sa.select(Playbook).where(Playbook.key.in_(sorted(wanted))))}
    for key, where in wanted.items():
        playbook = found.get(key)
        if playbook is None:
            raise rules.error(where, f"no playbook '{key}' (load it with `cs playbooks load`)")
        if not playbook.is_active:
            raise rules.error(where, f"playbook '{key}' is deactivated")
    return found


def describe_condition(when: dict[str, Condition]) -> str | None:
    parts = []
    for field, test in when.items():
        if test.below is not None:
            parts.append(f"{field} < {test.below:g}")
        if test.at_least is not None:
            parts.append(f"{field} >= {test.at_least:g}")
        if test.equals is not None:
            parts.append(f"{field} = {test.equals}")
        if test.one_of is not None:
            parts.append(f"{field} in {', '.join(test.one_of)}")
    return " and ".join(parts) or None


def describe_action(action: Action) -> str:
    if action.alert is not None:
        return f"alert {action.alert.type} ({action.alert.severity.value})"
    if action.playbook is not None:
        once = ", once per renewal" if action.playbook.once_per_renewal else ""
        return f"playbook {action.playbook.key}{once}"
    if action.task is not None:
        return f"task for the CSM, {action.task.priority.value}, due in {action.task.due_days}d"
    assert action.notify is not None
    return "email the CSM"


def list_rules(session: Session, actor: Actor, rules: LoadedRules) -> list[AutomationRuleView]:
    """The rules of the file with their cursors (how far each has read, how
    many events it acted on, when last), then the triggers other engines own."""
    cursors = {
        c.consumer: c
        for c in session.scalars(
            sa.select(EventCursor).where(EventCursor.consumer.startswith(CURSOR_PREFIX, autoescape=True))
        )
    }
    views = []
    for rule in rules.spec.rules:
        cursor = cursors.get(cursor_name(rule.name))
        views.append(
            AutomationRuleView(
                name=rule.name,
                events=list(rule.events),
                condition=describe_condition(rule.when),
                actions=[describe_action(a) for a in rule.actions],
                handled_by="automation",
                enabled=rule.enabled,
                description=rule.description,
                position=cursor.position if cursor else None,
                acted_count=cursor.acted_count if cursor else 0,
                last_acted_at=cursor.last_acted_at if cursor else None,
            )
        )
    return views + list(ELSEWHERE)


def enabled(rules: LoadedRules) -> list[Rule]:
    return [r for r in rules.spec.rules if r.enabled]
