"""What every command needs: settings, an engine, one session, the actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cs_cli.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from cs_cli.domain import Actor


@dataclass
class State:
    """Global options of this invocation, set by the root callback."""

    flags: dict[str, Any] = field(default_factory=dict)
    debug: bool = False
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.flags)
        return self._settings


STATE = State()
# The command line being run (`cs tasks complete 12`), for the audit trail.
COMMAND_LINE: str | None = None


def reset(flags: dict[str, Any], debug: bool) -> None:
    global STATE
    STATE = State(flags=flags, debug=debug)


_gc_deferred = False


def collect_garbage_later() -> None:
    """The process entry point has turned garbage collection off for start-up;
    `engine()` turns it back on."""
    global _gc_deferred
    _gc_deferred = True


def _collect_garbage_from_here() -> None:
    global _gc_deferred
    if _gc_deferred:
        import gc

        # What start-up built lives until exit: keep it out of every collection.
        gc.freeze()
        gc.enable()
        _gc_deferred = False


def engine(*, create_if_empty: bool = True, any_empty_database: bool = False) -> Engine:
    """A connected engine whose schema is current.

    The embedded default database is created on first use; any other database
    must be created with `cs db upgrade` (or a command that says it may set up
    an empty database, like `cs demo`).
    """
    from cs_cli.db import migrate
    from cs_cli.db.engine import check_connection, make_engine

    _collect_garbage_from_here()

    settings = STATE.settings()
    eng = make_engine(settings.database_url)
    check_connection(eng)
    allowed = settings.is_default_database or any_empty_database
    migrate.ensure_schema(eng, create_if_empty=create_if_empty and allowed)
    return eng


def resolve(session: Session) -> Actor:
    """Who is acting, from the settings' user (see access.resolve_actor)."""
    from cs_cli.services.access import resolve_actor

    settings = STATE.settings()
    return resolve_actor(session, settings.user, given=settings.user_given)


@contextmanager
def session(
    *, create_if_empty: bool = True, any_empty_database: bool = False
) -> Iterator[tuple[Session, Actor]]:
    """One session for the whole command, committed once if it succeeds."""
    from cs_cli.db.engine import transaction
    from cs_cli.services.audit import COMMAND

    COMMAND.set(COMMAND_LINE)
    eng = engine(create_if_empty=create_if_empty, any_empty_database=any_empty_database)
    try:
        with transaction(eng) as sess:
            actor = resolve(sess)
            yield sess, actor
    finally:
        eng.dispose()
