"""personal data (decision 0093): the access log of reads of personal data and the erasure records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('personal_data_access',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('roles', sa.String(length=256), nullable=False),
    sa.Column('subject_kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('endpoint', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_personal_data_access_at', 'personal_data_access', ['at', 'id'], unique=False)
    op.create_index('ix_personal_data_access_subject', 'personal_data_access', ['subject_kind', 'subject'],
                    unique=False)
    op.create_table('personal_data_erasure',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_kind', sa.String(length=32), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('first_erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('erased', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject_kind', 'pseudonym', name='uq_personal_data_erasure_subject')
    )


def downgrade() -> None:
    op.drop_table('personal_data_erasure')
    op.drop_index('ix_personal_data_access_subject', table_name='personal_data_access')
    op.drop_index('ix_personal_data_access_at', table_name='personal_data_access')
    op.drop_table('personal_data_access')
