"""consequences of the standard: S6 items and S16 reporting period from the plan, S22-S24 answers on a unit's
behalf, S24 mediation and escalation

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('service_plan', sa.Column('preparation_items', postgresql.JSONB(astext_type=sa.Text()),
                                            nullable=False, server_default='[]'))
    op.add_column('service_plan', sa.Column('report_period_days', sa.Integer(), nullable=False,
                                            server_default='7'))
    op.add_column('routed_item', sa.Column('answered_on_behalf', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column('routed_item', sa.Column('mediation', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('routed_item', sa.Column('mediated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('routed_item', sa.Column('mediated_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('routed_item', sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('routed_item', 'escalated_at')
    op.drop_column('routed_item', 'mediated_at')
    op.drop_column('routed_item', 'mediated_by')
    op.drop_column('routed_item', 'mediation')
    op.drop_column('routed_item', 'answered_on_behalf')
    op.drop_column('service_plan', 'report_period_days')
    op.drop_column('service_plan', 'preparation_items')
