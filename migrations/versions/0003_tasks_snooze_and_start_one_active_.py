"""tasks snooze and start; one active playbook run; one open segment stay; playbook event cursor; indexes for bulk deletes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
import cs_cli.db.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cs_customer_segments', schema=None) as batch_op:
        batch_op.create_index('uq_cs_customer_segments_one_open', ['segment_id', 'customer_id'], unique=True, sqlite_where=sa.text('exited_at IS NULL'), postgresql_where=sa.text('exited_at IS NULL'))

    with op.batch_alter_table('cs_playbook_runs', schema=None) as batch_op:
        batch_op.create_index('uq_cs_playbook_runs_one_active', ['playbook_id', 'customer_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    with op.batch_alter_table('cs_playbooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_cursor', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('cs_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('started_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True))

    # Foreign keys whose referenced rows get deleted in bulk (retention,
    # customer deletion) need an index, or each delete scans the table.
    with op.batch_alter_table('cs_touchpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_touchpoints_task_id'), ['task_id'], unique=False)

    with op.batch_alter_table('cs_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_audit_log_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('cs_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_outbox_customer_id'), ['customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cs_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_outbox_customer_id'))

    with op.batch_alter_table('cs_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_audit_log_customer_id'))

    with op.batch_alter_table('cs_touchpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_touchpoints_task_id'))

    with op.batch_alter_table('cs_tasks', schema=None) as batch_op:
        batch_op.drop_column('started_at')
        batch_op.drop_column('snoozed_until')

    with op.batch_alter_table('cs_playbooks', schema=None) as batch_op:
        batch_op.drop_column('event_cursor')

    with op.batch_alter_table('cs_playbook_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_cs_playbook_runs_one_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    with op.batch_alter_table('cs_customer_segments', schema=None) as batch_op:
        batch_op.drop_index('uq_cs_customer_segments_one_open', sqlite_where=sa.text('exited_at IS NULL'), postgresql_where=sa.text('exited_at IS NULL'))

