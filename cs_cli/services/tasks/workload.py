"""The team view's numbers: each person's load in a scope of the board
(open, overdue and due this week, counted as the board counts its cards)
beside their book's ARR at risk (as `cs analytics csm-performance` reads it)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, User
from cs_cli.domain import Actor, CsmWorkload
from cs_cli.errors import NotPermitted
from cs_cli.services.metrics.filters import Filters
from cs_cli.services.metrics.performance import csm_performance
from cs_cli.services.tasks.board import BoardFilter, scopes_for, task_conditions
from cs_cli.services.tasks.selection import OPEN


def team_workload(session: Session, actor: Actor, *, scope: str, today: dt.date) -> list[CsmWorkload]:
    """Everyone with open tasks on the board's `scope` or a book in it: their
    open tasks (snoozed ones aside, as on the board), those overdue and those
    due in the next seven days; a CSM's active accounts, ARR and ARR at
    risk or critical on `today`. A CSM sees only themselves; a manager their
    team; an admin everyone. Largest load first."""
    if scope not in scopes_for(actor.role):
        raise NotPermitted(f"the {scope} scope is not open to a {actor.role.value}")
    conds = task_conditions(session, actor, BoardFilter(scope=scope), OPEN, today=today)
    week_end = today + dt.timedelta(days=6)
    work = {
        user_id: (n, overdue, week)
        for user_id, n, overdue, week in session.execute(
            sa.select(
                CSTask.assigned_to_user_id,
                sa.func.count(),
                sa.func.count().filter(CSTask.due_date < today),
                sa.func.count().filter(CSTask.due_date.between(today, week_end)),
            )
            .join(Customer, Customer.id == CSTask.customer_id)
            .where(*conds, CSTask.assigned_to_user_id.is_not(None))
            .group_by(CSTask.assigned_to_user_id)
        ).all()
    }
    # The book on the day, as `cs analytics csm-performance` reports it (one day's period).
    books = {
        p.csm.lower(): p
        for p in csm_performance(session, actor, Filters(scope=scope), start=today, end=today)
    }
    people = session.execute(
        sa.select(User.id, User.email, User.name, User.login).where(
            sa.or_(User.id.in_(list(work)), sa.func.lower(User.email).in_(list(books)))
        )
    ).all()
    out = []
    for user_id, email, name, login in people:
        n, overdue, week = work.get(user_id, (0, 0, 0))
        book = books.get(email.lower())
        out.append(
            CsmWorkload(
                csm=email,
                name=name or email,
                login=login,
                accounts=book.accounts if book else None,
                arr=book.arr if book else None,
                at_risk_arr=book.at_risk_arr if book else None,
                open=n,
                overdue=overdue,
                due_week=week,
            )
        )
    return sorted(out, key=lambda w: (-w.overdue, -w.open, w.name.lower(), w.csm))
