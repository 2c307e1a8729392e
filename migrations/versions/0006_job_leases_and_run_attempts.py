"""job leases: who runs a job now; attempts of a run

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
import cs_cli.db.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cs_job_leases',
    sa.Column('job', sa.String(length=50), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_cs_job_leases'))
    )
    with op.batch_alter_table('cs_job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('cs_job_runs', schema=None) as batch_op:
        batch_op.drop_column('attempts')

    op.drop_table('cs_job_leases')
