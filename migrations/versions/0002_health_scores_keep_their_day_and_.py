"""health scores keep their day and scorecard; overrides

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
    op.create_table('cs_health_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('overall_score', sa.SmallInteger(), nullable=False),
    sa.Column('health_status', sa.Enum('healthy', 'at_risk', 'critical', 'churned', name='health_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('set_by_user_id', sa.Integer(), nullable=True),
    sa.Column('set_by', sa.String(length=200), nullable=False),
    sa.Column('cleared_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_health_overrides_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['api_users.id'], name=op.f('fk_cs_health_overrides_set_by_user_id_api_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_health_overrides'))
    )
    with op.batch_alter_table('cs_health_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_health_overrides_customer_id_cleared_at'), ['customer_id', 'cleared_at'], unique=False)

    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('as_of', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('scorecard_version', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.drop_column('scorecard_version')
        batch_op.drop_column('as_of')

    with op.batch_alter_table('cs_health_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_health_overrides_customer_id_cleared_at'))

    op.drop_table('cs_health_overrides')
    op.drop_table('cs_scorecards')
