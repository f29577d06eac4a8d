"""failed value dispositions (S13, S25): every reading kept as history; a failed entry's disposition

Existing entries get their current value as their first reading.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('process_data_reading',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['process_data_record.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['site_visit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_process_data_reading_record_id'), 'process_data_reading', ['record_id'], unique=False)
    op.create_index(op.f('ix_process_data_reading_visit_id'), 'process_data_reading', ['visit_id'], unique=False)
    op.add_column('process_data_record', sa.Column('disposition', sa.String(length=16), nullable=True))
    op.add_column('process_data_record', sa.Column('issue_id', sa.Uuid(), nullable=True))
    op.add_column('process_data_record', sa.Column('concession_reason', sqlmodel.sql.sqltypes.AutoString(),
                                                   nullable=True))
    op.add_column('process_data_record', sa.Column('concession_witness_id', sa.Uuid(), nullable=True))
    op.add_column('process_data_record', sa.Column('disposed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('process_data_record', sa.Column('disposed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "INSERT INTO process_data_reading (id, record_id, visit_id, value, unit, passed, recorded_by, recorded_at) "
        "SELECT gen_random_uuid(), id, visit_id, value, unit, passed, recorded_by, recorded_at "
        "FROM process_data_record"
    )


def downgrade() -> None:
    for column in ('disposed_at', 'disposed_by', 'concession_witness_id', 'concession_reason', 'issue_id',
                   'disposition'):
        op.drop_column('process_data_record', column)
    op.drop_index(op.f('ix_process_data_reading_visit_id'), table_name='process_data_reading')
    op.drop_index(op.f('ix_process_data_reading_record_id'), table_name='process_data_reading')
    op.drop_table('process_data_reading')
