"""Preparation phase (S2-S6), engineers and staffing (S3, S12), routing (S22-S24).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:54:53.512541
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('engineer',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=False),
    sa.Column('home_region', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('skills', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('certificates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('unavailability', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_engineer_home_region'), 'engineer', ['home_region'], unique=False)
    op.create_table('routed_item',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('details', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('raised_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('assigned_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_routed_item_case_id'), 'routed_item', ['case_id'], unique=False)
    op.create_index(op.f('ix_routed_item_status'), 'routed_item', ['status'], unique=False)
    op.create_table('specification_template',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('equipment_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('difficulty', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('revision_note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('issue_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('template_id', 'version')
    )
    op.create_index(op.f('ix_specification_template_equipment_type'), 'specification_template', ['equipment_type'], unique=False)
    op.create_index(op.f('ix_specification_template_template_id'), 'specification_template', ['template_id'], unique=False)
    op.create_table('staffing_policy',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rules', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('required_certificates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('condition_call',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('new_date', sa.Date(), nullable=True),
    sa.Column('due_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_condition_call_case', 'condition_call', ['case_id', 'called_at'], unique=False)
    op.create_index('ix_condition_call_due', 'condition_call', ['outcome', 'new_date'], unique=False)
    op.create_table('engineer_assignment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('engineer_id', sa.String(length=64), nullable=False),
    sa.Column('is_project_manager', sa.Boolean(), nullable=False),
    sa.Column('planned_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('planned_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_engineer_assignment_case', 'engineer_assignment', ['case_id'], unique=False)
    op.create_index('ix_engineer_assignment_engineer', 'engineer_assignment', ['engineer_id', 'planned_start'], unique=False)
    op.create_table('preparation_checklist',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_table('service_plan',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('goals', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('steps', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('risk_measures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('submitted_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'revision')
    )
    op.create_index(op.f('ix_service_plan_case_id'), 'service_plan', ['case_id'], unique=False)
    op.create_table('specification_pack',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('sheets', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('templates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_specification_pack_case_id'), 'specification_pack', ['case_id'], unique=False)
    op.create_table('staffing_request',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('risk_id', sa.Uuid(), nullable=False),
    sa.Column('engineers_requested', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('customer_deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fulfilled_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('risk_id')
    )
    op.create_index(op.f('ix_staffing_request_case_id'), 'staffing_request', ['case_id'], unique=False)
    op.add_column('service_case', sa.Column('required_arrival', sa.DateTime(timezone=True), nullable=True))
    op.add_column('service_case', sa.Column('customer_deadline', sa.DateTime(timezone=True), nullable=True))
    op.add_column('service_case', sa.Column('conditions_confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('service_case', sa.Column('staffed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('service_case', sa.Column('staffing_policy_version', sa.Integer(), nullable=True))
    op.add_column('service_case', sa.Column('dispatched_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.drop_column('service_case', 'dispatched_by')
    op.drop_column('service_case', 'staffing_policy_version')
    op.drop_column('service_case', 'staffed_at')
    op.drop_column('service_case', 'conditions_confirmed_at')
    op.drop_column('service_case', 'customer_deadline')
    op.drop_column('service_case', 'required_arrival')
    op.drop_index(op.f('ix_staffing_request_case_id'), table_name='staffing_request')
    op.drop_table('staffing_request')
    op.drop_index(op.f('ix_specification_pack_case_id'), table_name='specification_pack')
    op.drop_table('specification_pack')
    op.drop_index(op.f('ix_service_plan_case_id'), table_name='service_plan')
    op.drop_table('service_plan')
    op.drop_table('preparation_checklist')
    op.drop_index('ix_engineer_assignment_engineer', table_name='engineer_assignment')
    op.drop_index('ix_engineer_assignment_case', table_name='engineer_assignment')
    op.drop_table('engineer_assignment')
    op.drop_index('ix_condition_call_due', table_name='condition_call')
    op.drop_index('ix_condition_call_case', table_name='condition_call')
    op.drop_table('condition_call')
    op.drop_table('staffing_policy')
    op.drop_index(op.f('ix_specification_template_template_id'), table_name='specification_template')
    op.drop_index(op.f('ix_specification_template_equipment_type'), table_name='specification_template')
    op.drop_table('specification_template')
    op.drop_index(op.f('ix_routed_item_status'), table_name='routed_item')
    op.drop_index(op.f('ix_routed_item_case_id'), table_name='routed_item')
    op.drop_table('routed_item')
    op.drop_index(op.f('ix_engineer_home_region'), table_name='engineer')
    op.drop_table('engineer')
