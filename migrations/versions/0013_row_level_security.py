"""row-level security on PostgreSQL: a connection sees the customers its
user may see, and only their rows in every customer-scoped table

The user is the one mapped to the connecting role (api_users.db_role, see
0012). The database's owner (and members of its role) and admins see
everything; a manager their team's customers and their own; a CSM their
own. FORCE: the owner's own connections go through the policies too (they
pass them). The audit log is read by those who see everything; anyone may
add to it. Nothing on SQLite (one person's file).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Every table with a customer_id, but the audit log (its own policies).
SCOPED = (
    "usage_events",
    "contacts",
    "cs_alerts",
    "cs_customer_segments",
    "cs_domain_events",
    "cs_health_overrides",
    "cs_health_score_history",
    "cs_health_scores",
    "cs_playbook_runs",
    "customer_history",
    "invoices",
    "cs_journey_enrollments",
    "cs_outbox",
    "nps_responses",
    "support_tickets",
    "cs_tasks",
    "cs_touchpoints",
)
# Those whose customer_id may be empty (a message or event about no one):
# seen by all.
NULLABLE = ("cs_domain_events", "cs_outbox")

FUNCTIONS = """
CREATE FUNCTION cs_sees_all() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_roles r, pg_database d
        WHERE r.rolname = session_user AND d.datname = current_database()
          AND (r.rolsuper OR pg_has_role(session_user, d.datdba, 'MEMBER')))
    OR EXISTS (
        SELECT 1 FROM api_users
        WHERE db_role = session_user AND is_active AND role = 'admin')
$$;
CREATE FUNCTION cs_me() RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
    SELECT id FROM api_users WHERE db_role = session_user AND is_active
$$;
CREATE FUNCTION cs_my_team() RETURNS SETOF integer LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
    SELECT u.id FROM api_users me JOIN api_users u ON u.team_id = me.team_id
    WHERE me.db_role = session_user AND me.is_active AND me.role = 'manager'
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTIONS)
    # (SELECT f()): evaluated once a statement, not once a row.
    op.execute(
        "ALTER TABLE customers ENABLE ROW LEVEL SECURITY; ALTER TABLE customers FORCE ROW LEVEL SECURITY;"
        " CREATE POLICY cs_scope ON customers USING ((SELECT cs_sees_all())"
        " OR csm_id = (SELECT cs_me()) OR csm_id IN (SELECT cs_my_team()))"
    )
    for table in SCOPED:
        # The customers a policy may name are those the customers policy lets through.
        seen = "customer_id IN (SELECT id FROM customers)"
        if table in NULLABLE:
            seen = f"customer_id IS NULL OR {seen}"
        op.execute(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW LEVEL SECURITY;"
            f" CREATE POLICY cs_scope ON {table} USING ((SELECT cs_sees_all()) OR {seen})"
        )
    op.execute(
        "ALTER TABLE cs_audit_log ENABLE ROW LEVEL SECURITY; ALTER TABLE cs_audit_log FORCE ROW LEVEL SECURITY;"
        " CREATE POLICY cs_read ON cs_audit_log FOR SELECT USING ((SELECT cs_sees_all()));"
        " CREATE POLICY cs_append ON cs_audit_log FOR INSERT WITH CHECK (true)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP POLICY cs_read ON cs_audit_log; DROP POLICY cs_append ON cs_audit_log;"
        " ALTER TABLE cs_audit_log NO FORCE ROW LEVEL SECURITY; ALTER TABLE cs_audit_log DISABLE ROW LEVEL SECURITY"
    )
    for table in (*SCOPED, "customers"):
        op.execute(
            f"DROP POLICY cs_scope ON {table}; ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;"
            f" ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"
        )
    op.execute("DROP FUNCTION cs_my_team(); DROP FUNCTION cs_me(); DROP FUNCTION cs_sees_all()")
