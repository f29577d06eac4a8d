"""resumable evidence uploads (S19, decision 0092): the upload session and the offsets of its stored chunks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 16:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evidence_upload',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('length', sa.BigInteger(), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('chunk_offsets', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attached_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attached_id', sa.Uuid(), nullable=True),
    sa.Column('important', sa.Boolean(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence_id', sa.Uuid(), nullable=True),
    sa.Column('failure', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['visit_id'], ['site_visit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_evidence_upload_visit_id'), 'evidence_upload', ['visit_id'], unique=False)
    op.create_index(op.f('ix_evidence_upload_expires_at'), 'evidence_upload', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_evidence_upload_expires_at'), table_name='evidence_upload')
    op.drop_index(op.f('ix_evidence_upload_visit_id'), table_name='evidence_upload')
    op.drop_table('evidence_upload')
