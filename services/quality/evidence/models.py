"""Evidence file table and its API shape."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field as SQLField

from services.quality.issues.models import OnIssue
from shared.api.shapes import RowRead


class IssueEvidence(OnIssue, table=True):
    """A file attached to an issue; the bytes live in the evidence folder, the SHA-256 here."""

    __tablename__ = "issue_evidence"
    __table_args__ = (Index("ix_issue_evidence_issue", "issue_id", "uploaded_at"),)

    filename: str = SQLField(max_length=255)
    content_type: str = SQLField(max_length=100)
    size_bytes: int
    sha256: str = SQLField(max_length=64)
    storage_key: str = SQLField(max_length=300)
    uploaded_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    uploaded_by: str


class IssueEvidenceRead(RowRead):
    issue_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
