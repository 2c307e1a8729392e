"""What a rule does with one batch of its events: the events it acts on are
one SELECT (types, id range, data conditions, active customers, not too
old), and each action is a fixed number of statements over them:

  alert     insert the alerts (one open alert per customer and type; a
            condition still open is not alerted again), email the CSMs who
            want alerts at once
  playbook  INSERT ... SELECT of runs (never a second active run, the
            playbook's cooldown, optionally once per renewal date), then
            their tasks
  task      one task per customer and title, for the customer's CSM
  notify    one email per event to the customer's CSM (not to those whose
            notify preference is none), once per rule and event (outbox key)

Texts fill {placeholders} from the event's data, plus customer (external
id), customer_name, event_type and occurred_on; a field the event does not
have is empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import CSTask, Customer, DomainEvent, Playbook, PlaybookRun, User
from cs_cli.domain import Actor, CustomerStatus, NotifyPreference, TaskStatus
from cs_cli.services import alert_notices, events
from cs_cli.services.access import PLACEHOLDER_DOMAIN
from cs_cli.services.alerts import raise_alerts
from cs_cli.services.outbox.enqueue import NewMessage, enqueue_many
from cs_cli.services.playbooks.run_tasks import create_tasks
from cs_cli.services.playbooks.trigger import insert_runs, scored_customers
from cs_cli.specs.automation import Action, Condition, LoadedRules, Rule


@dataclass(frozen=True)
class Batch:
    """The events of `rule`'s types with ids in (after, upto]."""

    rule: Rule
    after: int
    upto: int
    oldest: dt.datetime  # events that happened before this are passed over


def apply(
    session: Session,
    actor: Actor,
    rules: LoadedRules,
    batch: Batch,
    *,
    playbooks: dict[str, Playbook],
    as_of: dt.date,
    now: dt.datetime,
) -> dict[str, int]:
    """Act on the batch's matching events; returns counts (events read,
    acted on, alerts, runs, tasks, messages)."""
    e = DomainEvent
    in_batch = [e.event_type.in_(batch.rule.events), e.id > batch.after, e.id <= batch.upto]
    read = session.scalar(sa.select(sa.func.count()).where(*in_batch)) or 0
    done = {"events": read, "acted": 0, "alerts": 0, "runs": 0, "tasks": 0, "messages": 0}
    if not read:
        return done
    acting = [
        *in_batch,
        e.customer_id.is_not(None),
        e.occurred_at >= sa.literal(batch.oldest, e.occurred_at.type),
        *(c for field, test in batch.rule.when.items() for c in _condition(session, field, test)),
    ]
    rows = session.execute(
        sa.select(
            e.id,
            e.customer_id,
            e.event_type,
            e.occurred_at,
            e.data,
            Customer.external_id,
            Customer.name,
            Customer.csm_id,
            User.email.label("csm_email"),
            User.notify_preference,
            User.is_active.label("csm_active"),
        )
        .join(Customer, Customer.id == e.customer_id)
        .outerjoin(User, User.id == Customer.csm_id)
        .where(*acting, Customer.status == CustomerStatus.ACTIVE)
        .order_by(e.id)
    ).all()
    done["acted"] = len(rows)
    if not rows:
        return done
    customer_ids = sa.select(e.customer_id).where(*acting)
    for action in batch.rule.actions:
        if action.alert is not None:
            new = _alerts(session, actor, action, rows, now=now)
            done["alerts"] += len(new)
            done["messages"] += alert_notices.notify_new(session, new, now=now)
        elif action.playbook is not None:
            runs, tasks = _playbook(
                session, actor, rules, batch.rule, action, playbooks, customer_ids, as_of=as_of, now=now
            )
            done["runs"] += runs
            done["tasks"] += tasks
        elif action.task is not None:
            done["tasks"] += _tasks(session, actor, batch.rule, action, rows, as_of=as_of, now=now)
        elif action.notify is not None:
            done["messages"] += _notify(session, batch.rule, action, rows, now=now)
    return done


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(text: str, row: Any) -> str:
    """A rule's text with the event's fields filled in."""
    values = _Fields({k: "" if v is None else v for k, v in (row.data or {}).items()})
    values.update(
        customer=row.external_id,
        customer_name=row.name,
        event_type=row.event_type,
        occurred_on=row.occurred_at.date().isoformat(),
    )
    return text.format_map(values)


def _condition(session: Session, field: str, test: Condition) -> list[sa.ColumnElement[bool]]:
    value = DomainEvent.data[field]
    found: list[sa.ColumnElement[bool]] = []
    number = _number(session, field)
    if test.below is not None:
        found.append(number < test.below)
    if test.at_least is not None:
        found.append(number >= test.at_least)
    if test.equals is not None:
        if isinstance(test.equals, int | float):
            found.append(number == test.equals)
        else:
            found.append(value.as_string() == test.equals)
    if test.one_of is not None:
        found.append(value.as_string().in_(test.one_of))
    return found


def _number(session: Session, field: str) -> sa.ColumnElement:
    """The field as a number, NULL when it is not one (other systems send
    anything; a text must not stop the run)."""
    value = DomainEvent.data[field]
    if dialect.is_postgres(session):
        is_number = sa.func.jsonb_typeof(value) == "number"
    else:
        is_number = sa.func.json_type(DomainEvent.data, f'$."{field}"').in_(("integer", "real"))
    return sa.case((is_number, value.as_float()), else_=sa.null())


