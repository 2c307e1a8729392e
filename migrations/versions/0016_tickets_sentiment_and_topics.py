"""support tickets carry their text, sentiment and key topics, as touchpoints
do; both say who set their sentiment

A ticket had only a subject. It gets the customer's description, and the
columns cs fills by reading the text offline (docs/text.md): a score in
-1..1 (NULL when the text is empty or not English), a label, and its key
topics. `sentiment_source` tells a label given by the source system or the
person who logged it ("given", kept by `cs touchpoints analyze` unless
--overwrite) from one cs read ("cs"); the labels already stored were given.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _source() -> sa.Column:
    return sa.Column(
        "sentiment_source",
        sa.Enum("given", "cs", name="sentiment_source", native_enum=False, create_constraint=True),
        nullable=True,
    )


def upgrade() -> None:
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sentiment_score", sa.Double(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "sentiment_label",
                sa.Enum(
                    "positive",
                    "neutral",
                    "negative",
                    name="sentiment_label",
                    native_enum=False,
                    create_constraint=True,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(_source())
        batch_op.add_column(
            sa.Column(
                "key_topics",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    with op.batch_alter_table("cs_touchpoints", schema=None) as batch_op:
        batch_op.add_column(_source())
    op.execute(
        "UPDATE cs_touchpoints SET sentiment_source = 'given'"
        " WHERE sentiment_label IS NOT NULL OR sentiment_score IS NOT NULL"
    )


def downgrade() -> None:
    # SQLite rebuilds the table: an enum's CHECK must go before its column.
    with op.batch_alter_table("cs_touchpoints", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_cs_touchpoints_sentiment_source"), type_="check")
        batch_op.drop_column("sentiment_source")
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.drop_column("key_topics")
        batch_op.drop_constraint(batch_op.f("ck_support_tickets_sentiment_source"), type_="check")
        batch_op.drop_column("sentiment_source")
        batch_op.drop_constraint(batch_op.f("ck_support_tickets_sentiment_label"), type_="check")
        batch_op.drop_column("sentiment_label")
        batch_op.drop_column("sentiment_score")
        batch_op.drop_column("description")
