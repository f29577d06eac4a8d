"""consequences of the standard: S18 change documents, S21 approved exceptions and breaches, S31
declined evaluations, S16 overdue customer reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('process_record', sa.Column('change_document', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('process_record', sa.Column('change_document_evidence_id', sa.Uuid(), nullable=True))
    op.add_column('leave_request', sa.Column('exception_approved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('leave_request', sa.Column('breach_flagged_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('training_session', sa.Column('evaluation_declined', sa.Boolean(), nullable=False,
                                                server_default=sa.false()))
    op.add_column('site_visit', sa.Column('report_overdue_due', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('site_visit', 'report_overdue_due')
    op.drop_column('training_session', 'evaluation_declined')
    op.drop_column('leave_request', 'breach_flagged_at')
    op.drop_column('leave_request', 'exception_approved_at')
    op.drop_column('process_record', 'change_document_evidence_id')
    op.drop_column('process_record', 'change_document')
