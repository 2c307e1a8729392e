"""The task board's reads: its columns a page at a time (a card carries the
customer's health), the scopes a role may switch between, and the users a
task may be given to. Changes go through lifecycle, as from the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.models import (
    CSTask,
    Customer,
    CustomerSegment,
    HealthOverride,
    HealthScore,
    Playbook,
    Segment,
    User,
)
from cs_cli.domain import (
    Actor,
    Assignee,
    BoardCard,
    BoardColumn,
    FilterChoices,
    HealthStatus,
    Priority,
    Role,
    TaskOutcome,
    TaskStatus,
    TaskType,
)
from cs_cli.errors import BadInput, NotFound, NotPermitted
from cs_cli.services.health.overrides import active as active_overrides
from cs_cli.services.tasks.selection import OPEN, TaskFilter, conditions

COLUMNS = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.COMPLETED)
# The completed column shows the work closed in the last week (today included).
RECENT_DAYS = 7
SCOPES = ("mine", "team", "all")
# Counting a column stops here: the header then says "more than".
COUNT_CAP = 10_000
PAGE = 50

_URGENCY = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


def scopes_for(role: Role) -> tuple[str, ...]:
    """The scopes a role may switch between: a CSM their own tasks, a manager
    also their team's, an admin everything."""
    if role == Role.ADMIN:
        return SCOPES
    if role == Role.MANAGER:
        return ("mine", "team")
    return ("mine",)


# The health filter's choices: a status of the customer's current health (an
# override in force wins), or no score at all.
NOT_SCORED = "not_scored"
HEALTH_CHOICES = (
    HealthStatus.HEALTHY.value,
    HealthStatus.AT_RISK.value,
    HealthStatus.CRITICAL.value,
    HealthStatus.ONBOARDING.value,
    HealthStatus.INSUFFICIENT_DATA.value,
    HealthStatus.CHURNED.value,
    NOT_SCORED,
)


def health_words(value: str) -> str:
    """A health filter value as people say it: 'at risk', 'not scored'."""
    return value.replace("_", " ")


