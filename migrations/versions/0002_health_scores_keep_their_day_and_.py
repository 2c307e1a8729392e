"""health scores keep their day and scorecard

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa
import cs_cli.db.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cs_scorecards',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_cs_scorecards'))
    )
    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('as_of', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('scorecard_version', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.drop_column('scorecard_version')
        batch_op.drop_column('as_of')

    op.drop_table('cs_scorecards')
