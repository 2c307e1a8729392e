"""cs_prediction_models: trained churn models with their features, metrics and library versions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa
import cs_cli.db.base
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cs_prediction_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=20), nullable=False),
    sa.Column('algorithm', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('every_days', sa.Integer(), nullable=False),
    sa.Column('trained_from', sa.Date(), nullable=True),
    sa.Column('trained_to', sa.Date(), nullable=True),
    sa.Column('observations', sa.Integer(), nullable=False),
    sa.Column('positives', sa.Integer(), nullable=False),
    sa.Column('scorecard_version', sa.String(length=64), nullable=True),
    sa.Column('schema_revision', sa.String(length=20), nullable=False),
    sa.Column('features', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('metrics', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('versions', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_prediction_models'))
    )
    with op.batch_alter_table('cs_prediction_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_prediction_models_target'), ['target'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))



def downgrade() -> None:
    with op.batch_alter_table('cs_prediction_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_prediction_models_target'), sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.drop_table('cs_prediction_models')
