"""customer_history: customer facts with the day they took effect; health statuses onboarding and insufficient_data

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

import cs_cli.db.base
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_OLD = ('healthy', 'at_risk', 'critical', 'churned')
_NEW = (*_OLD, 'onboarding', 'insufficient_data')
_SCORED = ('cs_health_scores', 'cs_health_score_history', 'cs_health_overrides')
_FACTS = ('arr', 'plan', 'seats', 'industry', 'region', 'contract_start', 'renewal_date', 'status',
          'churned_at', 'csm_id', 'attributes')


def _statuses(table: str, values: tuple[str, ...], *, nullable: bool) -> None:
    name = f'ck_{table}_health_status'
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(name), type_='check')
        batch_op.alter_column('health_status', type_=sa.String(length=max(map(len, values))),
                              existing_nullable=nullable)
        listed = ', '.join(f"'{v}'" for v in values)
        batch_op.create_check_constraint(batch_op.f(name), sa.text(f'health_status IN ({listed})'))


def upgrade() -> None:
    op.create_table('customer_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('effective_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arr', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('plan', sa.String(length=100), nullable=True),
    sa.Column('seats', sa.Integer(), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('contract_start', sa.Date(), nullable=True),
    sa.Column('renewal_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('active', 'churned', name='customer_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('churned_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('csm_id', sa.Integer(), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['csm_id'], ['api_users.id'], name=op.f('fk_customer_history_csm_id_api_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_history_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_history'))
    )
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_history_customer_id_effective_at'), ['customer_id', 'effective_at'], unique=False)
    # What each customer looks like now is the one version known so far,
    # in force from the day it was added (docs/health.md: "Upgrading").
    columns = ', '.join(_FACTS)
    op.execute(
        f'INSERT INTO customer_history (customer_id, effective_at, recorded_at, {columns}) '
        f'SELECT id, created_at, COALESCE(updated_at, created_at), {columns} FROM customers ORDER BY id'
    )
    for table in _SCORED:
        _statuses(table, _NEW, nullable=table != 'cs_health_overrides')


def downgrade() -> None:
    # The new statuses have no older word: their rows are scores that were
    # not judged, so they go (a recalculation after the downgrade judges them).
    for table in _SCORED:
        op.execute(f"DELETE FROM {table} WHERE health_status IN ('onboarding', 'insufficient_data')")
        _statuses(table, _OLD, nullable=table != 'cs_health_overrides')
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_history_customer_id_effective_at'))
    op.drop_table('customer_history')
