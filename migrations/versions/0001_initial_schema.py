"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa
import cs_cli.db.base
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cs_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_imports'))
    )
    with op.batch_alter_table('cs_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_imports_entity_file_sha256'), ['entity', 'file_sha256'], unique=False)

    op.create_table('cs_job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=50), nullable=False),
    sa.Column('slot', sa.String(length=50), nullable=False),
    sa.Column('status', sa.Enum('running', 'succeeded', 'failed', 'skipped', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('started_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('host', sa.String(length=200), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_job_runs')),
    sa.UniqueConstraint('job', 'slot', name=op.f('uq_cs_job_runs_job_slot'))
    )
    with op.batch_alter_table('cs_job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_job_runs_job_started_at'), ['job', 'started_at'], unique=False)

    op.create_table('cs_journeys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('journey_type', sa.Enum('onboarding', 'adoption', 'renewal', 'expansion', 'risk_mitigation', 'advocacy', 'win_back', 'custom', name='journey_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('trigger_type', sa.Enum('manual', 'segment_entry', 'event', 'scheduled', name='trigger_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('trigger_config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('allow_re_enrollment', sa.Boolean(), nullable=False),
    sa.Column('max_concurrent_enrollments', sa.Integer(), nullable=True),
    sa.Column('duration_days', sa.Integer(), nullable=True),
    sa.Column('goal', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('total_enrolled', sa.Integer(), nullable=False),
    sa.Column('total_completed', sa.Integer(), nullable=False),
    sa.Column('avg_completion_days', sa.Double(), nullable=True),
    sa.Column('success_rate', sa.Double(), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_journeys')),
    sa.UniqueConstraint('key', name=op.f('uq_cs_journeys_key'))
    )
    op.create_table('cs_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('segment_type', sa.Enum('static', 'dynamic', 'ai_generated', name='segment_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rules', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('ai_confidence', sa.Double(), nullable=True),
    sa.Column('ai_reasoning', sa.Text(), nullable=True),
    sa.Column('customer_count', sa.Integer(), nullable=False),
    sa.Column('total_arr', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('avg_health_score', sa.Double(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('refreshed_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_segments')),
    sa.UniqueConstraint('name', name=op.f('uq_cs_segments_name'))
    )
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('usage_events',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('event_name', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False)
    )
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_events_customer_id'), ['customer_id'], unique=False)

    op.create_table('api_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('login', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('csm', 'manager', 'admin', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('notify_preference', sa.Enum('immediate', 'daily_digest', 'none', name='notify_preference', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['api_users.id'], name=op.f('fk_api_users_manager_id_api_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_api_users_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_users')),
    sa.UniqueConstraint('email', name=op.f('uq_api_users_email')),
    sa.UniqueConstraint('login', name=op.f('uq_api_users_login'))
    )
    with op.batch_alter_table('api_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_users_team_id'), ['team_id'], unique=False)

    op.create_table('cs_journey_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('step_order', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('step_type', sa.Enum('email', 'in_app_message', 'task', 'wait', 'condition', 'webhook', 'segment_update', 'health_check', 'human_touchpoint', name='step_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('wait_days', sa.Integer(), nullable=True),
    sa.Column('wait_until_event', sa.String(length=100), nullable=True),
    sa.Column('condition_rules', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('next_step_id', sa.Integer(), nullable=True),
    sa.Column('true_next_step_id', sa.Integer(), nullable=True),
    sa.Column('false_next_step_id', sa.Integer(), nullable=True),
    sa.Column('times_executed', sa.Integer(), nullable=False),
    sa.Column('success_count', sa.Integer(), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['false_next_step_id'], ['cs_journey_steps.id'], name=op.f('fk_cs_journey_steps_false_next_step_id_cs_journey_steps')),
    sa.ForeignKeyConstraint(['journey_id'], ['cs_journeys.id'], name=op.f('fk_cs_journey_steps_journey_id_cs_journeys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['next_step_id'], ['cs_journey_steps.id'], name=op.f('fk_cs_journey_steps_next_step_id_cs_journey_steps')),
    sa.ForeignKeyConstraint(['true_next_step_id'], ['cs_journey_steps.id'], name=op.f('fk_cs_journey_steps_true_next_step_id_cs_journey_steps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_journey_steps')),
    sa.UniqueConstraint('journey_id', 'version', 'key', name=op.f('uq_cs_journey_steps_journey_id_version_key'))
    )
    op.create_table('cs_playbooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category', sa.Enum('onboarding', 'adoption', 'renewal', 'churn_risk', 'expansion', 'escalation', 'qbr', 'executive_sponsor', 'custom', name='category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('trigger_health_threshold', sa.Integer(), nullable=True),
    sa.Column('trigger_days_to_renewal', sa.Integer(), nullable=True),
    sa.Column('trigger_event', sa.String(length=100), nullable=True),
    sa.Column('trigger_segment_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.Enum('low', 'medium', 'high', 'critical', name='priority', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('auto_assign', sa.Boolean(), nullable=False),
    sa.Column('cooldown_days', sa.Integer(), nullable=True),
    sa.Column('estimated_hours', sa.Double(), nullable=True),
    sa.Column('success_criteria', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('times_triggered', sa.Integer(), nullable=False),
    sa.Column('times_completed', sa.Integer(), nullable=False),
    sa.Column('avg_completion_days', sa.Double(), nullable=True),
    sa.Column('success_rate', sa.Double(), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['trigger_segment_id'], ['cs_segments.id'], name=op.f('fk_cs_playbooks_trigger_segment_id_cs_segments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_playbooks')),
    sa.UniqueConstraint('key', name=op.f('uq_cs_playbooks_key'))
    )
    op.create_table('cs_playbook_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('playbook_id', sa.Integer(), nullable=False),
    sa.Column('step_order', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('step_type', sa.Enum('call', 'email', 'meeting', 'internal_task', 'product_demo', 'training', 'review', 'escalation', 'custom', name='step_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('default_assignee_role', sa.String(length=50), nullable=True),
    sa.Column('days_from_start', sa.Integer(), nullable=True),
    sa.Column('due_days', sa.Integer(), nullable=True),
    sa.Column('email_template_id', sa.Integer(), nullable=True),
    sa.Column('email_template', sa.String(length=100), nullable=True),
    sa.Column('meeting_agenda_template', sa.Text(), nullable=True),
    sa.Column('talk_track', sa.Text(), nullable=True),
    sa.Column('required_artifacts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('recurring', sa.String(length=20), nullable=True),
    sa.Column('duration_weeks', sa.Integer(), nullable=True),
    sa.Column('success_criteria', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['playbook_id'], ['cs_playbooks.id'], name=op.f('fk_cs_playbook_steps_playbook_id_cs_playbooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_playbook_steps'))
    )
    with op.batch_alter_table('cs_playbook_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_playbook_steps_playbook_id_step_order'), ['playbook_id', 'step_order'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('arr', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('plan', sa.String(length=100), nullable=True),
    sa.Column('seats', sa.Integer(), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('contract_start', sa.Date(), nullable=True),
    sa.Column('renewal_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('active', 'churned', name='customer_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('churned_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('csm_id', sa.Integer(), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['csm_id'], ['api_users.id'], name=op.f('fk_customers_csm_id_api_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('external_id', name=op.f('uq_customers_external_id'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_csm_id'), ['csm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_renewal_date'), ['renewal_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_status'), ['status'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=100), nullable=True),
    sa.Column('is_champion', sa.Boolean(), nullable=False),
    sa.Column('is_exec_sponsor', sa.Boolean(), nullable=False),
    sa.Column('left_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contacts_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('external_id', name=op.f('uq_contacts_external_id'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table('cs_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('alert_type', sa.String(length=50), nullable=False),
    sa.Column('severity', sa.Enum('info', 'warning', 'critical', name='severity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', 'resolved', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raised_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_user_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_user_id'], ['api_users.id'], name=op.f('fk_cs_alerts_acknowledged_by_user_id_api_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_alerts_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_user_id'], ['api_users.id'], name=op.f('fk_cs_alerts_resolved_by_user_id_api_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_alerts'))
    )
    with op.batch_alter_table('cs_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_alerts_customer_id_alert_type_status'), ['customer_id', 'alert_type', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_alerts_status_created_at'), ['status', 'created_at'], unique=False)

    op.create_table('cs_audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=100), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['api_users.id'], name=op.f('fk_cs_audit_log_actor_user_id_api_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_audit_log_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_audit_log'))
    )
    with op.batch_alter_table('cs_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_audit_log_entity_type_entity_id'), ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_audit_log_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('cs_customer_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('exited_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_customer_segments_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['cs_segments.id'], name=op.f('fk_cs_customer_segments_segment_id_cs_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_customer_segments'))
    )
    with op.batch_alter_table('cs_customer_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_customer_segments_customer_id_exited_at'), ['customer_id', 'exited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_customer_segments_segment_id_exited_at'), ['segment_id', 'exited_at'], unique=False)

    op.create_table('cs_domain_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_domain_events_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_domain_events'))
    )
    with op.batch_alter_table('cs_domain_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_domain_events_customer_id_occurred_at'), ['customer_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_domain_events_event_type_id'), ['event_type', 'id'], unique=False)

    op.create_table('cs_health_score_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('overall_score', sa.Integer(), nullable=False),
    sa.Column('health_status', sa.Enum('healthy', 'at_risk', 'critical', 'churned', name='health_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('product_adoption_score', sa.Integer(), nullable=True),
    sa.Column('engagement_score', sa.Integer(), nullable=True),
    sa.Column('relationship_score', sa.Integer(), nullable=True),
    sa.Column('financial_score', sa.Integer(), nullable=True),
    sa.Column('support_score', sa.Integer(), nullable=True),
    sa.Column('churn_probability', sa.Double(), nullable=True),
    sa.Column('scorecard_version', sa.String(length=64), nullable=True),
    sa.Column('measures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('calculated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_health_score_history_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_health_score_history')),
    sa.UniqueConstraint('customer_id', 'as_of', name=op.f('uq_cs_health_score_history_customer_id_as_of'))
    )
    with op.batch_alter_table('cs_health_score_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_health_score_history_as_of'), ['as_of'], unique=False)

    op.create_table('cs_health_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('overall_score', sa.Integer(), nullable=False),
    sa.Column('health_status', sa.Enum('healthy', 'at_risk', 'critical', 'churned', name='health_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('product_adoption_score', sa.Integer(), nullable=True),
    sa.Column('engagement_score', sa.Integer(), nullable=True),
    sa.Column('relationship_score', sa.Integer(), nullable=True),
    sa.Column('financial_score', sa.Integer(), nullable=True),
    sa.Column('support_score', sa.Integer(), nullable=True),
    sa.Column('churn_probability', sa.Double(), nullable=True),
    sa.Column('expansion_probability', sa.Double(), nullable=True),
    sa.Column('nps_predicted', sa.Integer(), nullable=True),
    sa.Column('days_since_last_login', sa.Integer(), nullable=True),
    sa.Column('days_to_renewal', sa.Integer(), nullable=True),
    sa.Column('score_trend', sa.Enum('improving', 'stable', 'declining', name='score_trend', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('score_change_30d', sa.Integer(), nullable=True),
    sa.Column('calculated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_health_scores_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_health_scores')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_cs_health_scores_customer_id'))
    )
    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_health_scores_health_status'), ['health_status'], unique=False)

    op.create_table('cs_playbook_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('playbook_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'completed', 'cancelled', name='run_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('triggered_by', sa.String(length=50), nullable=False),
    sa.Column('trigger_reason', sa.Text(), nullable=True),
    sa.Column('started_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('baseline_health_score', sa.Integer(), nullable=True),
    sa.Column('success', sa.Boolean(), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_playbook_runs_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['playbook_id'], ['cs_playbooks.id'], name=op.f('fk_cs_playbook_runs_playbook_id_cs_playbooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_playbook_runs'))
    )
    with op.batch_alter_table('cs_playbook_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_playbook_runs_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_playbook_runs_playbook_id_customer_id_status'), ['playbook_id', 'customer_id', 'status'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_invoices_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('external_id', name=op.f('uq_invoices_external_id'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_customer_id_due_on'), ['customer_id', 'due_on'], unique=False)

    op.create_table('cs_journey_enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('journey_version', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('active', 'completed', 'exited', 'failed', name='enrollment_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('current_step_id', sa.Integer(), nullable=True),
    sa.Column('next_run_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('enrolled_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exit_reason', sa.Text(), nullable=True),
    sa.Column('success', sa.Boolean(), nullable=True),
    sa.Column('facts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_cs_journey_enrollments_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['current_step_id'], ['cs_journey_steps.id'], name=op.f('fk_cs_journey_enrollments_current_step_id_cs_journey_steps')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_journey_enrollments_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['journey_id'], ['cs_journeys.id'], name=op.f('fk_cs_journey_enrollments_journey_id_cs_journeys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_journey_enrollments'))
    )
    with op.batch_alter_table('cs_journey_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_journey_enrollments_customer_id_status'), ['customer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_journey_enrollments_journey_id_status'), ['journey_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_journey_enrollments_status_next_run_at'), ['status', 'next_run_at'], unique=False)

    op.create_table('cs_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.Enum('email', 'webhook', 'in_app', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('pending', 'held', 'sent', 'failed', 'dead', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('recipient', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_cs_outbox_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_outbox_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_cs_outbox_idempotency_key'))
    )
    with op.batch_alter_table('cs_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_outbox_status_next_attempt_at'), ['status', 'next_attempt_at'], unique=False)

    op.create_table('nps_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('responded_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_nps_responses_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_nps_responses_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nps_responses')),
    sa.UniqueConstraint('external_id', name=op.f('uq_nps_responses_external_id'))
    )
    with op.batch_alter_table('nps_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nps_responses_customer_id_responded_at'), ['customer_id', 'responded_at'], unique=False)

    op.create_table('support_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('priority', sa.Enum('low', 'normal', 'high', 'urgent', name='ticket_priority', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'pending', 'solved', 'closed', name='ticket_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('opened_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('escalated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('satisfaction', sa.SmallInteger(), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_support_tickets_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_support_tickets_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_tickets')),
    sa.UniqueConstraint('external_id', name=op.f('uq_support_tickets_external_id'))
    )
    with op.batch_alter_table('support_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_tickets_customer_id_opened_at'), ['customer_id', 'opened_at'], unique=False)

    op.create_table('cs_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('playbook_id', sa.Integer(), nullable=True),
    sa.Column('playbook_step_id', sa.Integer(), nullable=True),
    sa.Column('playbook_run_id', sa.Integer(), nullable=True),
    sa.Column('journey_enrollment_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('task_type', sa.Enum('call', 'email', 'meeting', 'internal', 'review', 'escalation', 'follow_up', 'custom', name='task_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('assigned_to_user_id', sa.Integer(), nullable=True),
    sa.Column('assigned_to_role', sa.String(length=50), nullable=True),
    sa.Column('priority', sa.Enum('low', 'medium', 'high', 'critical', name='priority', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'in_progress', 'completed', 'cancelled', 'blocked', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('blocked_reason', sa.Text(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('completed_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('successful', 'unsuccessful', 'rescheduled', 'no_response', name='outcome', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('outcome_notes', sa.Text(), nullable=True),
    sa.Column('time_spent_minutes', sa.Integer(), nullable=True),
    sa.Column('updated_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_user_id'], ['api_users.id'], name=op.f('fk_cs_tasks_assigned_to_user_id_api_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_tasks_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['journey_enrollment_id'], ['cs_journey_enrollments.id'], name=op.f('fk_cs_tasks_journey_enrollment_id_cs_journey_enrollments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['playbook_id'], ['cs_playbooks.id'], name=op.f('fk_cs_tasks_playbook_id_cs_playbooks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['playbook_run_id'], ['cs_playbook_runs.id'], name=op.f('fk_cs_tasks_playbook_run_id_cs_playbook_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['playbook_step_id'], ['cs_playbook_steps.id'], name=op.f('fk_cs_tasks_playbook_step_id_cs_playbook_steps'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_tasks'))
    )
    with op.batch_alter_table('cs_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_tasks_assigned_to_user_id_status_due_date'), ['assigned_to_user_id', 'status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_tasks_customer_id_status'), ['customer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_tasks_journey_enrollment_id'), ['journey_enrollment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_tasks_playbook_run_id'), ['playbook_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_tasks_status_due_date'), ['status', 'due_date'], unique=False)

    op.create_table('cs_touchpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_type', sa.Enum('email_sent', 'email_opened', 'email_clicked', 'call', 'meeting', 'webinar', 'support_ticket', 'product_login', 'feature_usage', 'nps_response', 'qbr', 'escalation', 'renewal_discussion', 'in_app_message', 'custom', name='touchpoint_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='direction', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('channel', sa.Enum('email', 'phone', 'video', 'in_app', 'in_person', name='channel', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('sentiment_score', sa.Double(), nullable=True),
    sa.Column('sentiment_label', sa.Enum('positive', 'neutral', 'negative', name='sentiment_label', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('key_topics', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('recording_url', sa.String(length=500), nullable=True),
    sa.Column('occurred_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', cs_cli.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_cs_touchpoints_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cs_touchpoints_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['cs_tasks.id'], name=op.f('fk_cs_touchpoints_task_id_cs_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['api_users.id'], name=op.f('fk_cs_touchpoints_user_id_api_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_touchpoints')),
    sa.UniqueConstraint('external_id', name=op.f('uq_cs_touchpoints_external_id'))
    )
    with op.batch_alter_table('cs_touchpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_touchpoints_customer_id_occurred_at'), ['customer_id', 'occurred_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cs_touchpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_touchpoints_customer_id_occurred_at'))

    op.drop_table('cs_touchpoints')
    with op.batch_alter_table('cs_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_tasks_status_due_date'))
        batch_op.drop_index(batch_op.f('ix_cs_tasks_playbook_run_id'))
        batch_op.drop_index(batch_op.f('ix_cs_tasks_journey_enrollment_id'))
        batch_op.drop_index(batch_op.f('ix_cs_tasks_customer_id_status'))
        batch_op.drop_index(batch_op.f('ix_cs_tasks_assigned_to_user_id_status_due_date'))

    op.drop_table('cs_tasks')
    with op.batch_alter_table('support_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_tickets_customer_id_opened_at'))

    op.drop_table('support_tickets')
    with op.batch_alter_table('nps_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nps_responses_customer_id_responded_at'))

    op.drop_table('nps_responses')
    with op.batch_alter_table('cs_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_outbox_status_next_attempt_at'))

    op.drop_table('cs_outbox')
    with op.batch_alter_table('cs_journey_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_journey_enrollments_status_next_run_at'))
        batch_op.drop_index(batch_op.f('ix_cs_journey_enrollments_journey_id_status'))
        batch_op.drop_index(batch_op.f('ix_cs_journey_enrollments_customer_id_status'))

    op.drop_table('cs_journey_enrollments')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_customer_id_due_on'))

    op.drop_table('invoices')
    with op.batch_alter_table('cs_playbook_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_playbook_runs_playbook_id_customer_id_status'))
        batch_op.drop_index(batch_op.f('ix_cs_playbook_runs_customer_id'))

    op.drop_table('cs_playbook_runs')
    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_health_scores_health_status'))

    op.drop_table('cs_health_scores')
    with op.batch_alter_table('cs_health_score_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_health_score_history_as_of'))

    op.drop_table('cs_health_score_history')
    with op.batch_alter_table('cs_domain_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_domain_events_event_type_id'))
        batch_op.drop_index(batch_op.f('ix_cs_domain_events_customer_id_occurred_at'))

    op.drop_table('cs_domain_events')
    with op.batch_alter_table('cs_customer_segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_customer_segments_segment_id_exited_at'))
        batch_op.drop_index(batch_op.f('ix_cs_customer_segments_customer_id_exited_at'))

    op.drop_table('cs_customer_segments')
    with op.batch_alter_table('cs_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_audit_log_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_cs_audit_log_entity_type_entity_id'))

    op.drop_table('cs_audit_log')
    with op.batch_alter_table('cs_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_alerts_status_created_at'))
        batch_op.drop_index(batch_op.f('ix_cs_alerts_customer_id_alert_type_status'))

    op.drop_table('cs_alerts')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_customer_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_status'))
        batch_op.drop_index(batch_op.f('ix_customers_renewal_date'))
        batch_op.drop_index(batch_op.f('ix_customers_csm_id'))

    op.drop_table('customers')
    with op.batch_alter_table('cs_playbook_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_playbook_steps_playbook_id_step_order'))

    op.drop_table('cs_playbook_steps')
    op.drop_table('cs_playbooks')
    op.drop_table('cs_journey_steps')
    with op.batch_alter_table('api_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_users_team_id'))

    op.drop_table('api_users')
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_events_customer_id'))

    op.drop_table('usage_events')
    op.drop_table('teams')
    op.drop_table('cs_segments')
    op.drop_table('cs_journeys')
    with op.batch_alter_table('cs_job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_job_runs_job_started_at'))

    op.drop_table('cs_job_runs')
    with op.batch_alter_table('cs_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_imports_entity_file_sha256'))

    op.drop_table('cs_imports')
