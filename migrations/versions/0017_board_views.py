"""board views: the filters of the board a user saves under a name

`cs board` applies one with `v` or `--view NAME`; `cs board views` lists and
deletes them. A view is its user's: unique by (user, name), gone with the
user. On PostgreSQL a runtime role sees and writes only its own user's
views (row-level security on user_id, as 0013 does on customer_id; those
who see everything see them all), and the roles already mapped to users
(`cs users grant-db`) are granted the table and its sequence: their default
privileges cover only the tables made by the role that granted them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import cs_cli.db.base

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

GRANTS = """
DO $$
DECLARE r text;
BEGIN
    FOR r IN SELECT u.db_role FROM api_users u JOIN pg_roles p ON p.rolname = u.db_role LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON board_views TO %I', r);
        EXECUTE format('GRANT USAGE, SELECT, UPDATE ON SEQUENCE board_views_id_seq TO %I', r);
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "board_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "filters",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("updated_at", cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["api_users.id"], name=op.f("fk_board_views_user_id_api_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_views")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_board_views_user_id_name")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE board_views ENABLE ROW LEVEL SECURITY;"
            " ALTER TABLE board_views FORCE ROW LEVEL SECURITY;"
            " CREATE POLICY cs_own ON board_views USING ((SELECT cs_sees_all())"
            " OR user_id = (SELECT cs_me()))"
        )
        op.execute(GRANTS)


def downgrade() -> None:
    # The table goes, and its policy and grants with it.
    op.drop_table("board_views")
