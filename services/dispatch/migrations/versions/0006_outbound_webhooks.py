"""outbound webhooks: subscriptions, the events queued for them, deliveries and their attempts (decision 0083)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'webhook_subscription',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('event_types', postgresql.ARRAY(sa.String(length=96)), nullable=True),
        sa.Column('region', sa.String(length=64), nullable=True),
        sa.Column('description', sa.String(length=500), server_default='', nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=500), nullable=True),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('previous_secret', sa.String(length=128), nullable=True),
        sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'webhook_event',
        sa.Column('event_id', sa.Uuid(), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('event_type', sa.String(length=96), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('event_id'),
    )
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('subscription_id', sa.Uuid(), nullable=False),
        sa.Column('event_id', sa.Uuid(), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('event_type', sa.String(length=96), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('dead_lettered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['webhook_event.event_id']),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seq'),
        sa.UniqueConstraint('subscription_id', 'event_id', name='uq_webhook_delivery_subscription_event'),
    )
    op.create_index(op.f('ix_webhook_delivery_event_id'), 'webhook_delivery', ['event_id'], unique=False)
    op.create_index('ix_webhook_delivery_pending_order', 'webhook_delivery', ['subscription_id', 'case_id', 'seq'],
                    unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_webhook_delivery_pending_due', 'webhook_delivery', ['next_attempt_at'], unique=False,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_webhook_delivery_subscription_list', 'webhook_delivery',
                    ['subscription_id', 'created_at', 'id'], unique=False)
    op.create_table(
        'webhook_attempt',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('delivery_id', sa.Uuid(), nullable=False),
        sa.Column('subscription_id', sa.Uuid(), nullable=False),
        sa.Column('event_id', sa.Uuid(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('latency_ms', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_webhook_attempt_delivery_id'), 'webhook_attempt', ['delivery_id'], unique=False)
    op.create_index('ix_webhook_attempt_subscription_time', 'webhook_attempt',
                    ['subscription_id', 'attempted_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_attempt_subscription_time', table_name='webhook_attempt')
    op.drop_index(op.f('ix_webhook_attempt_delivery_id'), table_name='webhook_attempt')
    op.drop_table('webhook_attempt')
    op.drop_index('ix_webhook_delivery_subscription_list', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_pending_due', table_name='webhook_delivery',
                  postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_webhook_delivery_pending_order', table_name='webhook_delivery',
                  postgresql_where=sa.text("status = 'pending'"))
    op.drop_index(op.f('ix_webhook_delivery_event_id'), table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_event')
    op.drop_table('webhook_subscription')
