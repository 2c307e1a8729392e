"""outbox: why a held message waits; an index for the email cap

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_SENT_EMAIL = "status = 'sent' AND channel = 'email'"


def upgrade() -> None:
    with op.batch_alter_table('cs_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_reason', sa.String(length=500), nullable=True))
        # The email cap counts a recipient's recent sends.
        batch_op.create_index(batch_op.f('ix_cs_outbox_recipient_sent_at'), ['recipient', 'sent_at'], unique=False, sqlite_where=sa.text(_SENT_EMAIL), postgresql_where=sa.text(_SENT_EMAIL))


def downgrade() -> None:
    with op.batch_alter_table('cs_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_outbox_recipient_sent_at'), sqlite_where=sa.text(_SENT_EMAIL), postgresql_where=sa.text(_SENT_EMAIL))
        batch_op.drop_column('held_reason')
