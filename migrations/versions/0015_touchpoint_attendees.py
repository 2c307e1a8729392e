"""touchpoint attendees: the customer's people who took part in a touchpoint

A meeting has several; the board's log form records them. The touchpoint's
contact_id stays the first of them, so what reads it reads the same. On
PostgreSQL the rows are seen with their touchpoint (row-level security, as
0013 does for the tables with a customer_id).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cs_touchpoint_attendees",
        sa.Column("touchpoint_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_cs_touchpoint_attendees_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["touchpoint_id"],
            ["cs_touchpoints.id"],
            name=op.f("fk_cs_touchpoint_attendees_touchpoint_id_cs_touchpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("touchpoint_id", "contact_id", name=op.f("pk_cs_touchpoint_attendees")),
    )
    with op.batch_alter_table("cs_touchpoint_attendees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cs_touchpoint_attendees_contact_id"), ["contact_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # The touchpoints a policy may name are those the touchpoints policy lets through.
        op.execute(
            "ALTER TABLE cs_touchpoint_attendees ENABLE ROW LEVEL SECURITY;"
            " ALTER TABLE cs_touchpoint_attendees FORCE ROW LEVEL SECURITY;"
            " CREATE POLICY cs_scope ON cs_touchpoint_attendees USING ((SELECT cs_sees_all())"
            " OR touchpoint_id IN (SELECT id FROM cs_touchpoints))"
        )


def downgrade() -> None:
    # The table goes, and its policy with it.
    with op.batch_alter_table("cs_touchpoint_attendees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cs_touchpoint_attendees_contact_id"))
    op.drop_table("cs_touchpoint_attendees")
