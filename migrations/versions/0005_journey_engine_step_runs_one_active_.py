"""journey engine: step runs, one active enrollment, event cursors; one open alert per condition

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
import cs_cli.db.base
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cs_event_cursors',
    sa.Column('consumer', sa.String(length=200), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_acted_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acted_count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', name=op.f('pk_cs_event_cursors'))
    )
    op.create_table('cs_journey_step_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('step_key', sa.String(length=100), nullable=False),
    sa.Column('visit', sa.Integer(), nullable=False),
    sa.Column('executed_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=50), nullable=False),
    sa.Column('detail', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['enrollment_id'], ['cs_journey_enrollments.id'], name=op.f('fk_cs_journey_step_runs_enrollment_id_cs_journey_enrollments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['step_id'], ['cs_journey_steps.id'], name=op.f('fk_cs_journey_step_runs_step_id_cs_journey_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_journey_step_runs')),
    sa.UniqueConstraint('enrollment_id', 'step_key', 'visit', name=op.f('uq_cs_journey_step_runs_enrollment_id_step_key_visit'))
    )
    with op.batch_alter_table('cs_journey_step_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_journey_step_runs_step_id'), ['step_id'], unique=False)

    # Alerts raised before there was one open alert per condition: keep the
    # newest open one of each, resolve the others, so the index can be made.
    op.execute(
        "UPDATE cs_alerts SET status = 'resolved' WHERE status != 'resolved' AND EXISTS ("
        " SELECT 1 FROM cs_alerts AS newer WHERE newer.customer_id = cs_alerts.customer_id"
        " AND newer.alert_type = cs_alerts.alert_type AND newer.status != 'resolved'"
        " AND newer.id > cs_alerts.id)"
    )
    with op.batch_alter_table('cs_alerts', schema=None) as batch_op:
        batch_op.create_index('uq_cs_alerts_one_open', ['customer_id', 'alert_type'], unique=True, sqlite_where=sa.text("status != 'resolved'"), postgresql_where=sa.text("status != 'resolved'"))

    with op.batch_alter_table('cs_journey_enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step_entered_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('uq_cs_journey_enrollments_one_active', ['journey_id', 'customer_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))



def downgrade() -> None:
    with op.batch_alter_table('cs_journey_enrollments', schema=None) as batch_op:
        batch_op.drop_index('uq_cs_journey_enrollments_one_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_column('step_entered_at')

    with op.batch_alter_table('cs_alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_cs_alerts_one_open', sqlite_where=sa.text("status != 'resolved'"), postgresql_where=sa.text("status != 'resolved'"))

    with op.batch_alter_table('cs_journey_step_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_journey_step_runs_step_id'))

    op.drop_table('cs_journey_step_runs')
    op.drop_table('cs_event_cursors')
