"""Teams, the people who work the book (the plan's `api_users`) and the
views of the board they save."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, CreatedAt, Timestamps, enum_column
from cs_cli.enums import NotifyPreference, Role


class Team(CreatedAt, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)


class User(Timestamps, Base):
    __tablename__ = "api_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    # The login name that CS_USER (or the operating system) names.
    login: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    # PostgreSQL: the database login role whose connections are this user
    # (docs/security.md, "Identity").
    db_role: Mapped[str | None] = mapped_column(sa.String(63), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), default=Role.CSM)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)
    notify_preference: Mapped[NotifyPreference] = mapped_column(
        enum_column(NotifyPreference, "notify_preference"), default=NotifyPreference.IMMEDIATE
    )
    timezone: Mapped[str | None] = mapped_column(sa.String(64))


class BoardView(Timestamps, Base):
    """A view of the board a user saved: a name and the board's filters
    (scope included) as JSON."""

    __tablename__ = "board_views"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("api_users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
