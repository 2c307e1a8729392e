"""Alembic environment for cs: one tree for SQLite and Postgres.

cs passes its engine's connection in `config.attributes["connection"]`; the
`alembic` command line works too, from `sqlalchemy.url` or CS_DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context

import cs_cli.db.models  # noqa: F401  (registers every table)
from cs_cli.db.base import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from cs_cli.db.engine import make_engine

    url = os.environ.get("CS_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