def money_words(amount: int) -> str:
    """An ARR bound in few characters: 125000 -> 125k, 2500000 -> 2.5m."""
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if amount >= size and amount % (size // 10) == 0:
            return f"{amount / size:g}{unit}"
    return f"{amount:,}"


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: whose tasks (scope), a search over customer and
    title, the filters of `cs tasks list` (due window, priority, type,
    playbook, snoozed tasks too), and the customer's side: owner, health,
    renewal within days, an ARR band and a segment."""

    scope: str = "mine"
    # Only the tasks assigned to this user (login or email): the team view's pick.
    owner: str | None = None
    search: str = ""
    due: str | None = None
    priority: Priority | None = None
    task_type: TaskType | None = None
    playbook: str | None = None
    include_snoozed: bool = False
    # One of HEALTH_CHOICES.
    health: str | None = None
    # The customer renews today or in the next N days.
    renewal_within: int | None = None
    # The customer's ARR, both bounds included (whole currency units).
    arr_min: int | None = None
    arr_max: int | None = None
    # A segment the customer is in now (by name).
    segment: str | None = None

    def describe(self) -> list[str]:
        """The filters in force, in words (scope and search left out)."""
        words = {"today": "due today", "week": "due this week", "overdue": "overdue"}
        out = []
        if self.owner:
            out.append(f"owner {self.owner}")
        if self.due:
            out.append(words.get(self.due, self.due))
        if self.priority:
            out.append(f"priority {self.priority.value}")
        if self.task_type:
            out.append(f"type {self.task_type.value.replace('_', ' ')}")
        if self.playbook:
            out.append(f"playbook {self.playbook}")
        if self.health:
            out.append(f"health {health_words(self.health)}")
        if self.renewal_within is not None:
            out.append(f"renewing within {self.renewal_within}d")
        if self.arr_min is not None and self.arr_max is not None:
            out.append(f"ARR {money_words(self.arr_min)}-{money_words(self.arr_max)}")
        elif self.arr_min is not None:
            out.append(f"ARR {money_words(self.arr_min)}+")
        elif self.arr_max is not None:
            out.append(f"ARR up to {money_words(self.arr_max)}")
        if self.segment:
            out.append(f"segment {self.segment}")
        if self.include_snoozed:
            out.append("snoozed included")
        return out

    def cleared(self) -> BoardFilter:
        """The same scope and search, without any filter."""
        return BoardFilter(scope=self.scope, search=self.search)

    def to_json(self) -> dict[str, Any]:
        """The filter as JSON (what a saved view keeps): only what is set."""
        out: dict[str, Any] = {}
        default = BoardFilter()
        for name, value in asdict(self).items():
            if value != getattr(default, name):
                out[name] = getattr(value, "value", value)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BoardFilter:
        """A filter from its JSON, checked; unknown keys (a newer cs wrote
        them) are left out."""
        kinds = {f.name: f.type for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in kinds}
        for name, value in values.items():
            want = (bool,) if "bool" in kinds[name] else (int,) if "int" in kinds[name] else (str,)
            if value is not None and (
                not isinstance(value, want) or (want == (int,) and isinstance(value, bool))
            ):
                raise BadInput(f"a saved filter's {name} is not a {want[0].__name__}: {value!r}")
        try:
            if values.get("priority") is not None:
                values["priority"] = Priority(values["priority"])
            if values.get("task_type") is not None:
                values["task_type"] = TaskType(values["task_type"])
        except ValueError as exc:
            raise BadInput(f"a saved filter has {exc}") from None
        flt = cls(**values)
        check_filter(flt)
        return flt


def check_filter(flt: BoardFilter) -> None:
    """Raise BadInput for a filter no board can show."""
    if flt.scope not in SCOPES:
        raise BadInput(f"the scope is one of {', '.join(SCOPES)}, not '{flt.scope}'")
    if flt.health is not None and flt.health not in HEALTH_CHOICES:
        raise BadInput(f"health is one of {', '.join(HEALTH_CHOICES)}, not '{flt.health}'")
    if flt.renewal_within is not None and not 0 <= flt.renewal_within <= 3660:
        raise BadInput("renewal within is a number of days from 0 to 3660")
    for bound in (flt.arr_min, flt.arr_max):
        if bound is not None and bound < 0:
            raise BadInput("an ARR bound must not be negative")
    if flt.arr_min is not None and flt.arr_max is not None and flt.arr_min > flt.arr_max:
        raise BadInput(f"the ARR band is upside down: {flt.arr_min} > {flt.arr_max}")


def board_column(
    session: Session,
    actor: Actor,
    flt: BoardFilter,
    status: TaskStatus,
    *,
    today: dt.date,
    offset: int = 0,
    limit: int = PAGE,
) -> BoardColumn:
    """One page of one column: open columns soonest due first (then most
    urgent), the completed one latest first; with a capped count."""
    if status not in COLUMNS:
        raise BadInput(f"the board has no '{status}' column")
    if offset < 0 or limit <= 0:
        raise BadInput("offset must be >= 0 and limit > 0")
    conds = _conditions(session, actor, flt, status, today=today)
    stmt = card_select(today).where(*conds).order_by(*_order(status)).offset(offset).limit(limit)
    cards = [card_of(r._mapping, today) for r in session.execute(stmt)]
    if len(cards) < limit and (cards or offset == 0):
        return BoardColumn(
            status=status, cards=cards, total=offset + len(cards), total_exact=True, offset=offset
        )
    # At most COUNT_CAP + 1 rows are counted, however large the book.
    matching = (
        sa.select(CSTask.id)
        .join(Customer, Customer.id == CSTask.customer_id)
        .where(*conds)
        .limit(COUNT_CAP + 1)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(matching.subquery())) or 0
    exact = total <= COUNT_CAP
    return BoardColumn(
        status=status, cards=cards, total=total if exact else COUNT_CAP, total_exact=exact, offset=offset
    )


def board(
    session: Session, actor: Actor, flt: BoardFilter, *, today: dt.date, limit: int = PAGE
) -> list[BoardColumn]:
    """The first page of every column."""
    return [board_column(session, actor, flt, status, today=today, limit=limit) for status in COLUMNS]


def assignable_users(session: Session, actor: Actor, task_ids: list[int]) -> list[Assignee]:
    """Active users these tasks may be given to: for an admin anyone; else the
    actor, their team, and the customer's CSM when every task shares one."""
    csms: set[int | None] = set()
    if task_ids and actor.role != Role.ADMIN:
        csms = set(
            session.scalars(
                sa.select(Customer.csm_id)
                .join(CSTask, CSTask.customer_id == Customer.id)
                .where(CSTask.id.in_(task_ids))
                .distinct()
            )
        )
    return assignable_to(session, actor, csms)


def assignable_to(session: Session, actor: Actor, csms: set[int | None]) -> list[Assignee]:
    """Active users work on customers with these CSMs may be given to: for an
    admin anyone; else the actor, their team, and the CSM when there is one."""
    conds: list[sa.ColumnElement[bool]] = [User.is_active.is_(True)]
    if actor.role != Role.ADMIN:
        allowed: list[sa.ColumnElement[bool]] = []
        if actor.user_id is not None:
            allowed.append(User.id == actor.user_id)
        if actor.team_id is not None:
            allowed.append(User.team_id == actor.team_id)
        if len(csms) == 1 and None not in csms:
            allowed.append(User.id == next(iter(csms)))
        if not allowed:
            return []
        conds.append(sa.or_(*allowed))
    rows = session.execute(
        sa.select(User.id, User.name, User.email, User.role).where(*conds).order_by(User.name, User.id)
    )
    return [Assignee(id=r.id, name=r.name, email=r.email, role=Role(r.role)) for r in rows]


def playbook_keys(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(key, name) of every playbook, for the board's playbook filter."""
    rows = session.execute(sa.select(Playbook.key, Playbook.name).order_by(Playbook.name, Playbook.key))
    return [(r.key, r.name) for r in rows]


def filter_choices(session: Session, actor: Actor) -> FilterChoices:
    """What the board's filter form offers: the playbooks, the people whose
    tasks the actor may pick (as for assigning) and the active segments."""
    segments = session.scalars(
        sa.select(Segment.name).where(Segment.is_active.is_(True)).order_by(Segment.name)
    )
    return FilterChoices(
        playbooks=playbook_keys(session, actor),
        owners=[(u.email, u.name) for u in assignable_to(session, actor, set())],
        segments=list(segments),
    )


def board_stamp(session: Session, actor: Actor, flt: BoardFilter, *, today: dt.date) -> tuple:
    """A cheap fingerprint of the cards the board shows under `flt`: for each
    column its count, latest change and newest id, and of the cards'
    customers what the cards show of them (the latest change of the row:
    ARR, renewal; the latest score; the overrides in force and the health
    shown), in one statement. It differs whenever a card is added,
    removed, moved or changed, or its customer's health, ARR or renewal is."""
    conds = task_conditions(session, actor, flt, COLUMNS, today=today, lookups=False)
    since = dt.datetime.combine(today - dt.timedelta(days=RECENT_DAYS - 1), dt.time(), tzinfo=dt.UTC)
    conds.append(sa.or_(CSTask.status != TaskStatus.COMPLETED, CSTask.completed_at >= since))
    override = active_overrides(today)
    rows = session.execute(
        sa.select(
            CSTask.status,
            sa.func.count(),
            sa.func.max(CSTask.updated_at),
            sa.func.max(CSTask.id),
            sa.func.max(Customer.updated_at),
            sa.func.max(HealthScore.calculated_at),
            sa.func.count(override.c.customer_id),
            sa.func.sum(sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)),
        )
        .join(Customer, Customer.id == CSTask.customer_id)
        .outerjoin(HealthScore, HealthScore.customer_id == CSTask.customer_id)
        .outerjoin(override, override.c.customer_id == CSTask.customer_id)
        .where(*conds)
        .group_by(CSTask.status)
    )
    return tuple(sorted((str(r[0]), r[1], str(r[2]), r[3], *(str(v) for v in r[4:])) for r in rows))


def _conditions(
    session: Session, actor: Actor, flt: BoardFilter, status: TaskStatus, *, today: dt.date
) -> list[sa.ColumnElement[bool]]:
    conds = task_conditions(session, actor, flt, (status,), today=today)
    if status == TaskStatus.COMPLETED:
        since = dt.datetime.combine(today - dt.timedelta(days=RECENT_DAYS - 1), dt.time(), tzinfo=dt.UTC)
        conds.append(CSTask.completed_at >= since)
    return conds


def task_conditions(
    session: Session,
    actor: Actor,
    flt: BoardFilter,
    statuses: tuple[TaskStatus, ...],
    *,
    today: dt.date,
    lookups: bool = True,
) -> list[sa.ColumnElement[bool]]:
    """The board's conditions on tasks joined to customers: the scope the
    role allows, the filters and the search, for these statuses (the
    completed column adds its week). The team view counts with them, so its
    numbers are the board's. Named things (owner, playbook, segment) are
    looked up first, so an unknown one is NotFound; without `lookups` they
    are subqueries of the one statement (an unknown one matches nothing)."""
    check_filter(flt)
    if flt.scope not in scopes_for(actor.role):
        raise NotPermitted(f"the {flt.scope} scope is not open to a {actor.role.value}")
    task_filter = TaskFilter(
        mine=flt.scope == "mine",
        assignee=flt.owner if lookups else None,
        statuses=statuses,
        priorities=(flt.priority,) if flt.priority else (),
        types=(flt.task_type,) if flt.task_type else (),
        due=flt.due,
        playbook=flt.playbook if lookups else None,
        include_snoozed=flt.include_snoozed,
    )
    conds = conditions(session, actor, task_filter, today=today)
    if not lookups:
        if flt.owner:
            conds.append(CSTask.assigned_to_user_id == _user_id(flt.owner))
        if flt.playbook:
            conds.append(CSTask.playbook_id == _playbook_id(flt.playbook))
    if flt.scope == "team":
        conds.append(_team(actor))
    conds += _customer_conditions(session, flt, today=today, lookups=lookups)
    words = flt.search.split()
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(
            sa.or_(
                Customer.external_id.ilike(pattern, escape="\\"),
                Customer.name.ilike(pattern, escape="\\"),
                CSTask.title.ilike(pattern, escape="\\"),
            )
        )
    return conds


def _customer_conditions(
    session: Session, flt: BoardFilter, *, today: dt.date, lookups: bool
) -> list[sa.ColumnElement[bool]]:
    """Health, renewal, ARR and segment: conditions on the task's customer,
    as correlated subqueries (no query per card, and none before the one
    statement)."""
    conds: list[sa.ColumnElement[bool]] = []
    if flt.health:
        conds.append(_health_condition(flt.health, today))
    if flt.renewal_within is not None:
        conds.append(Customer.renewal_date.between(today, today + dt.timedelta(days=flt.renewal_within)))
    if flt.arr_min is not None:
        conds.append(Customer.arr >= Decimal(flt.arr_min))
    if flt.arr_max is not None:
        conds.append(Customer.arr <= Decimal(flt.arr_max))
    if flt.segment:
        if lookups:
            segment: sa.ColumnElement | int = _segment(session, flt.segment)
        else:
            segment = sa.select(Segment.id).where(Segment.name == flt.segment).scalar_subquery()
        stay = aliased(CustomerSegment)
        conds.append(
            sa.exists()
            .where(
                stay.customer_id == CSTask.customer_id, stay.segment_id == segment, stay.exited_at.is_(None)
            )
            .correlate(CSTask)
        )
    return conds


def _health_condition(health: str, today: dt.date) -> sa.ColumnElement[bool]:
    """The customer's current health is `health`: an override in force wins
    over the score, as on the card's badge. Aliases correlated to the task
    only: the board's own statement joins the score and the override too."""
    o, hs = aliased(HealthOverride), aliased(HealthScore)

    def exists(*where: sa.ColumnElement[bool]) -> sa.Exists:
        return sa.exists().where(*where).correlate(CSTask)

    in_force = (o.customer_id == CSTask.customer_id, o.cleared_at.is_(None), o.expires_on >= today)
    scored = (hs.customer_id == CSTask.customer_id,)
    if health == NOT_SCORED:
        return sa.and_(~exists(*in_force), ~exists(*scored))
    status = HealthStatus(health)
    return sa.or_(
        exists(*in_force, o.health_status == status),
        sa.and_(~exists(*in_force), exists(*scored, hs.health_status == status)),
    )


def _segment(session: Session, name: str) -> int:
    found = session.scalar(sa.select(Segment.id).where(Segment.name == name))
    if found is None:
        raise NotFound(f"no segment '{name}'", hint="see `cs segments list`")
    return found


def _user_id(ref: str) -> sa.ScalarSelect:
    """The user a login or email names, as find_user finds them."""
    return (
        sa.select(User.id)
        .where(sa.or_(sa.func.lower(User.email) == ref.lower(), User.login == ref))
        .limit(1)
        .scalar_subquery()
    )


def _playbook_id(ref: str) -> sa.ScalarSelect:
    """The playbook a key or name names, as the task filter finds it."""
    return (
        sa.select(Playbook.id)
        .where(sa.or_(Playbook.key == ref, sa.func.lower(Playbook.name) == ref.lower()))
        .order_by(Playbook.id)
        .limit(1)
        .scalar_subquery()
    )


def _team(actor: Actor) -> sa.ColumnElement[bool]:
    """Tasks assigned to the actor or their team, or of customers they or their team own."""
    people: list[sa.ColumnElement[bool]] = []
    owners: list[sa.ColumnElement[bool]] = []
    if actor.user_id is not None:
        people.append(CSTask.assigned_to_user_id == actor.user_id)
        owners.append(Customer.csm_id == actor.user_id)
    if actor.team_id is not None:
        team = sa.select(User.id).where(User.team_id == actor.team_id)
        people.append(CSTask.assigned_to_user_id.in_(team))
        owners.append(Customer.csm_id.in_(team))
    return sa.or_(*people, *owners) if people or owners else sa.false()


def _order(status: TaskStatus) -> list[sa.ColumnElement]:
    if status == TaskStatus.COMPLETED:
        return [CSTask.completed_at.desc().nulls_last(), CSTask.id.desc()]
    urgency = sa.case(*((CSTask.priority == p, rank) for p, rank in _URGENCY.items()), else_=9)
    return [CSTask.due_date.asc().nulls_last(), urgency, CSTask.id]


def card_select(today: dt.date) -> sa.Select:
    """The columns of a card (the task, its customer and the customer's
    health as of `today`, an override in force winning), tasks joined to
    customers; the caller adds the conditions and the order."""
    override = active_overrides(today)
    return (
        sa.select(
            CSTask.id,
            Customer.external_id.label("customer"),
            Customer.name.label("customer_name"),
            CSTask.title,
            CSTask.task_type,
            CSTask.priority,
            CSTask.status,
            CSTask.due_date,
            User.email.label("assignee"),
            Playbook.key.label("playbook"),
            CSTask.blocked_reason,
            CSTask.completed_at,
            CSTask.snoozed_until,
            CSTask.outcome,
            Customer.arr,
            Customer.renewal_date,
            sa.func.coalesce(override.c.overall_score, HealthScore.overall_score).label("health_score"),
            sa.func.coalesce(override.c.health_status, HealthScore.health_status).label("health_status"),
            override.c.customer_id.is_not(None).label("health_overridden"),
        )
        .join(Customer, Customer.id == CSTask.customer_id)
        .outerjoin(User, User.id == CSTask.assigned_to_user_id)
        .outerjoin(Playbook, Playbook.id == CSTask.playbook_id)
        .outerjoin(HealthScore, HealthScore.customer_id == CSTask.customer_id)
        .outerjoin(override, override.c.customer_id == CSTask.customer_id)
    )


CARD_FIELDS = frozenset(BoardCard.__dataclass_fields__) - {"overdue"}


def card_of(mapping: Mapping[str, Any], today: dt.date) -> BoardCard:
    """A card from a row of `card_select` (other columns are left out)."""
    fields = {k: v for k, v in mapping.items() if k in CARD_FIELDS}
    status = TaskStatus(fields["status"])
    health = fields["health_status"]
    snoozed = fields["snoozed_until"]
    fields["snoozed_until"] = snoozed if snoozed is not None and snoozed > today else None
    return BoardCard(
        **{
            **fields,
            "status": status,
            "task_type": TaskType(fields["task_type"]),
            "priority": Priority(fields["priority"]),
            "health_status": HealthStatus(health) if health else None,
            "health_overridden": bool(fields["health_overridden"]),
            "outcome": TaskOutcome(fields["outcome"]) if fields["outcome"] else None,
        },
        overdue=fields["due_date"] is not None and fields["due_date"] < today and status in OPEN,
    )
