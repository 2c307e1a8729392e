"""usage events are found by time: by customer and time, and by time alone

A recalculation read every event twice: a scan for the days it scores and a
GROUP BY over all of history for each customer's first event. The customer
index gains the time (a customer's first and last events are one probe
each), and the time gets an index of its own: a BRIN on PostgreSQL, where
events arrive in time order and a window then reads only its own pages (a
few kilobytes of index, next to nothing per insert); a B-tree on SQLite,
which has no BRIN.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_usage_events_customer_id_occurred_at", "usage_events", ["customer_id", "occurred_at"]
    )
    op.drop_index("ix_usage_events_customer_id", table_name="usage_events")
    op.create_index(
        "ix_usage_events_occurred_at", "usage_events", ["occurred_at"], postgresql_using="brin"
    )


def downgrade() -> None:
    op.drop_index("ix_usage_events_occurred_at", table_name="usage_events")
    op.create_index("ix_usage_events_customer_id", "usage_events", ["customer_id"])
    op.drop_index("ix_usage_events_customer_id_occurred_at", table_name="usage_events")
