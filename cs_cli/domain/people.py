"""Who acts: a user with a role, or the system."""

from __future__ import annotations

from dataclasses import dataclass

from cs_cli.enums import Role


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with a role, or the system (cron)."""

    name: str
    role: Role
    user_id: int | None = None
    team_id: int | None = None
    # Who really acts when they act as this user (an admin's --user, or a
    # database owner's): the audit trail records both.
    impersonated_by: str | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @classmethod
    def system(cls) -> Actor:
        return cls(name="system", role=Role.ADMIN)


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    email: str
    role: Role
    team: str | None
    manager_email: str | None
    is_active: bool
    db_role: str | None = None
