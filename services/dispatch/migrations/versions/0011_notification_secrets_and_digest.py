"""notifications (decision 0090): an event's secret fields kept beside a queued message (S34's survey link);
the case timeline indexed by event type and time (S20's daily digest)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 16:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('notification', sa.Column('secrets', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
                                            nullable=True))
    op.create_index('ix_case_event_type_time', 'case_event', ['event_type', 'occurred_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_event_type_time', table_name='case_event')
    op.drop_column('notification', 'secrets')
