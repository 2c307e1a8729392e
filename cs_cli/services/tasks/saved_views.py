"""Saved views of the board: a user's named sets of board filters (scope
included). Each user sees and changes only their own; saving and deleting
are audited like other writes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import BoardView as ViewRow
from cs_cli.domain import Actor, BoardView
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.audit import audit
from cs_cli.services.tasks.board import BoardFilter

NAME_MAX = 100


def list_views(session: Session, actor: Actor) -> list[BoardView]:
    """The actor's saved views, by name."""
    user_id = _user(actor)
    rows = session.scalars(sa.select(ViewRow).where(ViewRow.user_id == user_id).order_by(ViewRow.name))
    return [_view(r) for r in rows]


def find_view(session: Session, actor: Actor, name: str) -> BoardView:
    """One of the actor's views by name; NotFound names the ones there are."""
    row = _row(session, actor, name)
    if row is None:
        have = session.scalars(
            sa.select(ViewRow.name).where(ViewRow.user_id == _user(actor)).order_by(ViewRow.name).limit(6)
        ).all()
        known = f"yours: {', '.join(have[:5])}{', ...' if len(have) > 5 else ''}" if have else "you have none"
        raise NotFound(f"no saved view '{name}' ({known})")
    return _view(row)


def save_view(session: Session, actor: Actor, name: str, flt: BoardFilter, *, now: dt.datetime) -> BoardView:
    """Save the filters under a name of the actor's, replacing a view of that
    name; audited as `board_view.save`."""
    name = _name(name)
    data = flt.to_json()
    BoardFilter.from_json(data)  # what is saved can be applied
    row = _row(session, actor, name)
    replaced = row is not None
    if row is None:
        row = ViewRow(user_id=_user(actor), name=name, filters=data, created_at=now)
        session.add(row)
    else:
        row.filters = data
        row.updated_at = now
    session.flush()
    audit(
        session,
        actor,
        "board_view.save",
        "board_view",
        row.id,
        at=now,
        details={"name": name, "filters": data, "replaced": replaced},
    )
    return _view(row)


def delete_view(session: Session, actor: Actor, name: str, *, now: dt.datetime) -> BoardView:
    """Delete one of the actor's views; audited as `board_view.delete`."""
    view = find_view(session, actor, name)
    session.execute(sa.delete(ViewRow).where(ViewRow.id == view.id))
    audit(
        session,
        actor,
        "board_view.delete",
        "board_view",
        view.id,
        at=now,
        details={"name": view.name, "filters": view.filters},
    )
    return view


def view_filter(view: BoardView) -> BoardFilter:
    """The board filter a view keeps."""
    return BoardFilter.from_json(view.filters)


def _user(actor: Actor) -> int:
    if actor.user_id is None:
        raise BadInput("saved views belong to a user: set CS_USER (or --user) to your login or email")
    return actor.user_id


def _row(session: Session, actor: Actor, name: str) -> ViewRow | None:
    return session.scalar(
        sa.select(ViewRow).where(ViewRow.user_id == _user(actor), ViewRow.name == " ".join(name.split()))
    )


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise BadInput("a view needs a name")
    if len(name) > NAME_MAX:
        raise BadInput(f"a view's name is at most {NAME_MAX} characters")
    if any(not ch.isprintable() for ch in name):
        raise BadInput("a view's name is printable text")
    return name


def _view(row: ViewRow) -> BoardView:
    data = dict(row.filters or {})
    try:
        words = BoardFilter.from_json(data)
        described = " · ".join([f"scope: {words.scope}", *words.describe()])
        if words.search:
            described += f" · search '{words.search}'"
    except BadInput:
        described = "(filters this cs cannot read)"
    return BoardView(
        id=row.id,
        name=row.name,
        filters=data,
        described=described,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
