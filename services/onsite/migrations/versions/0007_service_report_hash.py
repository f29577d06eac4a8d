"""S30 service report integrity: the signed report's SHA-256 and the snapshot it is rendered from;
plausible times: the visit's dispatch time

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('site_visit', sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('service_report', sa.Column('report_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('service_report', sa.Column('report_snapshot', postgresql.JSONB(astext_type=sa.Text()),
                                              nullable=True))


def downgrade() -> None:
    op.drop_column('service_report', 'report_snapshot')
    op.drop_column('service_report', 'report_sha256')
    op.drop_column('site_visit', 'dispatched_at')
