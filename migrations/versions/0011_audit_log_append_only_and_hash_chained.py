"""audit log: append-only and hash-chained, with the command that made each entry

Each entry gets a number (seq), the hash of the entry before it and its own
(services/audit.py), and the command line; cs_audit_head keeps the end of
the chain. Existing entries are chained in id order. The log loses its
foreign keys (a deleted user or customer would rewrite entries through
ON DELETE SET NULL). On PostgreSQL a trigger refuses UPDATE, DELETE and
TRUNCATE of the log.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

REFUSE = """
CREATE FUNCTION cs_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "cs_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cs_audit_head")),
    )
    with op.batch_alter_table("cs_audit_log", schema=None) as batch_op:
        batch_op.drop_constraint("fk_cs_audit_log_actor_user_id_api_users", type_="foreignkey")
        batch_op.drop_constraint("fk_cs_audit_log_customer_id_customers", type_="foreignkey")
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("command", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_cs_audit_log_seq"), ["seq"])
    _chain_existing()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE)
        op.execute(
            "CREATE TRIGGER cs_audit_log_no_change BEFORE UPDATE OR DELETE ON cs_audit_log"
            " FOR EACH ROW EXECUTE FUNCTION cs_audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER cs_audit_log_no_truncate BEFORE TRUNCATE ON cs_audit_log"
            " FOR EACH STATEMENT EXECUTE FUNCTION cs_audit_log_append_only()"
        )


def _chain_existing() -> None:
    """Number and hash the entries already there, oldest first, in batches."""
    from cs_cli.services.audit import GENESIS, HASHED, entry_hash

    bind = op.get_bind()
    log = sa.table(
        "cs_audit_log",
        sa.column("id"),
        sa.column("seq"),
        sa.column("prev_hash"),
        sa.column("hash"),
        *(sa.column(name) for name in HASHED if name != "seq"),
    )
    from cs_cli.db.base import JSONType, UTCDateTime

    log.c.details.type = JSONType
    log.c.occurred_at.type = UTCDateTime()
    seq, last, after = 0, GENESIS, 0
    while True:
        rows = bind.execute(
            sa.select(log.c.id, *(log.c[n] for n in HASHED if n != "seq"))
            .where(log.c.id > after)
            .order_by(log.c.id)
            .limit(5000)
        ).all()
        if not rows:
            break
        for row in rows:
            seq += 1
            entry = {**row._asdict(), "seq": seq, "prev_hash": last}
            last = entry_hash(entry)
            bind.execute(
                sa.update(log).where(log.c.id == row.id).values(seq=seq, prev_hash=entry["prev_hash"], hash=last)
            )
        after = rows[-1].id
    bind.execute(sa.text("INSERT INTO cs_audit_head (id, seq, last_hash) VALUES (1, :seq, :last)"), {"seq": seq, "last": last})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER cs_audit_log_no_truncate ON cs_audit_log")
        op.execute("DROP TRIGGER cs_audit_log_no_change ON cs_audit_log")
        op.execute("DROP FUNCTION cs_audit_log_append_only()")
    with op.batch_alter_table("cs_audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cs_audit_log_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("command")
        batch_op.drop_column("seq")
    # Entries naming users or customers deleted since keep their ids; the
    # foreign keys come back only where every id still exists.
    op.execute(
        "UPDATE cs_audit_log SET actor_user_id = NULL"
        " WHERE actor_user_id IS NOT NULL AND actor_user_id NOT IN (SELECT id FROM api_users)"
    )
    op.execute(
        "UPDATE cs_audit_log SET customer_id = NULL"
        " WHERE customer_id IS NOT NULL AND customer_id NOT IN (SELECT id FROM customers)"
    )
    with op.batch_alter_table("cs_audit_log", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_cs_audit_log_actor_user_id_api_users", "api_users", ["actor_user_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            "fk_cs_audit_log_customer_id_customers", "customers", ["customer_id"], ["id"], ondelete="SET NULL"
        )
    op.drop_table("cs_audit_head")
