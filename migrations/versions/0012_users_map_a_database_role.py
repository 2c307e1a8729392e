"""users map a database role; audit entries say who impersonated whom

On PostgreSQL a cs user may be the user of one database login role
(api_users.db_role): connecting as that role is being that user. An entry
of the audit log made while someone acted as another user (--user,
CS_USER) names the one who really acted (impersonated_by).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("db_role", sa.String(length=63), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_api_users_db_role"), ["db_role"])
    if op.get_bind().dialect.name == "postgresql":
        # Not batch mode: that would copy the table, and the log's trigger
        # refuses the DELETE of its rows.
        op.add_column("cs_audit_log", sa.Column("impersonated_by", sa.String(length=200), nullable=True))
    else:
        with op.batch_alter_table("cs_audit_log", schema=None) as batch_op:
            batch_op.add_column(sa.Column("impersonated_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("cs_audit_log", "impersonated_by")
    else:
        with op.batch_alter_table("cs_audit_log", schema=None) as batch_op:
            batch_op.drop_column("impersonated_by")
    with op.batch_alter_table("api_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_api_users_db_role"), type_="unique")
        batch_op.drop_column("db_role")