def _alerts(session: Session, actor: Actor, action: Action, rows: list, *, now: dt.datetime) -> list[int]:
    spec = action.alert
    assert spec is not None
    wanted: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.customer_id in wanted:  # one open alert per customer and type anyway
            continue
        wanted[row.customer_id] = {
            "customer_id": row.customer_id,
            "alert_type": spec.type,
            "severity": spec.severity,
            "title": render(spec.title, row)[:200],
            "reason": render(spec.reason, row) if spec.reason else None,
            "details": {"event_id": row.id, "event_type": row.event_type, "data": row.data},
        }
    return raise_alerts(session, actor, list(wanted.values()), now=now)


def _playbook(
    session: Session,
    actor: Actor,
    rules: LoadedRules,
    rule: Rule,
    action: Action,
    playbooks: dict[str, Playbook],
    customer_ids: sa.Select,
    *,
    as_of: dt.date,
    now: dt.datetime,
) -> tuple[int, int]:
    spec = action.playbook
    assert spec is not None
    playbook = playbooks[spec.key]
    candidates, _ = scored_customers(as_of)
    conditions = [Customer.status == CustomerStatus.ACTIVE, Customer.id.in_(customer_ids)]
    kind = "event"
    if spec.once_per_renewal:
        kind = "renewal"
        days = rules.spec.renewal_within_days or 90
        runs = PlaybookRun
        # As `cs playbooks evaluate` does: a run that started within this
        # renewal's window, even one that has ended, means it was handled.
        conditions.append(
            ~sa.exists().where(
                runs.playbook_id == playbook.id,
                runs.customer_id == Customer.id,
                dialect.utc_day(session, runs.started_at)
                >= dialect.add_days(session, Customer.renewal_date, -days),
            )
        )
    started = insert_runs(
        session,
        playbook,
        candidates.where(*conditions),
        kind=kind,
        reason=f"automation rule {rule.name} ({', '.join(rule.events)})",
        now=now,
    )
    return len(started), create_tasks(session, actor, started, as_of=as_of, now=now)


def _tasks(
    session: Session,
    actor: Actor,
    rule: Rule,
    action: Action,
    rows: list,
    *,
    as_of: dt.date,
    now: dt.datetime,
) -> int:
    spec = action.task
    assert spec is not None
    due = as_of + dt.timedelta(days=spec.due_days)
    wanted: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        title = render(spec.title, row)[:200]
        if (row.customer_id, title) in wanted:
            continue
        assignee = row.csm_id if row.csm_active else None
        wanted[(row.customer_id, title)] = {
            "customer_id": row.customer_id,
            "title": title,
            "description": render(spec.description, row) if spec.description else None,
            "task_type": spec.type,
            "assigned_to_user_id": assignee,
            "assigned_to_role": None if assignee else "csm",
            "priority": spec.priority,
            "status": TaskStatus.PENDING,
            "due_date": due,
            "created_at": now,
            "updated_at": now,
        }
    staged = dialect.scratch_table(
        session,
        "cs_new_rule_tasks",
        [
            sa.Column("customer_id", sa.Integer),
            sa.Column("title", sa.String(200)),
            sa.Column("description", sa.Text),
            sa.Column("assigned_to_user_id", sa.Integer),
            sa.Column("assigned_to_role", sa.String(50)),
        ],
        [
            (v["customer_id"], v["title"], v["description"], v["assigned_to_user_id"], v["assigned_to_role"])
            for v in wanted.values()
        ],
    )
    table = CSTask.__table__
    at = sa.literal(now, UTCDateTime())
    values = {
        "customer_id": staged.c.customer_id,
        "title": staged.c.title,
        "description": staged.c.description,
        "task_type": sa.literal(spec.type.value),
        "assigned_to_user_id": staged.c.assigned_to_user_id,
        "assigned_to_role": staged.c.assigned_to_role,
        "priority": sa.literal(spec.priority.value),
        "status": sa.literal(TaskStatus.PENDING.value),
        "due_date": sa.literal(due, sa.Date),
        "created_at": at,
        "updated_at": at,
    }
    created = session.execute(
        sa.insert(table)
        .from_select(list(values), sa.select(*values.values()))
        .returning(table.c.id, table.c.customer_id, table.c.assigned_to_user_id)
    ).all()
    made = dialect.scratch_table(
        session,
        "cs_made_rule_tasks",
        [
            sa.Column("task_id", sa.Integer),
            sa.Column("customer_id", sa.Integer),
            sa.Column("assignee", sa.Integer),
        ],
        [tuple(r) for r in created],
    )
    data = dialect.json_object(
        session,
        {
            "task_id": made.c.task_id,
            "task_type": sa.literal(spec.type.value),
            "priority": sa.literal(spec.priority.value),
            "due_date": sa.literal(due.isoformat()),
            "assigned_to_user_id": made.c.assignee,
            "automation_rule": sa.literal(rule.name),
        },
    )
    events.record_from_select(
        session, actor, "task.created", sa.select(made.c.customer_id, data), occurred_at=now, count=False
    )
    return len(created)


def _notify(session: Session, rule: Rule, action: Action, rows: list, *, now: dt.datetime) -> int:
    spec = action.notify
    assert spec is not None
    messages = [
        NewMessage(
            channel="email",
            idempotency_key=f"automation:{rule.name}:{row.id}",
            recipient=row.csm_email,
            subject=render(spec.subject, row)[:500].replace("\r", " ").replace("\n", " "),
            payload={"text": render(spec.text, row)},
        )
        for row in rows
        if row.csm_email
        and row.csm_active
        and row.notify_preference != NotifyPreference.NONE
        and not row.csm_email.endswith(f"@{PLACEHOLDER_DOMAIN}")
    ]
    return enqueue_many(session, messages, now=now)
