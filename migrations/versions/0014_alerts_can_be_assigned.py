"""alerts can be assigned: cs_alerts.assigned_to_user_id

The board assigns an alert to the person who is to act on it (a teammate,
the customer's CSM); nobody named until then.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cs_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cs_alerts_assigned_to_user_id_api_users"),
            "api_users",
            ["assigned_to_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("cs_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cs_alerts_assigned_to_user_id_api_users"), type_="foreignkey")
        batch_op.drop_column("assigned_to_user_id")
