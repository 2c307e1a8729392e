"""What each step type does, for a group of enrollments standing on the same
step (docs/journeys.md, Steps). RUN executes a step on arrival (a new
visit); RESUME looks again at a step that waits (a wait, a task waiting for
completion, a human touchpoint) when its time has come or something it
waits for may have happened.

A handler reports through the batch: `run` records the execution, then
`go` (on to a step), `wait` (until a moment) or `end`/`fail`. Every effect
is a row written in the batch's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa

from cs_cli import templates
from cs_cli.db.models import CSTask, Customer, Playbook, Segment, Touchpoint
from cs_cli.domain import EnrollmentStatus, OutboxChannel, TaskStatus, TaskType
from cs_cli.errors import BadInput, TemplateError
from cs_cli.services import events
from cs_cli.services.journeys import criteria
from cs_cli.services.journeys.batch import Batch, Handler, Live
from cs_cli.services.journeys.context import Person, template_context
from cs_cli.services.journeys.program import Program, ProgramStep
from cs_cli.services.outbox.enqueue import NewMessage, prepare
from cs_cli.specs.journey import AssigneeRole, HumanTouchpoint, StepType
from cs_cli.templates.emails import render_parts

_TOUCHPOINT_TASK = {
    HumanTouchpoint.CALL: TaskType.CALL,
    HumanTouchpoint.MEETING: TaskType.MEETING,
    HumanTouchpoint.QBR: TaskType.MEETING,
    HumanTouchpoint.RENEWAL_DISCUSSION: TaskType.MEETING,
    HumanTouchpoint.ESCALATION: TaskType.ESCALATION,
    HumanTouchpoint.WEBINAR: TaskType.MEETING,
    HumanTouchpoint.CUSTOM: TaskType.CUSTOM,
}


def message_key(live: Live, step: ProgramStep, visit: int) -> str:
    """The outbox idempotency key of a step's message: one per visit, ever."""
    return f"journey-{live.id}-{step.key}-{visit}"


def _context(batch: Batch, program: Program, step: ProgramStep, live: Live, person: Person | None):
    facts = batch.people[live.customer_id]
    return template_context(
        facts,
        person,
        journey={"key": program.key, "name": program.name},
        step={"key": step.key, "name": step.name},
        enrollment={"id": live.id, "enrolled_on": live.enrolled_at.date()},
        today=batch.today,
    )


def _render(text: str, context: dict[str, Any], name: str) -> str:
    return templates.render(text, context, name=name)


def _until(batch: Batch, days: int) -> dt.datetime:
    return batch.now + dt.timedelta(days=days)


def _waited_until(live: Live) -> dt.datetime:
    return dt.datetime.fromisoformat(live.waiting["until"])  # type: ignore[index]


# --- messages ---


