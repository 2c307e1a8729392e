"""Reading journeys: the list with metrics, one journey's flow, its funnel.

The funnel counts, for each step key of the current version, the
enrollments (of any version, among the customers the actor may see) that
reached it: those whose `facts["visited"]` holds the key (the tick engine
records each step an enrollment executes there, with its visit count) and
those on it now (`current_step_id`).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.models import Customer, Journey, JourneyEnrollment, JourneyStep
from cs_cli.domain import Actor, EnrollmentStatus, JourneyDetail, JourneyRow, JourneyStepView
from cs_cli.errors import NotFound
from cs_cli.services.access import customer_scope

_OPS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def list_journeys(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[JourneyRow]:
    """Every journey (the active ones unless asked), with its metrics, the
    steps of its current version and the active enrollments among the
    customers the actor may see."""
    steps = (
        sa.select(JourneyStep.journey_id, sa.func.count().label("n"))
        .join(Journey, sa.and_(Journey.id == JourneyStep.journey_id, Journey.version == JourneyStep.version))
        .group_by(JourneyStep.journey_id)
        .subquery()
    )
    active = (
        sa.select(JourneyEnrollment.journey_id, sa.func.count().label("n"))
        .join(Customer, Customer.id == JourneyEnrollment.customer_id)
        .where(JourneyEnrollment.status == EnrollmentStatus.ACTIVE, customer_scope(actor))
        .group_by(JourneyEnrollment.journey_id)
        .subquery()
    )
    stmt = (
        sa.select(Journey, steps.c.n, active.c.n)
        .outerjoin(steps, steps.c.journey_id == Journey.id)
        .outerjoin(active, active.c.journey_id == Journey.id)
        .order_by(Journey.is_active.desc(), Journey.key)
    )
    if not include_inactive:
        stmt = stmt.where(Journey.is_active)
    return [_row(j, n_steps or 0, n_active or 0) for j, n_steps, n_active in session.execute(stmt)]


def _row(j: Journey, steps: int, active: int) -> JourneyRow:
    return JourneyRow(
        key=j.key,
        name=j.name,
        journey_type=j.journey_type,
        trigger=trigger_in_words(j.trigger_type.value, j.trigger_config or {}),
        is_active=j.is_active,
        version=j.version,
        steps=steps,
        duration_days=j.duration_days,
        active_enrollments=active,
        total_enrolled=j.total_enrolled,
        total_completed=j.total_completed,
        avg_completion_days=None if j.avg_completion_days is None else round(j.avg_completion_days, 1),
        success_rate=None if j.success_rate is None else round(j.success_rate, 3),
    )


def journey_detail(session: Session, actor: Actor, key: str, *, metrics: bool = False) -> JourneyDetail:
    """One journey: its settings, the steps of its current version with
    their branches and, with `metrics`, how many enrollments reached each."""
    rows = [r for r in list_journeys(session, actor, include_inactive=True) if r.key == key]
    if not rows:
        raise NotFound(f"no journey '{key}'", hint="`cs journeys list` shows them")
    journey = session.scalars(sa.select(Journey).where(Journey.key == key)).one()
    steps = list(
        session.scalars(
            sa.select(JourneyStep)
            .where(JourneyStep.journey_id == journey.id, JourneyStep.version == journey.version)
            .order_by(JourneyStep.step_order)
        )
    )
    reached: dict[str, int] = {}
    current: dict[str, int] = {}
    total = None
    if metrics:
        total, reached, current = _funnel(session, actor, journey.id, [s.key for s in steps])
    criteria = journey.goal or {}
    return JourneyDetail(
        journey=rows[0],
        description=journey.description,
        trigger_config=journey.trigger_config,
        goal=criteria.get("goal"),
        exit_when=criteria.get("exit_when"),
        allow_re_enrollment=journey.allow_re_enrollment,
        max_concurrent_enrollments=journey.max_concurrent_enrollments,
        content_hash=journey.content_hash,
        updated_at=journey.updated_at or journey.created_at,
        steps=[
            JourneyStepView(
                key=s.key,
                name=s.name,
                step_type=(s.config or {}).get("type", s.step_type.value),
                order=s.step_order,
                summary=step_in_words(s.config or {}),
                branches=branches_of(s.config or {}),
                reached=reached.get(s.key) if metrics else None,
                current=current.get(s.key) if metrics else None,
            )
            for s in steps
        ],
        enrollments=total,
    )


def _funnel(
    session: Session, actor: Actor, journey_id: int, keys: list[str]
) -> tuple[int, dict[str, int], dict[str, int]]:
    """Enrollments in scope; per step key, those that reached it and those on it now."""
    on = aliased(JourneyStep)
    base = (
        sa.select(JourneyEnrollment.facts, on.key.label("current_key"))
        .join(Customer, Customer.id == JourneyEnrollment.customer_id)
        .outerjoin(on, on.id == JourneyEnrollment.current_step_id)
        .where(JourneyEnrollment.journey_id == journey_id, customer_scope(actor))
        .subquery()
    )
    columns = [sa.func.count().label("total")]
    for i, key in enumerate(keys):
        visited = base.c.facts[("visited", key)].as_string().is_not(None)
        columns.append(
            sa.func.sum(sa.case((sa.or_(visited, base.c.current_key == key), 1), else_=0)).label(f"r{i}")
        )
        columns.append(sa.func.sum(sa.case((base.c.current_key == key, 1), else_=0)).label(f"c{i}"))
    row = session.execute(sa.select(*columns).select_from(base)).one()
    reached = {key: int(row[1 + 2 * i] or 0) for i, key in enumerate(keys)}
    current = {key: int(row[2 + 2 * i] or 0) for i, key in enumerate(keys)}
    return int(row[0]), reached, current


def branches_of(config: dict[str, Any]) -> list[tuple[str, str]]:
    """Where a step (its stored config) can go: (label, step key)."""
    out: list[tuple[str, str]] = []
    kind = config.get("type")
    if kind == "ab_split":
        return [(f"{b['name']} {b['share']}%", b["next"]) for b in config.get("branches", [])]
    if config.get("then"):
        out.append(("yes", config["then"]))
    if config.get("else"):
        out.append(("no", config["else"]))
    completion = config.get("wait_for_completion") or {}
    for outcome, target in (completion.get("outcomes") or {}).items():
        out.append((outcome, target))
    timeout = completion.get("on_timeout") or config.get("on_timeout")
    if timeout:
        out.append(("timeout", timeout))
    if config.get("next"):
        out.append(("next", config["next"]))
    return out


def trigger_in_words(kind: str, config: dict[str, Any]) -> str:
    if kind == "segment_entry":
        words = f"enters segment {config.get('segment')}"
    elif kind == "event":
        words = f"event {config.get('event')}"
    elif kind == "scheduled":
        if config.get("days_before_renewal") is not None:
            words = f"{config['days_before_renewal']} days before renewal"
        elif config.get("days_after_churn") is not None:
            words = f"{config['days_after_churn']} days after churn"
        else:
            words = str(config.get("every"))
    else:
        return "manual"
    if config.get("rules"):
        words += f", if {rules_in_words(config['rules'])}"
    return words


def rules_in_words(document: dict[str, Any]) -> str:
    """A rule document, short: `adoption_score < 40, status = active`; JSON when nested."""
    parts = []
    for field, spec in document.items():
        if field in ("all", "any", "not", "usage", "in_segment"):
            return json.dumps(document, default=str, separators=(", ", ": "))
        if isinstance(spec, dict):
            for op, value in spec.items():
                parts.append(f"{field} {_OPS.get(op, op.replace('_', ' '))} {_value(value)}")
        elif isinstance(spec, list):
            parts.append(f"{field} in {_value(spec)}")
        else:
            parts.append(f"{field} = {_value(spec)}")
    return ", ".join(parts)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def facts_in_words(facts: list[dict[str, Any]]) -> str:
    words = []
    for fact in facts:
        if "task" in fact:
            ended = " or ".join(fact.get("outcome") or fact.get("status") or [])
            words.append(f"task {fact['task']} ended {ended}")
        else:
            seen = fact.get("seen", True)
            words.append(f"event {fact['event']} {'seen' if seen else 'not seen'} since enrolling")
    return " and ".join(words)


def criteria_in_words(criteria: dict[str, Any] | None) -> str:
    if not criteria:
        return "-"
    parts = []
    if criteria.get("rules"):
        parts.append(rules_in_words(criteria["rules"]))
    if criteria.get("facts"):
        parts.append(facts_in_words(criteria["facts"]))
    if criteria.get("event"):
        parts.append(f"event {criteria['event']} since enrolling")
    words = " and ".join(parts)
    if criteria.get("within_days"):
        words += f", within {criteria['within_days']} days"
    if criteria.get("description"):
        words = f"{criteria['description']} ({words})"
    return words


def step_in_words(config: dict[str, Any]) -> str:
    """What a step (its stored config) does, in a line."""
    kind = config.get("type")
    if kind == "email":
        return f"email '{config['template']}' to the {config.get('to', 'contact')}: \"{config['subject']}\""
    if kind == "in_app_message":
        return f'in-app message to the {config.get("to", "contact")}: "{config["title"]}"'
    if kind == "task":
        role, kind = config.get("assignee_role", "csm"), config.get("task_type", "custom")
        priority, due = config.get("priority", "medium"), config.get("due_days", 0)
        words = f'task for the {role} ({kind}, {priority}, due in {due} days): "{config["title"]}"'
        completion = config.get("wait_for_completion")
        if completion:
            words += f"; waits up to {completion['timeout_days']} days for its completion"
        return words
    if kind == "wait":
        if config.get("days"):
            return f"wait {config['days']} day{'s' if config['days'] != 1 else ''}"
        return f"wait for event {config['until_event']}, at most {config['timeout_days']} days"
    if kind == "condition":
        parts = []
        if config.get("rules"):
            parts.append(rules_in_words(config["rules"]))
        if config.get("facts"):
            parts.append(facts_in_words(config["facts"]))
        return "if " + " and ".join(parts)
    if kind == "webhook":
        from cs_cli.domain.outbound import mask_url

        return f"POST to {mask_url(config['url'])} (timeout {config.get('timeout_seconds', 10):g} s)"
    if kind == "segment_update":
        parts = [f"add to '{n}'" for n in config.get("add", [])]
        parts += [f"remove from '{n}'" for n in config.get("remove", [])]
        return "; ".join(parts)
    if kind == "health_check":
        words = "recalculate health"
        if config.get("rules"):
            words += f", then if {rules_in_words(config['rules'])}"
        return words
    if kind == "human_touchpoint":
        types = " or ".join(config.get("touchpoint_types", []))
        return (
            f"ask the {config.get('assignee_role', 'csm')} to log a {types} (due in "
            f"{config.get('due_days', 3)} days); waits up to {config['timeout_days']} days"
        )
    if kind == "start_journey":
        return f"start journey '{config['journey']}'"
    if kind == "trigger_playbook":
        return f"trigger playbook '{config['playbook']}'"
    if kind == "ab_split":
        return "random split: " + ", ".join(f"{b['name']} {b['share']}%" for b in config.get("branches", []))
    if kind == "exit":
        words = "exit with success" if config.get("success") else "exit without success"
        return f"{words}: {config['reason']}" if config.get("reason") else words
    return str(kind)
