"""What a worker says when the database says no: one line, never a traceback."""

from __future__ import annotations


def one_line(exc: BaseException) -> str | None:
    """The message to show for an error a user can meet (refused change,
    bad input, database gone); None for anything else (a bug: let it raise)."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from cs_cli.errors import CsError

    if isinstance(exc, CsError):
        return exc.message
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        return f"database error: {lines[0] if lines else type(exc.orig).__name__}"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {type(exc).__name__}"
    return None
