"""offline sync for field clients (decision 0091): the client's time of the act beside the receipt time,
and the change log behind the changes feed, numbered in commit order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (the act's time added, the receipt time it starts from for rows written before)
ACT_TIMES = {
    'daily_log': 'submitted_at',
    'process_data_record': 'recorded_at',
    'process_data_reading': 'recorded_at',
    'safety_checklist': 'checked_at',
}


def upgrade() -> None:
    for table, received in ACT_TIMES.items():
        op.add_column(table, sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True))
        op.execute(f'UPDATE {table} SET occurred_at = {received}')
        op.alter_column(table, 'occurred_at', nullable=False)
    op.add_column('daily_presence', sa.Column('in_recorded_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('daily_presence', sa.Column('out_recorded_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE daily_presence SET in_recorded_at = checked_in_at, out_recorded_at = checked_out_at')
    op.alter_column('daily_presence', 'in_recorded_at', nullable=False)
    op.add_column('site_task', sa.Column('done_recorded_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE site_task SET done_recorded_at = done_at')

    op.execute(sa.schema.CreateSequence(sa.Sequence('visit_change_seq')))
    op.create_table(
        'visit_change',
        sa.Column('seq', sa.BigInteger(), server_default=sa.text("nextval('visit_change_seq')"), nullable=False),
        sa.Column('visit_id', sa.Uuid(), nullable=False),
        sa.Column('what', sa.String(length=96), nullable=False),
        sa.Column('entity_kind', sa.String(length=64), nullable=False),
        sa.Column('entity_id', sa.String(length=200), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('event_id', sa.Uuid(), nullable=True),
        sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
    )
    op.create_index('ix_visit_change_visit_seq', 'visit_change', ['visit_id', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_visit_change_visit_seq', table_name='visit_change')
    op.drop_table('visit_change')
    op.execute(sa.schema.DropSequence(sa.Sequence('visit_change_seq')))
    op.drop_column('site_task', 'done_recorded_at')
    op.drop_column('daily_presence', 'out_recorded_at')
    op.drop_column('daily_presence', 'in_recorded_at')
    for table in ACT_TIMES:
        op.drop_column(table, 'occurred_at')