def run_email(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    people = batch.facts_of(group)
    text, html = step.resolved.get("text"), step.resolved.get("html")
    for live in group:
        facts = people.get(live.customer_id)
        person = facts.person(spec.to, live.contact_id) if facts else None
        if person is None or not person.email:
            batch.run(live, step, "skipped", {"reason": f"no {spec.to.value} with an email address"})
            batch.note(live, f"{step.key}: not sent, no {spec.to.value} with an email address")
            batch.go(live, spec.next)
            continue
        context = _context(batch, program, step, live, person)
        try:
            subject = _render(spec.subject, context, f"{program.key} {step.key} subject")
            body, markup = render_parts(text or "", html, context, name=spec.template)
        except TemplateError as exc:
            batch.fail(live, step, str(exc))
            continue
        visit = batch.visit(live, step.key) + 1
        payload: dict[str, Any] = {"text": body}
        if markup is not None:
            payload["html"] = markup
        message = NewMessage(
            channel=OutboxChannel.EMAIL,
            idempotency_key=message_key(live, step, visit),
            recipient=person.email,
            subject=subject,
            payload=payload,
            customer_id=live.customer_id,
            contact_id=person.contact_id,
        )
        try:
            row = prepare(message, batch.now)
        except BadInput as exc:
            # A contact's bad address is the data's problem, not the journey's: say so, go on.
            batch.run(live, step, "skipped", {"reason": str(exc)})
            batch.note(live, f"{step.key}: not sent, {exc}")
            batch.go(live, spec.next)
            continue
        batch.messages.append(row)
        detail = {"to": person.email, "subject": subject}
        if batch.simulate:
            detail["text"] = body
        batch.run(live, step, "queued", detail)
        batch.go(live, spec.next)


def run_in_app(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    people = batch.facts_of(group)
    for live in group:
        facts = people.get(live.customer_id)
        person = facts.person(spec.to, live.contact_id) if facts else None
        if person is None or (person.email is None and person.contact_id is None):
            batch.run(live, step, "skipped", {"reason": f"no {spec.to.value}"})
            batch.go(live, spec.next)
            continue
        context = _context(batch, program, step, live, person)
        try:
            title = _render(spec.title, context, f"{program.key} {step.key} title")
            body = _render(spec.body, context, f"{program.key} {step.key} body")
        except TemplateError as exc:
            batch.fail(live, step, str(exc))
            continue
        visit = batch.visit(live, step.key) + 1
        recipient = person.email or f"contact:{person.contact_id}"
        message = NewMessage(
            channel=OutboxChannel.IN_APP,
            idempotency_key=message_key(live, step, visit),
            recipient=recipient,
            subject=title[:500],
            payload={
                "message": {"title": title, "body": body, "url": spec.url},
                "customer": facts.customer["external_id"] if facts else None,
                "journey": program.key,
                "step": step.key,
            },
            customer_id=live.customer_id,
            contact_id=person.contact_id,
        )
        try:
            row = prepare(message, batch.now)
        except BadInput as exc:
            batch.fail(live, step, str(exc))
            continue
        batch.messages.append(row)
        batch.run(live, step, "queued", {"to": recipient, "title": title})
        batch.go(live, spec.next)


def run_webhook(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    people = batch.facts_of(group)
    for live in group:
        facts = people.get(live.customer_id)
        visit = batch.visit(live, step.key) + 1
        key = message_key(live, step, visit)
        body = {
            "type": "journey.step",
            "id": key,
            "journey": program.key,
            "step": step.key,
            "enrollment_id": live.id,
            "customer": {
                "external_id": facts.customer["external_id"] if facts else None,
                "name": facts.customer["name"] if facts else None,
            },
            "occurred_at": batch.now.isoformat(),
            "payload": spec.payload or {},
        }
        message = NewMessage(
            channel=OutboxChannel.WEBHOOK,
            idempotency_key=key,
            recipient=spec.url,
            subject=f"{program.key}/{step.key}",
            payload={"url": spec.url, "body": body, "timeout": spec.timeout_seconds},
            customer_id=live.customer_id,
        )
        try:
            row = prepare(message, batch.now)
        except BadInput as exc:  # the payload is not JSON, say
            batch.fail(live, step, str(exc))
            continue
        batch.messages.append(row)
        batch.run(live, step, "queued", {"url": spec.url})
        batch.go(live, spec.next)


# --- people's work ---


def _assignees(batch: Batch, group: list[Live], role: AssigneeRole) -> dict[int, int | None]:
    """Who gets a task of `role` for each customer of the group."""
    from cs_cli.services.playbooks.run_tasks import assignees_by_role

    people = batch.facts_of(group)
    csm_ids = sorted({f.csm_id for f in people.values() if f.csm_id is not None})
    chains = assignees_by_role(batch.session, csm_ids)
    index = {AssigneeRole.CSM: 0, AssigneeRole.MANAGER: 1, AssigneeRole.EXECUTIVE: 2}[role]
    out: dict[int, int | None] = {}
    for live in group:
        csm_id = people[live.customer_id].csm_id if live.customer_id in people else None
        out[live.customer_id] = chains.get(csm_id, (None, None, None))[index] if csm_id else None
    return out


def _create_tasks(batch: Batch, rows: list[tuple[Live, dict[str, Any]]]) -> list[int]:
    """Insert the tasks (one statement), with their task.created events."""
    if not rows:
        return []
    table = CSTask.__table__
    values = [
        {
            "customer_id": live.customer_id,
            "journey_enrollment_id": live.id,
            "status": TaskStatus.PENDING.value,
            "created_at": batch.now,
            **task,
        }
        for live, task in rows
    ]
    ids = list(
        batch.session.scalars(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
            values,
        )
    )
    events.record_many(
        batch.session,
        batch.actor,
        "task.created",
        [
            (
                v["customer_id"],
                {
                    "task_id": task_id,
                    "task_type": v["task_type"],
                    "priority": v["priority"],
                    "due_date": v["due_date"].isoformat() if v["due_date"] else None,
                    "assigned_to_user_id": v["assigned_to_user_id"],
                    "playbook_run_id": None,
                    "journey_enrollment_id": v["journey_enrollment_id"],
                },
            )
            for task_id, v in zip(ids, values, strict=True)
        ],
        occurred_at=batch.now,
    )
    return ids


def run_task(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    batch.facts_of(group)
    assignees = _assignees(batch, group, spec.assignee_role)
    rows = []
    for live in group:
        context = _context(batch, program, step, live, None)
        try:
            title = _render(spec.title, context, f"{program.key} {step.key} title")[:200]
            description = (
                _render(spec.description, context, f"{program.key} {step.key} description")
                if spec.description
                else None
            )
        except TemplateError as exc:
            batch.fail(live, step, str(exc))
            continue
        rows.append(
            (
                live,
                {
                    "title": title,
                    "description": description,
                    "task_type": spec.task_type.value,
                    "priority": spec.priority.value,
                    "due_date": batch.today + dt.timedelta(days=spec.due_days),
                    "assigned_to_user_id": assignees.get(live.customer_id),
                    "assigned_to_role": spec.assignee_role.value,
                },
            )
        )
    for (live, _), task_id in zip(rows, _create_tasks(batch, rows), strict=True):
        live.facts.setdefault("tasks", {})[step.key] = {"id": task_id, "status": TaskStatus.PENDING.value}
        batch.run(live, step, "created", {"task_id": task_id})
        if spec.wait_for_completion is not None:
            batch.wait(live, _until(batch, spec.wait_for_completion.timeout_days), task_id=task_id)
        else:
            batch.go(live, spec.next)


def resume_task(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    completion = spec.wait_for_completion
    ids = {(lv.waiting or {}).get("task_id") for lv in group} - {None}
    states = criteria.task_states(batch.session, ids)  # type: ignore[arg-type]
    for live in group:
        task_id = (live.waiting or {}).get("task_id")
        status, outcome = states.get(task_id, ("cancelled", None))
        live.facts.setdefault("tasks", {})[step.key] = {"id": task_id, "status": status, "outcome": outcome}
        if status == TaskStatus.COMPLETED.value:
            targets = {o.value: k for o, k in completion.outcomes.items()}
            batch.go(live, targets.get(outcome or "", spec.next))
        elif status == TaskStatus.CANCELLED.value:
            batch.go(live, spec.next)
        elif batch.now >= _waited_until(live):
            batch.note(live, f"{step.key}: the task was still open after {completion.timeout_days} days")
            batch.go(live, completion.on_timeout or spec.next)
        else:
            batch.wait(live, _waited_until(live), task_id=task_id)


def run_touchpoint(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    batch.facts_of(group)
    assignees = _assignees(batch, group, spec.assignee_role)
    kinds = ", ".join(t.value.replace("_", " ") for t in spec.touchpoint_types)
    rows = []
    for live in group:
        context = _context(batch, program, step, live, None)
        try:
            prompt = _render(spec.prompt, context, f"{program.key} {step.key} prompt")
        except TemplateError as exc:
            batch.fail(live, step, str(exc))
            continue
        customer = batch.people[live.customer_id].customer["name"]
        rows.append(
            (
                live,
                {
                    "title": f"Log a {kinds} with {customer}"[:200],
                    "description": prompt,
                    "task_type": _TOUCHPOINT_TASK[spec.touchpoint_types[0]].value,
                    "priority": "medium",
                    "due_date": batch.today + dt.timedelta(days=spec.due_days),
                    "assigned_to_user_id": assignees.get(live.customer_id),
                    "assigned_to_role": spec.assignee_role.value,
                },
            )
        )
    for (live, _), task_id in zip(rows, _create_tasks(batch, rows), strict=True):
        live.facts.setdefault("tasks", {})[step.key] = {"id": task_id, "status": TaskStatus.PENDING.value}
        batch.run(live, step, "asked", {"task_id": task_id})
        batch.wait(live, _until(batch, spec.timeout_days), task_id=task_id)


def resume_touchpoint(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    kinds = [t.value for t in spec.touchpoint_types]
    since = {lv.customer_id: lv.step_entered_at or lv.enrolled_at for lv in group}
    rows = batch.session.execute(
        sa.select(Touchpoint.customer_id, Touchpoint.occurred_at)
        .where(
            Touchpoint.customer_id.in_(list(since)),
            Touchpoint.touchpoint_type.in_(kinds),
            Touchpoint.occurred_at >= min(since.values()),
            Touchpoint.occurred_at <= batch.now,
        )
        .order_by(Touchpoint.occurred_at)
    )
    logged: dict[int, dt.datetime] = {}
    for customer_id, at in rows:
        # The first one after this enrollment's own step began: an earlier
        # one, logged after another enrollment's start, does not hide it.
        if customer_id not in logged and at >= since[customer_id]:
            logged[customer_id] = at
    for live in group:
        at = logged.get(live.customer_id)
        if at is not None:
            live.facts.setdefault("events", {})[step.key] = at.isoformat()
            batch.go(live, spec.next)
        elif batch.now >= _waited_until(live):
            batch.note(live, f"{step.key}: no {', '.join(kinds)} logged within {spec.timeout_days} days")
            batch.go(live, spec.on_timeout or spec.next)
        else:
            batch.wait(live, _waited_until(live), task_id=(live.waiting or {}).get("task_id"))


# --- time ---


def run_wait(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    for live in group:
        days = spec.days if spec.days is not None else spec.timeout_days
        batch.run(live, step, "waiting", {"days": days, "until_event": spec.until_event})
        batch.wait(live, _until(batch, days))


def resume_wait(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    seen: dict[int, dt.datetime] = {}
    if spec.until_event is not None:
        since = {lv.customer_id: lv.step_entered_at or lv.enrolled_at for lv in group}
        seen = criteria.events_seen(batch.session, spec.until_event, since, until=batch.now)
    for live in group:
        if live.customer_id in seen:
            live.facts.setdefault("events", {})[spec.until_event] = seen[live.customer_id].isoformat()
            batch.go(live, spec.next)
        elif batch.now >= _waited_until(live):
            if spec.until_event is not None:
                batch.note(live, f"{step.key}: no {spec.until_event} within {spec.timeout_days} days")
                batch.go(live, spec.on_timeout or spec.next)
            else:
                batch.go(live, spec.next)
        else:
            batch.wait(live, _waited_until(live))


# --- branches ---


def run_condition(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    holding = {lv.id for lv in group}
    if spec.rules is not None:
        matched = criteria.rules_hold(
            batch.session, spec.rules, {lv.customer_id for lv in group}, today=batch.today
        )
        holding = {lv.id for lv in group if lv.customer_id in matched}
    if spec.facts:
        holding &= criteria.facts_hold(batch.session, spec.facts, group, now=batch.now)
    for live in group:
        yes = live.id in holding
        batch.run(live, step, "yes" if yes else "no")
        batch.go(live, spec.then if yes else spec.else_)


def run_split(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    for live in group:
        visit = batch.visit(live, step.key) + 1
        # The draw is a hash of (enrollment, step, visit): the same on a retried tick.
        digest = hashlib.sha256(f"{live.id}:{step.key}:{visit}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % 100
        total = 0
        chosen = spec.branches_[-1]
        for branch in spec.branches_:
            total += branch.share
            if point < total:
                chosen = branch
                break
        live.facts.setdefault("split", {})[step.key] = chosen.name
        batch.run(live, step, chosen.name, {"branch": chosen.name, "share": chosen.share})
        batch.go(live, chosen.next)


def run_health_check(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    from cs_cli.services.health.recalc import recalc_days
    from cs_cli.specs.scorecard import load_scorecards

    spec = step.spec
    ids = sorted({lv.customer_id for lv in group})
    plan = load_scorecards(batch.scorecard)
    recalc_days(batch.session, batch.actor, plan, ids, days=[batch.today], now=batch.now, named=True)
    # What the templates and conditions read changed with the new scores.
    for customer_id in ids:
        batch.people.pop(customer_id, None)
    matched = (
        criteria.rules_hold(batch.session, spec.rules, set(ids), today=batch.today)
        if spec.rules is not None
        else None
    )
    for live in group:
        if matched is None:
            batch.run(live, step, "scored")
            batch.go(live, spec.next)
        else:
            yes = live.customer_id in matched
            batch.run(live, step, "yes" if yes else "no")
            batch.go(live, spec.then if yes else spec.else_)


# --- changes elsewhere ---


def run_segment_update(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    from cs_cli.services.segments.members import add_stays, end_stays
    from cs_cli.services.segments.refresh import recount

    resolved = step.resolved
    ids = [lv.customer_id for lv in group]
    changes = []
    for verb, names in (("add", step.spec.add), ("remove", step.spec.remove)):
        for name in names:
            segment_id = (resolved.get(verb) or {}).get(name)
            segment = batch.session.get(Segment, segment_id) if segment_id else None
            if segment is None:
                # Checked before any change, so a failed step changes no segment.
                for live in group:
                    batch.fail(live, step, f"segment '{name}' no longer exists")
                return
            changes.append((verb, segment))
    touched = []
    for verb, segment in changes:
        if verb == "add":
            add_stays(batch.session, batch.actor, segment, ids, now=batch.now)
        else:
            end_stays(batch.session, batch.actor, segment, ids, now=batch.now)
        touched.append(segment)
    if touched:
        recount(batch.session, touched, as_of=batch.today, now=batch.now)
    for live in group:
        batch.run(live, step, "updated", {"add": step.spec.add, "remove": step.spec.remove})
        batch.go(live, step.spec.next)


def run_start_journey(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    from cs_cli.services.journeys.enroll import capacity_left, find_journey, insert_enrollments

    spec = step.spec
    target = find_journey(batch.session, spec.journey)
    ids = [lv.customer_id for lv in group]
    added: set[int] = set()
    if target.is_active:
        # No enrolling lock here: a batch holds the event log's lock shared,
        # and waiting for a lock whose holder waits for that one could
        # deadlock. Two ticks handing over at the same moment may pass the
        # target's capacity by a batch at most.
        candidates = sa.select(Customer.id.label("customer_id")).where(Customer.id.in_(ids))
        added = set(
            insert_enrollments(
                batch.session,
                batch.actor,
                target,
                candidates,
                now=batch.now,
                source=f"journey:{program.key}",
                limit=capacity_left(batch.session, target),
            )
        )
    for live in group:
        if live.customer_id in added:
            batch.run(live, step, "enrolled", {"journey": spec.journey})
        else:
            why = (
                "is deactivated"
                if not target.is_active
                else "did not take it (already in it, done before, or full)"
            )
            batch.run(live, step, "skipped", {"journey": spec.journey, "reason": why})
            batch.note(live, f"{step.key}: journey {spec.journey} {why}")
        batch.go(live, spec.next)


def run_trigger_playbook(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    from cs_cli.services.playbooks.run_tasks import create_tasks
    from cs_cli.services.playbooks.trigger import insert_runs, scored_customers

    spec = step.spec
    playbook = batch.session.scalar(sa.select(Playbook).where(Playbook.key == spec.playbook))
    started: list = []
    if playbook is not None and playbook.is_active:
        candidates, _ = scored_customers(batch.today)
        started = insert_runs(
            batch.session,
            playbook,
            candidates.where(Customer.id.in_([lv.customer_id for lv in group]), Customer.status == "active"),
            kind="journey",
            reason=spec.reason or f"journey {program.key}, step {step.key}",
            now=batch.now,
        )
        create_tasks(batch.session, batch.actor, started, as_of=batch.today, now=batch.now)
    runs = {r.customer_id: r.run_id for r in started}
    for live in group:
        run_id = runs.get(live.customer_id)
        if run_id is not None:
            batch.run(live, step, "started", {"playbook": spec.playbook, "run_id": run_id})
        else:
            why = (
                "is not active"
                if playbook is None or not playbook.is_active
                else ("already running, in its cooldown, or the customer churned")
            )
            batch.run(live, step, "skipped", {"playbook": spec.playbook, "reason": why})
            batch.note(live, f"{step.key}: playbook {spec.playbook} not started ({why})")
        batch.go(live, spec.next)


def run_exit(batch: Batch, program: Program, step: ProgramStep, group: list[Live]) -> None:
    spec = step.spec
    for live in group:
        batch.run(live, step, "success" if spec.success else "exit")
        reason = spec.reason or ("exit (success)" if spec.success else "exit")
        batch.end(live, EnrollmentStatus.COMPLETED, success=spec.success, reason=reason)


RUN: dict[StepType, Handler] = {
    StepType.EMAIL: run_email,
    StepType.IN_APP_MESSAGE: run_in_app,
    StepType.TASK: run_task,
    StepType.WAIT: run_wait,
    StepType.CONDITION: run_condition,
    StepType.WEBHOOK: run_webhook,
    StepType.SEGMENT_UPDATE: run_segment_update,
    StepType.HEALTH_CHECK: run_health_check,
    StepType.HUMAN_TOUCHPOINT: run_touchpoint,
    StepType.START_JOURNEY: run_start_journey,
    StepType.TRIGGER_PLAYBOOK: run_trigger_playbook,
    StepType.AB_SPLIT: run_split,
    StepType.EXIT: run_exit,
}
RESUME: dict[StepType, Handler] = {
    StepType.TASK: resume_task,
    StepType.WAIT: resume_wait,
    StepType.HUMAN_TOUCHPOINT: resume_touchpoint,
}
