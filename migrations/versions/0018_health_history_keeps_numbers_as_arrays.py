"""health history keeps its raw measures and signals as arrays of numbers

A history row explained its score with a JSON object of every raw measure,
the signals behind the multipliers and the base score. Building that object
for each of a book's customers every day cost a third of scoring the day on
PostgreSQL (each number converted for JSONB), and reading it back for a
backtest took longer than the query around it. New rows keep the numbers in
two float8[] columns (JSON arrays on SQLite) in the scorecard version's
order, and `measures` holds only text raw values; rows written before keep
their JSON, which the readers still understand.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _array():
    return sa.JSON(none_as_null=True).with_variant(postgresql.ARRAY(postgresql.DOUBLE_PRECISION), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("cs_health_score_history") as batch:
        batch.add_column(sa.Column("raw_values", _array(), nullable=True))
        batch.add_column(sa.Column("signal_values", _array(), nullable=True))


def downgrade() -> None:
    # Rows written since keep their numbers only in the arrays: put them back
    # into the JSON the older code reads, one statement per scorecard version
    # (the order of a row's raw values is its version's), then drop them.
    from cs_cli.services.health.scoring import SIGNAL_VALUES, measure_names
    from cs_cli.specs.scorecard import scorecard_from_text

    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    history = sa.table(
        "cs_health_score_history",
        sa.column("scorecard_version"),
        sa.column("raw_values", _array()),
        sa.column("signal_values", _array()),
        sa.column("measures", sa.JSON()),
    )
    versions = sa.table("cs_scorecards", sa.column("version"), sa.column("content"))
    build = sa.func.jsonb_build_object if pg else sa.func.json_object

    def item(column, index: int):
        if pg:
            return sa.type_coerce(column, postgresql.ARRAY(postgresql.DOUBLE_PRECISION))[index + 1]
        return sa.func.json_extract(column, f"$[{index}]")

    def pairs(names, column):
        return [part for i, name in enumerate(names) for part in (sa.literal(name), item(column, i))]

    used = bind.execute(
        sa.select(versions.c.version, versions.c.content).where(
            versions.c.version.in_(
                sa.select(history.c.scorecard_version).where(history.c.raw_values.is_not(None)).distinct()
            )
        )
    ).all()
    for version, content in used:
        names = measure_names(scorecard_from_text(content))
        raw = build(*pairs(names, history.c.raw_values))
        texts = history.c.measures
        if pg:
            texts = sa.func.coalesce(sa.type_coerce(history.c.measures, postgresql.JSONB).op("->")("raw"), sa.text("'{}'::jsonb"))
            raw = raw.op("||")(texts)
        else:
            raw = sa.func.json_patch(raw, sa.func.coalesce(sa.func.json_extract(history.c.measures, "$.raw"), "{}"))
        signals = build(*pairs(SIGNAL_VALUES[:-1], history.c.signal_values))
        kept = build(
            sa.literal("raw"),
            raw,
            sa.literal("signals"),
            signals,
            sa.literal("base"),
            item(history.c.signal_values, len(SIGNAL_VALUES) - 1),
        )
        bind.execute(
            history.update()
            .where(history.c.scorecard_version == version, history.c.raw_values.is_not(None))
            .values(measures=kept)
        )
    with op.batch_alter_table("cs_health_score_history") as batch:
        batch.drop_column("signal_values")
        batch.drop_column("raw_values")
