"""failed values from site (S13, S25): an issue per failed measurement entry; the `out-of-limits` failure mode

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:50:00.000000
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('quality_issue', sa.Column('measurement_ref', sqlmodel.sql.sqltypes.AutoString(length=300),
                                             nullable=True))
    op.create_index('ix_quality_issue_measurement', 'quality_issue', ['measurement_ref'], unique=True)
    seeded_at = datetime.now(UTC)
    failure_mode = sa.table("failure_mode", sa.column("code"), sa.column("name"), sa.column("description"),
                            sa.column("active"), sa.column("version"), sa.column("created_at"),
                            sa.column("created_by"), sa.column("updated_at"), sa.column("updated_by"))
    op.bulk_insert(failure_mode, [{
        "code": "out-of-limits", "name": "Measured value outside its acceptance limits",
        "description": "Registered automatically from a failed check-sheet value recorded on site (S13).",
        "active": True, "version": 1, "created_at": seeded_at, "created_by": "migration-0003",
        "updated_at": seeded_at, "updated_by": "migration-0003"}])


def downgrade() -> None:
    op.execute("DELETE FROM failure_mode WHERE code = 'out-of-limits' "
               "AND NOT EXISTS (SELECT 1 FROM quality_issue WHERE failure_mode = 'out-of-limits')")
    op.drop_index('ix_quality_issue_measurement', table_name='quality_issue')
    op.drop_column('quality_issue', 'measurement_ref')
