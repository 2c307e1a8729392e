"""The board's way to the database: each call opens one transaction, acts
as the board's user, runs one service function and commits. Calls run on
worker threads (never on the UI thread); services return frozen
dataclasses, safe to hand back to the UI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from cs_cli.domain import Actor

T = TypeVar("T")


class Database:
    def __init__(
        self, engine: Engine, user: str, *, as_of: dt.date | None = None, user_given: bool = True
    ) -> None:
        self.engine = engine
        self.user = user
        # Named by the user, not their login name (see access.resolve_actor).
        self.user_given = user_given
        # A fixed day for replays and tests; None: today, asked at each call.
        self.fixed_day = as_of
        self._actor: Actor | None = None

    def today(self) -> dt.date:
        return self.fixed_day or dt.datetime.now(dt.UTC).date()

    def now(self) -> dt.datetime:
        if self.fixed_day is None:
            return dt.datetime.now(dt.UTC)
        return dt.datetime.combine(self.fixed_day, dt.time(12), tzinfo=dt.UTC)

    @property
    def actor(self) -> Actor:
        """Who the board acts as (resolved by `connect`)."""
        assert self._actor is not None, "connect() first"
        return self._actor

    def connect(self) -> Actor:
        """Check the database answers and resolve the user; raises CsError."""
        from cs_cli.db.engine import check_connection, transaction
        from cs_cli.services.access import resolve_actor

        check_connection(self.engine)
        with transaction(self.engine) as session:
            self._actor = resolve_actor(session, self.user, given=self.user_given)
        return self._actor

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """fn(session, actor, *args, **kwargs) in its own transaction."""
        from cs_cli.db.engine import transaction

        with transaction(self.engine) as session:
            return fn(session, self.actor, *args, **kwargs)
