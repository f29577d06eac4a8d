"""missed sign-in (S10): a working day of an open visit without the engineer's sign-in, flagged once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('missed_sign_in',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('engineer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('log_missed', sa.Boolean(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['site_visit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('visit_id', 'engineer_id', 'day')
    )
    op.create_index(op.f('ix_missed_sign_in_visit_id'), 'missed_sign_in', ['visit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_missed_sign_in_visit_id'), table_name='missed_sign_in')
    op.drop_table('missed_sign_in')
