"""journeys: metrics_pending, batches whose ended enrollments the metrics have not counted yet

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cs_journeys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metrics_pending', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('cs_journeys', schema=None) as batch_op:
        batch_op.drop_column('metrics_pending')
