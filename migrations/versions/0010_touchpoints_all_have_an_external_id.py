"""every touchpoint has an external id: those made in cs get "cs-" and their id

Touchpoints logged in cs (or made from tasks) had none, so an export of them
could not be imported back. New ones get "cs-" and random hex on insert (a
column default in the model); this gives the existing ones an id of their own.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE cs_touchpoints SET external_id = 'cs-' || CAST(id AS VARCHAR(20)) WHERE external_id IS NULL"
    )


def downgrade() -> None:
    # The ids given here are indistinguishable from those a later insert
    # gave; both stay (an id is harmless to the older schema).
    pass
