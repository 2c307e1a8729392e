"""The Customer 360's live-update stamp: a cheap fingerprint of one
customer, read in one statement, that moves whenever something the 360
shows is added, changed or removed."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    Alert,
    Contact,
    CSTask,
    Customer,
    HealthOverride,
    HealthScore,
    HealthScoreHistory,
    JourneyEnrollment,
    NpsResponse,
    PlaybookRun,
    SupportTicket,
    Touchpoint,
)
from cs_cli.domain import Actor
from cs_cli.services.access import customer_scope


def _facts(model: Any, *columns: Any) -> list[sa.ScalarSelect]:
    """Scalar subqueries of one table's rows of the customer: how many, the
    newest id and the latest of each given time (a change, an ack...)."""
    mine = model.customer_id == Customer.id
    out = [
        sa.select(sa.func.count()).where(mine).scalar_subquery(),
        sa.select(sa.func.max(model.id)).where(mine).scalar_subquery(),
    ]
    out += [sa.select(sa.func.max(c)).where(mine).scalar_subquery() for c in columns]
    return out


def customer_stamp(session: Session, actor: Actor, ref: str) -> tuple | None:
    """One customer's fingerprint as the Customer 360 shows it: the row's
    last change, its health score, and for its tasks, touchpoints, tickets,
    alerts, contacts, overrides, daily scores, NPS responses, journey
    enrollments and playbook runs how many there are, the newest and the
    latest change (a journey's step, a run started or ended by a playbook,
    a rule or the automation run). One statement; None: the customer is not
    (or no longer) one the actor may see."""
    conds = [Customer.external_id == ref]
    if ref.isdigit():
        conds.append(Customer.id == int(ref))
    scored = HealthScore.customer_id == Customer.id
    row = session.execute(
        sa.select(
            Customer.id,
            Customer.updated_at,
            sa.select(HealthScore.overall_score).where(scored).scalar_subquery(),
            sa.select(HealthScore.calculated_at).where(scored).scalar_subquery(),
            *_facts(CSTask, CSTask.updated_at),
            *_facts(Touchpoint),
            *_facts(SupportTicket, SupportTicket.updated_at),
            *_facts(Alert, Alert.acknowledged_at, Alert.resolved_at),
            # An alert keeps no time of its assignment: a sum of id times
            # assignee moves with any one reassignment (the 360 names who).
            sa.select(sa.func.sum(Alert.id * sa.func.coalesce(Alert.assigned_to_user_id, 0)))
            .where(Alert.customer_id == Customer.id)
            .scalar_subquery(),
            *_facts(Contact, Contact.updated_at),
            *_facts(HealthOverride, HealthOverride.cleared_at),
            *_facts(HealthScoreHistory),
            *_facts(NpsResponse),
            *_facts(JourneyEnrollment, JourneyEnrollment.updated_at),
            *_facts(PlaybookRun, PlaybookRun.updated_at),
        )
        .where(sa.or_(*conds), customer_scope(actor))
        # An exact external id beats an internal id that happens to match (find_customer).
        .order_by((Customer.external_id == ref).desc(), Customer.id)
        .limit(1)
    ).first()
    return None if row is None else tuple(str(v) for v in row)
